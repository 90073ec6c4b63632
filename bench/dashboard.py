"""What the dashboard costs the daemon: RSS and CPU with N programs, idle, then with one
dashboard stream open (the page's one connection; a browser only adds its own rendering).

    python3 bench/dashboard.py [--programs 200] [--seconds 60] [--bin target/release/supervisord]

Prints the daemon's RSS (VmRSS) idle, after the stream has been open for the run, and its CPU
(utime + stime from /proc/PID/stat) over the run, idle and watched.
"""

import argparse
import base64
import http.client
import os
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_secs(pid):
    stat = Path("/proc/%d/stat" % pid).read_text()
    fields = stat[stat.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--programs", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "supervisord"))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dash-bench-"))
    port = free_port()
    conf = ["[inet_http_server]", "port=127.0.0.1:%d" % port, "username=u", "password=p",
            "[supervisord]", "logfile=%s/d.log" % tmp, "pidfile=%s/d.pid" % tmp,
            "childlogdir=%s" % tmp, "nodaemon=true"]
    for i in range(args.programs):
        conf += ["[program:p%03d]" % i, "command=sleep 100000", "startsecs=0"]
    (tmp / "s.conf").write_text("\n".join(conf) + "\n")
    d = subprocess.Popen([args.bin, "-c", str(tmp / "s.conf")], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        time.sleep(5)
        idle_rss = rss_kib(d.pid)
        c0 = cpu_secs(d.pid)
        time.sleep(args.seconds)
        idle_cpu = cpu_secs(d.pid) - c0

        auth = "Basic " + base64.b64encode(b"u:p").decode()
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/dashboard/api/events", headers={"Authorization": auth})
        resp = conn.getresponse()
        got = {"bytes": 0}
        stop = threading.Event()

        def read():
            while not stop.is_set():
                try:
                    chunk = resp.read1(65536)
                except (AttributeError, OSError, ValueError):
                    break
                if not chunk:
                    break
                got["bytes"] += len(chunk)
        t = threading.Thread(target=read, daemon=True)
        t.start()
        time.sleep(2)
        c0 = cpu_secs(d.pid)
        time.sleep(args.seconds)
        watched_cpu = cpu_secs(d.pid) - c0
        watched_rss = rss_kib(d.pid)
        stop.set()
        conn.close()
        print("programs: %d, run: %.0f s" % (args.programs, args.seconds))
        print("RSS idle: %.2f MiB; with one stream open %.0f s: %.2f MiB (+%.2f MiB)" % (
            idle_rss / 1024, args.seconds, watched_rss / 1024, (watched_rss - idle_rss) / 1024))
        print("CPU idle: %.2f%% of a core; watched: %.2f%% of a core; stream: %.1f KiB/s" % (
            100 * idle_cpu / args.seconds, 100 * watched_cpu / args.seconds,
            got["bytes"] / 1024 / (args.seconds + 2)))
    finally:
        d.terminate()
        d.wait(60)


if __name__ == "__main__":
    main()
