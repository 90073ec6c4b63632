"""Child programs for the dependency, readiness and health tests (one script, a mode each).

  svc.py db PORT GOFILE      wait until GOFILE exists, then listen on 127.0.0.1:PORT (exit 3
                             when the port is taken) and accept connections for ever
  svc.py once CODE           print a line and exit with CODE
  svc.py notify BEATS        send READY=1 to $NOTIFY_SOCKET, then BEATS x WATCHDOG=1 (0.2 s
                             apart), then nothing more (hang)
  svc.py http PORT OK        answer GET with 200 for OK requests, then 500 (exit 3 when the
                             port is taken)
  svc.py linger SECS FILE    once its SIGTERM handler is in place, create FILE and hang; on
                             SIGTERM, exit 0 SECS seconds later
"""

import os
import signal
import socket
import sys
import time


def hang():
    while True:
        time.sleep(3600)


def listen(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError as e:
        print("bind failed: %s" % e, flush=True)
        sys.exit(3)
    s.listen(16)
    print("listening on %d" % port, flush=True)
    return s


def main():
    mode = sys.argv[1]
    if mode == "db":
        port, go = int(sys.argv[2]), sys.argv[3]
        print("db waiting for %s" % go, flush=True)
        while not os.path.exists(go):
            time.sleep(0.05)
        s = listen(port)
        while True:
            c, _ = s.accept()
            c.close()
    elif mode == "once":
        print("migrated", flush=True)
        sys.exit(int(sys.argv[2]))
    elif mode == "notify":
        beats = int(sys.argv[2])
        addr = os.environ["NOTIFY_SOCKET"]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(b"STATUS=up\nREADY=1", addr)
        for _ in range(beats):
            time.sleep(0.2)
            s.sendto(b"WATCHDOG=1", addr)
        print("watchdog stopped", flush=True)
        hang()
    elif mode == "http":
        port, ok = int(sys.argv[2]), int(sys.argv[3])
        s = listen(port)
        served = 0
        while True:
            c, _ = s.accept()
            c.recv(4096)
            served += 1
            status = "200 OK" if served <= ok else "500 Internal Server Error"
            c.sendall(("HTTP/1.0 %s\r\nContent-Length: 0\r\n\r\n" % status).encode())
            c.close()
    elif mode == "linger":
        secs, ready = float(sys.argv[2]), sys.argv[3]

        def term(*_):
            print("terminating in %s s" % secs, flush=True)
            time.sleep(secs)
            sys.exit(0)
        signal.signal(signal.SIGTERM, term)
        open(ready, "w").close()
        hang()
    else:
        sys.exit("unknown mode %s" % mode)


if __name__ == "__main__":
    main()
