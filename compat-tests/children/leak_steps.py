"""A leaking program for the dashboard tests: prints a line, then grows its resident memory by
STEP MiB (touched, so it is resident) every INTERVAL seconds until a memory_limit restarts it
(arguments: STEP INTERVAL)."""
import sys
import time

step = int(sys.argv[1]) if len(sys.argv) > 1 else 2
interval = float(sys.argv[2]) if len(sys.argv) > 2 else 0.25
print("leak started", flush=True)
hoard = []
while True:
    block = bytearray(step * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    hoard.append(block)
    time.sleep(interval)
