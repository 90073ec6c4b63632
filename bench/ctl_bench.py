"""supervisorctl side by side: the stock 4.2.5 client (Python) against ours, per invocation.

    bench/ctl.sh [--runs N] [--daemons ours,ref] [--programs 200]

For each daemon (ours and the reference, one after the other), a config with 200 programs
(`sleep infinity`, startsecs=0; one of them is `x`) is started; when all are RUNNING,
the two clients run alternately (stock, ours, stock, ours, ...) N times each:

- `supervisorctl -c CONF status` (200 lines; exit status 0);
- `supervisorctl -c CONF restart x` (stop, then start: two waits on the daemon).

Each invocation is one posix_spawn of the client and one wait4: the wall time is from the
spawn to the exit as the parent sees it (start-up, connecting, the calls, the output, exit).
Stdout goes to a pipe that is read to the end, as a script reading the output would. The
peak RSS is taken in separate runs under GNU time (`/usr/bin/time -f %M`, its fork's
ru_maxrss): a child spawned from this Python driver would count the driver's own 13 MiB in
its ru_maxrss (the address space it shares until exec), which a 1 MiB launcher does not. Medians over the runs are printed; the clients' outputs are
also compared (after normalising pids and uptimes), so a figure is never taken from a client
that printed something else.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def config(tmp, programs):
    text = """[unix_http_server]
file={tmp}/s.sock

[supervisord]
logfile={tmp}/supervisord.log
pidfile={tmp}/supervisord.pid
childlogdir={tmp}
nodaemon=true
minfds={minfds}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{tmp}/s.sock

[program:x]
command=sleep infinity
startsecs=0
""".format(tmp=tmp, minfds=6 * programs + 256)
    for i in range(programs - 1):  # x is one of the programs
        text += "\n[program:p%03d]\ncommand=sleep infinity\nstartsecs=0\n" % i
    path = os.path.join(tmp, "supervisord.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def run_client(argv):
    """(wall seconds, peak RSS KiB, exit status, stdout)."""
    r, w = os.pipe()
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, w, 1),
                                       (os.POSIX_SPAWN_CLOSE, r)])
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    return wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status), b"".join(chunks).decode()


TIME = "/usr/bin/time"


def peak_rss_kib(argv):
    """The client's peak RSS in KiB, measured by GNU time."""
    with tempfile.NamedTemporaryFile("r") as f:
        subprocess.run([TIME, "-f", "%M", "-o", f.name] + argv, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        return int(f.read().split()[-1])


def norm(text):
    return re.sub(r"pid \d+, uptime \d+:\d\d:\d\d", "pid N, uptime T", text)


def wait_running(ctl, conf, n, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        p = subprocess.run([ctl, "-c", conf, "status"], capture_output=True, text=True)
        if p.stdout.count(" RUNNING ") == n:
            return
        time.sleep(0.2)
    raise RuntimeError("not all %d programs RUNNING:\n%s" % (n, p.stdout[-2000:]))


def bench_daemon(kind, daemon, clients, programs, runs):
    tmp = tempfile.mkdtemp(prefix="ctlbench-")
    conf = config(tmp, programs)
    log = open(os.path.join(tmp, "daemon.out"), "wb")
    proc = subprocess.Popen([daemon, "-n", "-c", conf], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    rows = {}
    try:
        wait_running(clients["stock"], conf, programs)
        for label, args, want_rc in (("status (%d programs)" % programs, ["status"], 0),
                                     ("restart x", ["restart", "x"], 0)):
            samples = {"stock": [], "ours": []}
            outputs = {}
            for _ in range(runs):
                for who in ("stock", "ours"):
                    argv = [clients[who], "-c", conf] + args
                    wall, _, rc, out = run_client(argv)
                    if rc != want_rc:
                        raise RuntimeError("%s client: %s exited %s:\n%s" % (who, args, rc, out))
                    samples[who].append((wall, peak_rss_kib(argv)))
                    outputs.setdefault(who, norm(out))
            if outputs["stock"] != outputs["ours"]:
                raise RuntimeError("the clients printed different output for %s:\n%r\n%r"
                                   % (args, outputs["stock"], outputs["ours"]))
            rows[label] = {who: (statistics.median(w for w, _ in s) * 1000,
                                 statistics.median(r for _, r in s) / 1024)
                           for who, s in samples.items()}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stock", required=True, help="the stock supervisorctl")
    ap.add_argument("--ours", required=True, help="our supervisorctl")
    ap.add_argument("--ref-daemon", required=True, help="the reference supervisord")
    ap.add_argument("--our-daemon", required=True, help="our supervisord")
    ap.add_argument("--daemons", default="ours,ref")
    ap.add_argument("--programs", type=int, default=200)
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    if not os.access(TIME, os.X_OK):
        sys.exit("%s (GNU time) is needed for the peak RSS figures" % TIME)
    clients = {"stock": a.stock, "ours": a.ours}
    daemons = {"ours": a.our_daemon, "ref": a.ref_daemon}
    print("Machine: %d CPUs; load average at start %s; %d runs per client, medians"
          % (os.cpu_count(), " ".join("%.2f" % x for x in os.getloadavg()), a.runs))
    print()
    print("| command | daemon | stock: wall ms | ours: wall ms | faster | "
          "stock: peak RSS MiB | ours: peak RSS MiB | less memory |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in a.daemons.split(","):
        rows = bench_daemon(kind, daemons[kind], clients, a.programs, a.runs)
        for label, r in rows.items():
            (sw, sr), (ow, orss) = r["stock"], r["ours"]
            print("| `supervisorctl %s` | %s | %.1f | %.2f | **%.1f×** | %.1f | %.2f | **%.1f×** |"
                  % (label, kind, sw, ow, sw / ow, sr, orss, sr / orss))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
