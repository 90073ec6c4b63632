"""A program that holds about 60 MB of memory and idles (for memmon)."""
import time

hog = bytearray(60 * 1024 * 1024)
for i in range(0, len(hog), 4096):
    hog[i] = 1
while True:
    time.sleep(1)
