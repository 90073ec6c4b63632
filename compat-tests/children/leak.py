"""A leaking program for the memory_limit tests: it starts a child that holds 1 MiB, then
grows its own memory by STEP MiB every INTERVAL seconds (arguments: STEP INTERVAL). The child
makes the process tree's memory larger than the parent's alone."""
import os
import sys
import time

step = int(sys.argv[1]) if len(sys.argv) > 1 else 8
interval = float(sys.argv[2]) if len(sys.argv) > 2 else 0.2
if os.fork() == 0:
    keep = bytearray(1024 * 1024)
    while True:
        time.sleep(3600)
print("leak started", os.getpid(), flush=True)
hoard = []
while True:
    hoard.append(bytearray(os.urandom(16)) * (step * 1024 * 1024 // 16))
    time.sleep(interval)
