#!/usr/bin/env python3
"""Side-by-side benchmark: reference supervisord 4.2.5 (Python) vs ours (Rust).

Usually started through bench/run.sh, which prepares the venv, builds both binaries and
raises `ulimit -n`. Each figure is one function `fig_<name>(d, ctx)` that starts a daemon
of kind `d` ("ref" or "ours") on freshly generated configs, measures, and cleans up
(every process started for a run carries a marker in its environment and is killed by it).
Rounds alternate the daemons (ref ours ref ours ...); the table shows medians.

Only the standard library is used.
"""

import argparse
import ctypes
import json
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
MARKER_VAR = "SUPERVISOR_BENCH_RUN"
LOG_END = "BENCH-END-MARK"
LOG_LINE = "the quick brown fox jumps over the lazy dog 0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ"

now = time.perf_counter


class FigureError(Exception):
    pass


# --------------------------------------------------------------------------------------
# /proc helpers

def proc_children(pid):
    """Direct children of every thread of `pid` (zombies included until reaped)."""
    out = set()
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.update(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def proc_comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def cpu_seconds(pid):
    """utime + stime of the whole process (all threads, live and exited), seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime/stime are fields 14/15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def sched_runtime_ns(pid):
    """Sum of per-thread on-CPU time (ns precision; live threads only)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total


def ctx_switches(pid):
    """voluntary + nonvoluntary context switches summed over all threads."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def rss_pss_mib(pid):
    rss = pss = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss, pss


def fs_type(path):
    try:
        return subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return "?"


# --------------------------------------------------------------------------------------
# Minimal keep-alive XML-RPC client over the unix socket (faster than xmlrpc.client's
# transport, and it reuses one connection like supervisorctl does).

class Rpc:
    def __init__(self, path, timeout=120.0):
        self.path = path
        self.timeout = timeout
        self.sock = None
        self.buf = b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
            self.buf = b""

    def _connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.path)
        except OSError:
            s.close()
            raise
        self.sock = s
        self.buf = b""

    def _read_response(self):
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(262144)
            if not chunk:
                raise ConnectionError("connection closed")
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        clen = None
        for line in lines[1:]:
            k, _, v = line.partition(":")
            if k.strip().lower() == "content-length":
                clen = int(v.strip())
        if clen is None:
            raise ConnectionError("reply without Content-Length")
        parts = [rest]
        have = len(rest)
        while have < clen:
            chunk = self.sock.recv(max(262144, clen - have))
            if not chunk:
                raise ConnectionError("connection closed mid-body")
            parts.append(chunk)
            have += len(chunk)
        body = b"".join(parts)
        self.buf = body[clen:]
        return status, body[:clen]

    def call(self, method, *params):
        return xmlrpc.client.loads(self.call_raw(method, *params))[0][0]

    def call_raw(self, method, *params):
        """The reply's bytes, unparsed: what a native client waits for."""
        req_body = xmlrpc.client.dumps(params, method).encode()
        req = (b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
               b"Content-Length: %d\r\n\r\n" % len(req_body)) + req_body
        for attempt in (0, 1):
            fresh = self.sock is None
            if fresh:
                self._connect()
            try:
                self.sock.sendall(req)
                status, body = self._read_response()
                break
            except (ConnectionError, BrokenPipeError, ConnectionResetError):
                self.close()
                if fresh or attempt:
                    raise
        if status != 200:
            raise FigureError(f"HTTP {status} for {method}")
        return body


# --------------------------------------------------------------------------------------
# Configs and daemons

def program_section(name, opts):
    lines = [f"[program:{name}]"]
    lines += [f"{k}={v}" for k, v in opts.items()]
    return "\n".join(lines) + "\n"


def sleeper(**extra):
    o = {"command": "sleep infinity", "startsecs": "0"}
    o.update(extra)
    return o


def many(n, opts, prefix="p"):
    w = max(4, len(str(n)))
    return {f"{prefix}{i:0{w}d}": dict(opts) for i in range(n)}


class Daemon:
    """One daemon run in a fresh temp dir; use as a context manager."""

    def __init__(self, ctx, kind, programs, minfds=None, logbase=None):
        """`logbase`: make `childlogdir` a fresh directory there (default: in the run's dir)."""
        self.ctx = ctx
        self.kind = kind
        self.exe = ctx.exe[kind]
        self.programs = programs
        self.dir = tempfile.mkdtemp(prefix=f"bench-{kind}-", dir=ctx.workroot)
        self.sock = os.path.join(self.dir, "supervisor.sock")
        self.conf = os.path.join(self.dir, "supervisord.conf")
        self.marker = uuid.uuid4().hex
        self.proc = None
        self.t_exec = None
        n = len(programs)
        if minfds is None:
            minfds = max(1024, 6 * n + 256)
        minfds = min(minfds, ctx.fd_hard)
        if logbase is None:
            self.logdir = os.path.join(self.dir, "logs")
            os.makedirs(self.logdir)
        else:
            self.logdir = tempfile.mkdtemp(prefix=f"bench-childlogs-{kind}-", dir=logbase)
        with open(self.conf, "w") as f:
            f.write(
                "[unix_http_server]\n"
                f"file={self.sock}\n\n"
                "[supervisord]\n"
                f"logfile={self.dir}/supervisord.log\n"
                f"pidfile={self.dir}/supervisord.pid\n"
                f"childlogdir={self.logdir}\n"
                "loglevel=info\n"
                f"minfds={minfds}\n\n"
                "[rpcinterface:supervisor]\n"
                "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
                "[supervisorctl]\n"
                f"serverurl=unix://{self.sock}\n\n"
            )
            for name, opts in programs.items():
                f.write(program_section(name, opts) + "\n")

    @property
    def pid(self):
        return self.proc.pid

    def start(self):
        if not self.exe or not os.path.exists(self.exe):
            raise FigureError(f"no binary for {self.kind}: {self.exe}")
        env = dict(os.environ)
        env[MARKER_VAR] = self.marker
        self.out = open(os.path.join(self.dir, "daemon.out"), "wb")
        self.t_exec = now()
        self.proc = subprocess.Popen([self.exe, "-n", "-c", self.conf], stdout=self.out,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, cwd=self.dir, start_new_session=True)
        return self

    def check_alive(self):
        if self.proc.poll() is not None:
            raise FigureError(f"{self.kind} daemon exited with {self.proc.returncode}: "
                              + self.tail_output())

    def tail_output(self, n=600):
        try:
            with open(os.path.join(self.dir, "daemon.out"), "rb") as f:
                data = f.read()
            return data[-n:].decode(errors="replace").strip().replace("\n", " | ")
        except OSError:
            return ""

    def rpc(self, timeout=120.0):
        return Rpc(self.sock, timeout)

    def wait_answer(self, timeout=30.0, pause=0.0002):
        """Polls the socket as fast as reasonable until getState answers; returns the time."""
        deadline = now() + timeout
        body = xmlrpc.client.dumps((), "supervisor.getState").encode()
        req = (b"POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body)) + body
        while now() < deadline:
            r = Rpc(self.sock, 10.0)
            try:
                r._connect()
                r.sock.sendall(req)
                status, reply = r._read_response()
                if status == 200:
                    xmlrpc.client.loads(reply)
                    return now()
            except (OSError, ConnectionError, xmlrpc.client.Fault):
                pass
            finally:
                r.close()
            if self.proc.poll() is not None:
                self.check_alive()
            time.sleep(pause)
        raise FigureError(f"{self.kind}: socket did not answer within {timeout}s")

    def wait_all_running(self, rpc, n, timeout=120.0, interval=0.01):
        """Polls getAllProcessInfo until n processes are RUNNING; returns the time."""
        deadline = now() + timeout
        last = None
        while now() < deadline:
            self.check_alive()
            try:
                infos = rpc.call("supervisor.getAllProcessInfo")
            except (OSError, ConnectionError):
                rpc.close()
                time.sleep(0.05)
                continue
            t = now()
            running = sum(1 for i in infos if i["statename"] == "RUNNING")
            last = f"{running}/{len(infos)} RUNNING"
            if len(infos) == n and running == n:
                return t
            bad = [i for i in infos if i["statename"] in ("FATAL", "BACKOFF")]
            if bad:
                raise FigureError(f"{bad[0]['name']} is {bad[0]['statename']}: "
                                  f"{bad[0].get('spawnerr', '')}")
            time.sleep(interval)
        raise FigureError(f"{self.kind}: not all RUNNING after {timeout}s ({last})")

    def wait_spawned(self, n, comm, timeout=300.0):
        """Waits (via /proc) until the daemon has n children that exec'd `comm`."""
        deadline = now() + timeout
        while now() < deadline:
            self.check_alive()
            kids = proc_children(self.pid)
            if len(kids) >= n and sum(1 for k in kids if proc_comm(k) == comm) >= n:
                return now()
            time.sleep(0.005)
        raise FigureError(f"{self.kind}: {n} '{comm}' children not seen after {timeout}s")

    def stop(self):
        """Kills the daemon and everything carrying its marker; removes the temp dir."""
        if self.proc is not None:
            kill_marked(self.marker, first=self.proc.pid)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.out.close()
        reap_orphans()
        if not self.ctx.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
            shutil.rmtree(self.logdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def marked_pids(marker):
    needle = f"{MARKER_VAR}={marker}".encode()
    pids = []
    me = os.getpid()
    for e in os.listdir("/proc"):
        if not e.isdigit() or int(e) == me:
            continue
        try:
            with open(f"/proc/{e}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    pids.append(int(e))
        except OSError:
            pass
    return pids


def kill_marked(marker, first=None):
    if first is not None:
        try:
            os.kill(first, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for _ in range(50):
        pids = [p for p in marked_pids(marker) if proc_state(p) not in (None, "Z")]
        if not pids:
            return
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reap_orphans()
        time.sleep(0.05)


def reap_orphans():
    """We are a child subreaper: collect orphans of killed daemons."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def become_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_CHILD_SUBREAPER = 36
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except Exception:
        pass


# --------------------------------------------------------------------------------------
# Figures. Each returns {metric_key: value}; metric metadata lives in METRICS.

# key: (label, unit, better)   better is "low" or "high"
METRICS = {}


def metric(key, label, unit, better):
    METRICS[key] = (label, unit, better)


def fig_memory(d, ctx):
    res = {}
    for n in (1, 200):
        with Daemon(ctx, d, many(n, sleeper())) as dm:
            dm.wait_answer()
            rpc = dm.rpc()
            dm.wait_all_running(rpc, n, interval=0.1)
            rpc.close()
            time.sleep(1.0)
            rss, pss = rss_pss_mib(dm.pid)
            res[f"mem_rss_{n}"] = rss
            if pss is not None:
                res[f"mem_pss_{n}"] = pss
            if n == 200:
                # The same daemon while a client polls it every 100 ms: what it holds when
                # busy (ours sheds pages half a second after its last request; see README).
                rpc = dm.rpc()
                peak = 0.0
                for _ in range(20):
                    rpc.call("supervisor.getAllProcessInfo")
                    time.sleep(0.1)
                    peak = max(peak, rss_pss_mib(dm.pid)[0])
                rpc.close()
                res["mem_rss_200_polled"] = peak
    return res


metric("mem_rss_1", "RSS, 1 program", "MiB", "low")
metric("mem_pss_1", "PSS, 1 program", "MiB", "low")
metric("mem_rss_200", "RSS, 200 programs", "MiB", "low")
metric("mem_pss_200", "PSS, 200 programs", "MiB", "low")
metric("mem_rss_200_polled", "RSS, 200 programs, polled every 100 ms (highest)", "MiB", "low")


def fig_idle(d, ctx):
    n = 200
    with Daemon(ctx, d, many(n, sleeper())) as dm:
        dm.wait_answer()
        rpc = dm.rpc()
        dm.wait_all_running(rpc, n, interval=0.1)
        rpc.close()
        time.sleep(2.0)
        c0, s0, x0, t0 = cpu_seconds(dm.pid), sched_runtime_ns(dm.pid), ctx_switches(dm.pid), now()
        time.sleep(ctx.idle_secs)
        c1, s1, x1, t1 = cpu_seconds(dm.pid), sched_runtime_ns(dm.pid), ctx_switches(dm.pid), now()
        dm.check_alive()
        dt = t1 - t0
        return {
            "idle_cpu_ms_min": (c1 - c0) * 1000 * 60 / dt,
            "idle_sched_ms_min": (s1 - s0) / 1e6 * 60 / dt,
            "idle_wakeups_s": (x1 - x0) / dt,
        }


metric("idle_cpu_ms_min", "idle CPU, 200 programs (utime+stime)", "ms/min", "low")
metric("idle_sched_ms_min", "idle CPU, 200 programs (schedstat, ns precision)", "ms/min", "low")
metric("idle_wakeups_s", "idle wake-ups (context switches), 200 programs", "1/s", "low")


def fig_startup(d, ctx):
    res = {}
    with Daemon(ctx, d, {}) as dm:
        t = dm.wait_answer()
        res["start_answer_ms"] = (t - dm.t_exec) * 1000
    n = 200
    with Daemon(ctx, d, many(n, sleeper())) as dm:
        dm.wait_answer()
        rpc = dm.rpc()
        t = dm.wait_all_running(rpc, n, interval=0.01)
        rpc.close()
        res["start_200_running_ms"] = (t - dm.t_exec) * 1000
    # The same with the 400 AUTO log files on tmpfs: creating files is the largest part of
    # our start-up on a disk file system (see the README), and costs both daemons the same.
    with Daemon(ctx, d, many(n, sleeper()), logbase=ctx.tmpfs_dir) as dm:
        dm.wait_answer()
        rpc = dm.rpc()
        t = dm.wait_all_running(rpc, n, interval=0.01)
        rpc.close()
        res["start_200_running_tmpfs_ms"] = (t - dm.t_exec) * 1000
    return res


metric("start_answer_ms", "exec → getState answers, 0 programs", "ms", "low")
metric("start_200_running_ms", "exec → 200 programs RUNNING (polling)", "ms", "low")
metric("start_200_running_tmpfs_ms", "exec → 200 programs RUNNING, child logs on tmpfs", "ms", "low")


def loadgen(ctx, sock, method, conns, secs):
    cmd = [ctx.loadgen, "--socket", sock, "--method", method, "--conns", str(conns),
           "--duration", str(secs), "--warmup", "0.5"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=secs + 120)
    if p.returncode != 0:
        raise FigureError(f"loadgen failed: {p.stderr.strip()[:300]}")
    r = json.loads(p.stdout)
    if r["calls"] == 0:
        raise FigureError(f"loadgen: no successful call ({r['first_error']})")
    if r["errors"]:
        r["note"] = f"{r['errors']} errors, first: {r['first_error']}"
    return r


def fig_rpc(d, ctx):
    if not ctx.loadgen:
        raise FigureError("no load generator")
    n = 200
    res = {}
    raw = {}
    with Daemon(ctx, d, many(n, sleeper())) as dm:
        dm.wait_answer()
        rpc = dm.rpc()
        dm.wait_all_running(rpc, n, interval=0.1)
        rpc.close()
        for short, method in (("getState", "supervisor.getState"),
                              ("getAll", "supervisor.getAllProcessInfo")):
            for conns in (1, 8):
                c0, w0 = cpu_seconds(dm.pid), now()
                r = loadgen(ctx, dm.sock, method, conns, ctx.rpc_secs)
                c1, w1 = cpu_seconds(dm.pid), now()
                dm.check_alive()
                r["daemon_cpu_pct"] = round((c1 - c0) / (w1 - w0) * 100, 1)
                r["loadgen_cpu_pct"] = round(r["cpu_s"] / (ctx.rpc_secs + 0.5) * 100, 1)
                raw[f"{short}_{conns}"] = r
                res[f"rpc_{short}_{conns}_cps"] = r["calls_per_s"]
                res[f"rpc_{short}_{conns}_p50"] = r["p50_ms"]
                res[f"rpc_{short}_{conns}_p99"] = r["p99_ms"]
    res["_raw"] = raw
    return res


for _m, _lab in (("getState", "getState"), ("getAll", "getAllProcessInfo (200 programs)")):
    for _c in (1, 8):
        metric(f"rpc_{_m}_{_c}_cps", f"{_lab}, {_c} client{'s' if _c > 1 else ''}: calls/s",
               "1/s", "high")
        metric(f"rpc_{_m}_{_c}_p50", f"{_lab}, {_c} client{'s' if _c > 1 else ''}: p50",
               "ms", "low")
        metric(f"rpc_{_m}_{_c}_p99", f"{_lab}, {_c} client{'s' if _c > 1 else ''}: p99",
               "ms", "low")


WRITER_PY = r"""
import os, sys
n = int(sys.argv[1])
line = %r
block = memoryview(line * (1048576 // len(line)))
left = n
while left > 0:
    left -= os.write(1, block[:min(left, len(block))])
os.write(1, sys.argv[2].encode() + b"\n")
""" % ((LOG_LINE + "\n").encode(),)


def writer_script(ctx):
    """A one-process writer: 1 MiB writes of text lines (yes | head -c costs two processes
    and a pipe hop, and was the bottleneck on 2 CPUs)."""
    path = os.path.join(ctx.workroot, "writer.py")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(WRITER_PY)
    return path


def writer_cmd(ctx, nbytes):
    return f"{sys.executable} {writer_script(ctx)} {nbytes} {LOG_END}"


def log_done(path):
    """True once the end marker is the last thing in the log (or in its first backup)."""
    for p in (path, path + ".1"):
        try:
            with open(p, "rb") as f:
                f.seek(0, 2)
                size = f.tell()
                f.seek(max(0, size - 64))
                if f.read().rstrip(b"\n").endswith(LOG_END.encode()):
                    return True
        except OSError:
            pass
    return False


def fig_logcap(d, ctx):
    res = {}
    nbytes = ctx.log_bytes
    for fsname, base in (("tmpfs", ctx.tmpfs_dir), ("disk", ctx.disk_dir)):
        for mode in ("plain", "rot"):
            logdir = tempfile.mkdtemp(prefix=f"bench-log-{d}-", dir=base)
            try:
                # The default AUTO log, in a childlogdir on this file system.
                opts = {
                    "command": writer_cmd(ctx, nbytes),
                    "autostart": "false", "autorestart": "false", "startsecs": "0",
                    "stdout_logfile": "AUTO",
                    "stdout_logfile_maxbytes": "0" if mode == "plain" else "50MB",
                    "stdout_logfile_backups": "0" if mode == "plain" else "2",
                    "stderr_logfile": "NONE",
                }
                with Daemon(ctx, d, {"logw": opts}, logbase=logdir) as dm:
                    dm.wait_answer()
                    rpc = dm.rpc()
                    logfile = rpc.call("supervisor.getProcessInfo", "logw")["stdout_logfile"]
                    time.sleep(0.3)
                    c0 = cpu_seconds(dm.pid)
                    t0 = now()
                    rpc.call("supervisor.startProcess", "logw", False)
                    deadline = t0 + ctx.log_timeout
                    while not log_done(logfile):
                        if now() > deadline:
                            raise FigureError(f"log {fsname}/{mode}: end marker not seen "
                                              f"after {ctx.log_timeout}s")
                        dm.check_alive()
                        time.sleep(0.002)
                    t1 = now()
                    c1 = cpu_seconds(dm.pid)
                    rpc.close()
                    if mode == "plain":
                        size = os.path.getsize(logfile)
                        if size < nbytes:
                            raise FigureError(f"log {fsname}/plain: {size} < {nbytes} bytes")
                    res[f"log_{fsname}_{mode}_mibs"] = nbytes / 2**20 / (t1 - t0)
                    res[f"log_{fsname}_{mode}_cpu"] = c1 - c0
            finally:
                shutil.rmtree(logdir, ignore_errors=True)
    return res


for _fs in ("tmpfs", "disk"):
    for _mode, _ml in (("plain", "plain"), ("rot", "rotating 50MB×2")):
        metric(f"log_{_fs}_{_mode}_mibs", f"log capture, {_fs}, {_ml}: throughput", "MiB/s",
               "high")
        metric(f"log_{_fs}_{_mode}_cpu", f"log capture, {_fs}, {_ml}: daemon CPU", "s", "low")


def baseline_logcap(ctx):
    """The same writer into `cat > file`: what the machine can do."""
    res = {}
    for fsname, base in (("tmpfs", ctx.tmpfs_dir), ("disk", ctx.disk_dir)):
        logdir = tempfile.mkdtemp(prefix="bench-base-", dir=base)
        try:
            out = os.path.join(logdir, "out.log")
            t0 = now()
            subprocess.run(["sh", "-c", f"{writer_cmd(ctx, ctx.log_bytes)} | cat > {out}"],
                           check=True)
            t1 = now()
            res[f"base_{fsname}_mibs"] = ctx.log_bytes / 2**20 / (t1 - t0)
        finally:
            shutil.rmtree(logdir, ignore_errors=True)
    return res


SPAWN_FLOOR_PY = r"""
import os, signal, sys, time
n = int(sys.argv[1])
pids = []
t0 = time.perf_counter()
for i in range(n):
    r, w = os.pipe()
    r2, w2 = os.pipe()
    acts = [(os.POSIX_SPAWN_DUP2, r, 0), (os.POSIX_SPAWN_DUP2, w2, 1),
            (os.POSIX_SPAWN_DUP2, w2, 2)]
    pids.append(os.posix_spawn("/bin/sleep", ["sleep", "infinity"], os.environ,
                               file_actions=acts, setpgroup=0))
    os.close(r)
    os.close(w2)
t1 = time.perf_counter()
for p in pids:
    os.kill(p, signal.SIGTERM)
for p in pids:
    os.waitpid(p, 0)
print((t1 - t0) * 1000)
"""


def baseline_spawn(ctx, n=200):
    """What the machine can do: n `sleep infinity` with their pipes, posix_spawn'ed one after
    the other from a bare Python loop (no config, no logs, no state)."""
    p = subprocess.run([sys.executable, "-c", SPAWN_FLOOR_PY, str(n)], capture_output=True,
                       text=True, timeout=120, check=True)
    return float(p.stdout.strip())


metric("base_tmpfs_mibs", "writer | cat > file, tmpfs", "MiB/s", "high")
metric("base_disk_mibs", "writer | cat > file, disk", "MiB/s", "high")


def fig_restart(d, ctx):
    res = {}
    for variant in ("quiet", "poll"):
        lat = []
        with Daemon(ctx, d, {"victim": sleeper(autorestart="true")}) as dm:
            dm.wait_answer()
            rpc = dm.rpc()
            dm.wait_all_running(rpc, 1, interval=0.05)
            rpc.close()
            stop = threading.Event()
            poll_err = []

            def poller():
                r = dm.rpc(timeout=10)
                while not stop.is_set():
                    try:
                        r.call("supervisor.getProcessInfo", "victim")
                    except Exception as e:  # noqa: BLE001
                        poll_err.append(repr(e))
                        r.close()
                    stop.wait(0.1)
                r.close()

            th = None
            if variant == "poll":
                th = threading.Thread(target=poller, daemon=True)
                th.start()
            try:
                seen = set()
                for _ in range(ctx.kills):
                    time.sleep(random.uniform(0.2, 0.7))
                    kids = [k for k in proc_children(dm.pid) if proc_state(k) not in (None, "Z")]
                    if len(kids) != 1:
                        raise FigureError(f"expected 1 live child, found {len(kids)}")
                    old = kids[0]
                    seen.update(proc_children(dm.pid))
                    os.kill(old, signal.SIGKILL)
                    t0 = now()
                    deadline = t0 + 30
                    while True:
                        new = proc_children(dm.pid) - seen - {old}
                        if new:
                            t1 = now()
                            break
                        if now() > deadline:
                            raise FigureError("no new child 30 s after kill -9")
                        time.sleep(0.0005)
                    lat.append((t1 - t0) * 1000)
                    seen.update(new)
                    # wait until the new child has exec'd sleep before the next kill
                    nk = next(iter(new))
                    dl = now() + 10
                    while proc_comm(nk) != "sleep" and now() < dl:
                        time.sleep(0.001)
            finally:
                stop.set()
                if th:
                    th.join(5)
            if poll_err and len(poll_err) > 3:
                raise FigureError(f"poller errors: {poll_err[0]}")
        key = "restart" if variant == "quiet" else "restart_poll"
        res[f"{key}_p50"] = percentile(lat, 50)
        res[f"{key}_p99"] = percentile(lat, 99)
    return res


metric("restart_p50", "kill -9 → new pid, no client: p50", "ms", "low")
metric("restart_p99", "kill -9 → new pid, no client: p99", "ms", "low")
metric("restart_poll_p50", "kill -9 → new pid, client polling 10 Hz: p50", "ms", "low")
metric("restart_poll_p99", "kill -9 → new pid, client polling 10 Hz: p99", "ms", "low")


def fig_storm(d, ctx):
    n = ctx.storm_n
    fifo_dir = tempfile.mkdtemp(prefix="bench-fifo-", dir=ctx.workroot)
    fifo = os.path.join(fifo_dir, "trigger")
    os.mkfifo(fifo)
    # Holding a write end keeps every reader's open() from blocking; closing it
    # delivers EOF to all readers at once.
    wfd = os.open(fifo, os.O_RDWR | os.O_CLOEXEC)
    try:
        progs = many(n, {"command": f"cat {fifo}", "startsecs": "0", "autorestart": "false",
                         "stdout_logfile": "NONE", "stderr_logfile": "NONE"})
        with Daemon(ctx, d, progs) as dm:
            dm.wait_answer(timeout=60)
            dm.wait_spawned(n, "cat", timeout=120)
            rpc = dm.rpc(timeout=300)
            dm.wait_all_running(rpc, n, timeout=300, interval=0.2)
            # every cat must hold the fifo open
            deadline = now() + 30
            while True:
                opened = 0
                for k in proc_children(dm.pid):
                    try:
                        for fd in os.listdir(f"/proc/{k}/fd"):
                            if os.readlink(f"/proc/{k}/fd/{fd}") == fifo:
                                opened += 1
                                break
                    except OSError:
                        pass
                if opened >= n:
                    break
                if now() > deadline:
                    raise FigureError(f"only {opened}/{n} readers opened the fifo")
                time.sleep(0.05)
            time.sleep(0.5)
            t0 = now()
            os.close(wfd)
            wfd = None
            deadline = t0 + 300
            while proc_children(dm.pid):
                if now() > deadline:
                    raise FigureError("children not all reaped after 300 s")
                dm.check_alive()
                time.sleep(0.002)
            t_reaped = now()
            while True:
                infos = rpc.call("supervisor.getAllProcessInfo")
                t_exited = now()
                if all(i["statename"] == "EXITED" for i in infos):
                    break
                if t_exited > deadline:
                    raise FigureError("not all EXITED after 300 s")
                time.sleep(0.02)
            rpc.close()
            return {"storm_reaped_ms": (t_reaped - t0) * 1000,
                    "storm_exited_ms": (t_exited - t0) * 1000}
    finally:
        if wfd is not None:
            os.close(wfd)
        shutil.rmtree(fifo_dir, ignore_errors=True)


metric("storm_reaped_ms", "N programs exit at once → all reaped (/proc)", "ms", "low")
metric("storm_exited_ms", "N programs exit at once → all EXITED (RPC)", "ms", "low")


OUR_CTL = os.path.join(ROOT, "target", "release", "supervisorctl")


def ctl_wall_ms(dm, *args, ok=(0,)):
    """Wall time of our native supervisorctl against the daemon (same client for both)."""
    if not os.path.exists(OUR_CTL):
        raise FigureError(f"our supervisorctl not built: {OUR_CTL}")
    t0 = now()
    r = subprocess.run([OUR_CTL, "-c", dm.conf, *args], capture_output=True, timeout=600)
    t = (now() - t0) * 1000
    if r.returncode not in ok:
        raise FigureError(f"supervisorctl {' '.join(args)}: exit {r.returncode}: "
                          + r.stdout[-300:].decode(errors="replace"))
    return t


def all_pids(rpc):
    return {i["name"]: i["pid"] for i in rpc.call("supervisor.getAllProcessInfo")}


def scale_program(ctx):
    """A program of the scale figures (see --scale-logs)."""
    if ctx.scale_logs == "none":
        return sleeper(stdout_logfile="NONE", redirect_stderr="true")
    return sleeper()


def fig_scale(d, ctx):
    n = ctx.scale_n
    with Daemon(ctx, d, many(n, scale_program(ctx))) as dm:
        dm.wait_answer(timeout=120)
        t_sp = dm.wait_spawned(n, "sleep", timeout=600)
        rpc = dm.rpc(timeout=600)
        t_run = dm.wait_all_running(rpc, n, timeout=600, interval=0.05)
        lat, raw = [], []
        t_end = now() + ctx.scale_secs
        while len(lat) < 3 or (now() < t_end and len(lat) < 50):
            t0 = now()
            infos = rpc.call("supervisor.getAllProcessInfo")
            lat.append((now() - t0) * 1000)
            if len(infos) != n:
                raise FigureError(f"getAllProcessInfo returned {len(infos)} entries")
            t0 = now()
            rpc.call_raw("supervisor.getAllProcessInfo")
            raw.append((now() - t0) * 1000)
        status = [ctl_wall_ms(dm, "status") for _ in range(3)]
        time.sleep(0.5)
        rss, _ = rss_pss_mib(dm.pid)
        # An idle stretch: CPU and wake-ups with N programs running and nothing due.
        c0, x0, i0 = cpu_seconds(dm.pid), ctx_switches(dm.pid), now()
        time.sleep(ctx.scale_secs)
        c1, x1, i1 = cpu_seconds(dm.pid), ctx_switches(dm.pid), now()
        # update with one program changed among N: only that one restarts.
        before = all_pids(rpc)
        with open(dm.conf) as f:
            text = f.read()
        first = next(iter(dm.programs))
        changed = text.replace(f"[program:{first}]\ncommand=sleep infinity",
                               f"[program:{first}]\ncommand=sleep 1000000", 1)
        if changed == text:
            raise FigureError("could not change one program in the config")
        with open(dm.conf, "w") as f:
            f.write(changed)
        t_update = ctl_wall_ms(dm, "update")
        dm.wait_all_running(rpc, n, timeout=600, interval=0.05)
        after = all_pids(rpc)
        moved = sorted(k for k in before if after.get(k) != before[k])
        if moved != [first]:
            raise FigureError(f"update restarted {moved[:5]} ({len(moved)}), not [{first}]")
        t0 = now()
        rpc.call("supervisor.stopAllProcesses", True)
        while any(i["statename"] != "STOPPED" for i in rpc.call("supervisor.getAllProcessInfo")):
            if now() - t0 > 600:
                raise FigureError("not all STOPPED after 600 s")
            time.sleep(0.05)
        t_stop = (now() - t0) * 1000
        rpc.close()
        return {"scale_spawned_ms": (t_sp - dm.t_exec) * 1000,
                "scale_running_ms": (t_run - dm.t_exec) * 1000,
                "scale_getall_ms": statistics.median(lat),
                "scale_getall_raw_ms": statistics.median(raw),
                "scale_status_ms": statistics.median(status),
                "scale_rss": rss,
                "scale_idle_cpu_ms_min": (c1 - c0) * 1000 * 60 / (i1 - i0),
                "scale_idle_wakeups_s": (x1 - x0) / (i1 - i0),
                "scale_update_ms": t_update,
                "scale_stopall_ms": t_stop}


metric("scale_spawned_ms", "N programs: exec → all spawned (/proc)", "ms", "low")
metric("scale_running_ms", "N programs: exec → all RUNNING (getAllProcessInfo reply)", "ms", "low")
metric("scale_getall_ms", "N programs: getAllProcessInfo latency (Python client, parsed)", "ms",
       "low")
metric("scale_getall_raw_ms", "N programs: getAllProcessInfo latency (reply bytes, unparsed)",
       "ms", "low")
metric("scale_status_ms", "N programs: `supervisorctl status` wall (our native client)", "ms",
       "low")
metric("scale_rss", "N programs: daemon RSS", "MiB", "low")
metric("scale_idle_cpu_ms_min", "N programs: idle CPU", "ms/min", "low")
metric("scale_idle_wakeups_s", "N programs: idle wake-ups (context switches)", "1/s", "low")
metric("scale_update_ms", "N programs: `supervisorctl update`, one program changed (native)",
       "ms", "low")
metric("scale_stopall_ms", "N programs: stopAllProcesses → all STOPPED", "ms", "low")


def _poll_until_running(sock, n, conn):
    """In its own process (no GIL shared with the bench): getAllProcessInfo back to back,
    reply bytes unparsed, until all n processes are RUNNING; sends (latencies, end time)."""
    r = Rpc(sock, timeout=600)
    lat, errors = [], 0
    deadline = now() + 600
    while now() < deadline:
        if r.sock is None:
            try:
                r._connect()
            except OSError:  # the socket is not there yet: try again at once
                time.sleep(0.001)
                continue
        t0 = now()
        try:
            body = r.call_raw("supervisor.getAllProcessInfo")
        except Exception:  # noqa: BLE001
            errors += 1
            r.close()
            time.sleep(0.05)
            continue
        t1 = now()
        lat.append((t1 - t0) * 1000)
        if body.count(b"<string>RUNNING</string>") >= n:
            conn.send((lat, t1, errors))
            return
    conn.send((lat, None, errors))


def fig_scalepoll(d, ctx):
    """A client polling getAllProcessInfo back to back from the moment the daemon's socket
    accepts a connection until all N programs are RUNNING: each reply's latency (from the
    request sent to the last byte in), and the start-up's time with it."""
    import multiprocessing
    n = ctx.scale_n
    with Daemon(ctx, d, many(n, scale_program(ctx))) as dm:
        mp = multiprocessing.get_context("fork")
        mine, theirs = mp.Pipe()
        poller = mp.Process(target=_poll_until_running, args=(dm.sock, n, theirs))
        poller.start()
        if not mine.poll(660):
            poller.kill()
            raise FigureError("the poller did not report within 660 s")
        lat, t_run, errors = mine.recv()
        poller.join(10)
        if t_run is None or not lat:
            raise FigureError(f"not all RUNNING while polling ({len(lat)} replies, "
                              f"{errors} errors)")
        return {"scalepoll_running_ms": (t_run - dm.t_exec) * 1000,
                "scalepoll_p50": percentile(lat, 50),
                "scalepoll_max": max(lat),
                "scalepoll_replies": len(lat)}


metric("scalepoll_running_ms", "N programs, a client polling: exec → all RUNNING", "ms", "low")
metric("scalepoll_p50", "N programs: getAllProcessInfo during start-up, p50", "ms", "low")
metric("scalepoll_max", "N programs: getAllProcessInfo during start-up, slowest", "ms", "low")
metric("scalepoll_replies", "N programs: getAllProcessInfo replies during start-up", "", "high")


FIGURES = {
    "memory": fig_memory,
    "idle": fig_idle,
    "startup": fig_startup,
    "rpc": fig_rpc,
    "logcap": fig_logcap,
    "restart": fig_restart,
    "storm": fig_storm,
    "scale": fig_scale,
    "scalepoll": fig_scalepoll,
}


# --------------------------------------------------------------------------------------
# Driver

def percentile(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    i = round(p / 100 * (len(xs) - 1))
    return xs[min(len(xs) - 1, max(0, i))]


def machine_info():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) // 1024} MiB"
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "memory": mem, "python": platform.python_version(),
            "loadavg_at_start": open("/proc/loadavg").read().split()[:3]}


def fmt(v):
    if v is None:
        return "n/a"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio_text(ref, ours, better):
    if ref is None or ours is None:
        return ""
    if better == "low":
        if ours <= 0:
            return "∞ better" if ref > 0 else "="
        r = ref / ours
    else:
        if ref <= 0:
            return ""
        r = ours / ref
    if r >= 1:
        return f"**{r:.1f}× better**" if r >= 1.05 else "≈ same"
    return f"{1 / r:.1f}× worse" if r <= 0.95 else "≈ same"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 round, smaller sizes")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--only", choices=["ref", "ours"], default=None)
    ap.add_argument("--figures", default=",".join(FIGURES),
                    help="comma-separated subset of: " + ",".join(FIGURES))
    ap.add_argument("--ref", required=True, help="reference supervisord executable")
    ap.add_argument("--ours", default=None, help="our supervisord executable")
    ap.add_argument("--loadgen", default=None, help="bench-loadgen executable")
    ap.add_argument("--disk-dir", default="/var/tmp", help="disk directory for log capture")
    ap.add_argument("--tmpfs-dir", default="/dev/shm", help="tmpfs directory for log capture")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--keep", action="store_true", help="keep temp dirs")
    ap.add_argument("--scale-n", type=int, default=None,
                    help="number of programs for the scale figure (default 2000, 500 with --quick)")
    ap.add_argument("--scale-logs", choices=("auto", "none"), default="auto",
                    help="the scale figures' programs: AUTO log files (default, 5 descriptors "
                         "each in the daemon), or none (stdout_logfile=NONE, redirect_stderr: "
                         "output discarded, 1 descriptor each)")
    ap.add_argument("--note", default="", help="free text recorded with the results")
    ap.add_argument("--strict", action="store_true",
                    help="exit 1 if any figure failed for any daemon (the CI smoke run)")
    args = ap.parse_args()

    become_subreaper()
    random.seed(12345)

    class Ctx:
        pass

    ctx = Ctx()
    q = args.quick
    ctx.rounds = args.rounds or (1 if q else 3)
    ctx.idle_secs = 5 if q else 20
    ctx.rpc_secs = 2 if q else 5
    ctx.log_bytes = (64 if q else 512) * 2**20
    ctx.log_timeout = 300
    ctx.kills = 8 if q else 20
    ctx.storm_n = 500
    ctx.scale_n = args.scale_n or (500 if q else 2000)
    ctx.scale_secs = 3 if q else 10
    ctx.scale_logs = args.scale_logs
    ctx.exe = {"ref": os.path.abspath(args.ref),
               "ours": os.path.abspath(args.ours) if args.ours else None}
    ctx.loadgen = args.loadgen
    ctx.disk_dir = args.disk_dir
    ctx.tmpfs_dir = args.tmpfs_dir
    ctx.keep = args.keep
    ctx.workroot = tempfile.mkdtemp(prefix="supervisor-bench-")
    ctx.fd_hard = __import__("resource").getrlimit(__import__("resource").RLIMIT_NOFILE)[0]

    kinds = [args.only] if args.only else ["ref", "ours"]
    figs = [f.strip() for f in args.figures.split(",") if f.strip()]
    for f in figs:
        if f not in FIGURES:
            ap.error(f"unknown figure {f}")

    info = machine_info()
    info["disk_dir"] = f"{ctx.disk_dir} ({fs_type(ctx.disk_dir)})"
    info["tmpfs_dir"] = f"{ctx.tmpfs_dir} ({fs_type(ctx.tmpfs_dir)})"
    info["rounds"] = ctx.rounds
    info["quick"] = q
    info["ref"] = ctx.exe["ref"]
    info["ours"] = ctx.exe["ours"]
    print(f"# machine: {info['nproc']} CPUs, {info['cpu']}, kernel {info['kernel']}, "
          f"{info['memory']}, load {' '.join(info['loadavg_at_start'])}", flush=True)

    # samples[kind][metric] = [values]; errors[kind][figure] = [messages]
    samples = {k: {} for k in kinds}
    errors = {k: {} for k in kinds}
    raw = {k: {} for k in kinds}
    base = {}
    base_spawn = []
    t_start = time.time()
    for fig in figs:
        for rnd in range(ctx.rounds):
            for kind in kinds:
                t0 = now()
                label = f"[{fig} r{rnd + 1}/{ctx.rounds} {kind}]"
                try:
                    r = FIGURES[fig](kind, ctx)
                    if "_raw" in r:
                        raw[kind].setdefault(fig, []).append(r.pop("_raw"))
                    for k, v in r.items():
                        samples[kind].setdefault(k, []).append(v)
                    print(f"{label} {now() - t0:.1f}s "
                          + ", ".join(f"{k}={fmt(v)}" for k, v in r.items()), flush=True)
                except Exception as e:  # noqa: BLE001 - a failing figure must not stop the run
                    msg = f"{type(e).__name__}: {e}"
                    errors[kind].setdefault(fig, []).append(msg)
                    print(f"{label} FAILED: {msg}", flush=True)
                    if not isinstance(e, FigureError):
                        traceback.print_exc()
                finally:
                    reap_orphans()
            if fig == "startup":
                try:
                    base_spawn.append(baseline_spawn(ctx))
                except Exception as e:  # noqa: BLE001
                    print(f"[baseline] FAILED: {e}", flush=True)
            if fig == "logcap":
                try:
                    for k, v in baseline_logcap(ctx).items():
                        base.setdefault(k, []).append(v)
                except Exception as e:  # noqa: BLE001
                    print(f"[baseline] FAILED: {e}", flush=True)

    shutil.rmtree(ctx.workroot, ignore_errors=True)
    elapsed = time.time() - t_start

    # ---- table
    fig_of_metric = {}
    for fig in figs:
        prefix = {"memory": "mem_", "idle": "idle_", "startup": "start_", "rpc": "rpc_",
                  "logcap": "log_", "restart": "restart", "storm": "storm_",
                  "scale": "scale_", "scalepoll": "scalepoll_"}[fig]
        for k in METRICS:
            if k.startswith(prefix):
                fig_of_metric[k] = fig
    med = {k: {m: statistics.median(v) for m, v in samples[k].items()} for k in kinds}

    lines = []
    lines.append(f"Machine: {info['nproc']} CPUs ({info['cpu']}), kernel {info['kernel']}, "
                 f"{info['memory']} RAM; load average at start {' '.join(info['loadavg_at_start'])}; "
                 f"{ctx.rounds} round(s){' (--quick)' if q else ''}; medians; "
                 f"disk = {info['disk_dir']}, tmpfs = {info['tmpfs_dir']}; "
                 f"storm N = {ctx.storm_n}, scale N = {ctx.scale_n} "
                 f"({ctx.scale_logs} logs), "
                 f"log writer {ctx.log_bytes // 2**20} MiB; run took {elapsed:.0f} s.")
    if args.note:
        lines.append(f"Note: {args.note}")
    lines.append("")
    cols = ["figure", "unit"] + kinds + (["ours vs ref"] if len(kinds) == 2 else [])
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + "---|" * len(cols))
    for key, (label, unit, better) in METRICS.items():
        if key.startswith("base_") or key not in fig_of_metric:
            continue
        fig = fig_of_metric[key]
        if key.startswith("storm_"):
            label = label.replace("N programs", f"{ctx.storm_n} programs")
        elif key.startswith("scale"):
            label = label.replace("N programs", f"{ctx.scale_n} programs")
        row = [label, unit + (" ↓" if better == "low" else " ↑")]
        vals = {}
        for k in kinds:
            v = med[k].get(key)
            vals[k] = v
            row.append(fmt(v) if v is not None else ("n/a" if fig in errors[k] else "n/a"))
        if len(kinds) == 2:
            row.append(ratio_text(vals["ref"], vals["ours"], better))
        lines.append("| " + " | ".join(row) + " |")
    if base:
        lines.append("")
        lines.append("Physical baseline (same writer into `cat > file`): "
                     + ", ".join(f"{METRICS[k][0].split(', ')[1]} {fmt(statistics.median(v))} MiB/s"
                                 for k, v in base.items()))
    if base_spawn:
        lines.append("")
        lines.append("Physical baseline (200 `sleep infinity` with their pipes, posix_spawn'ed "
                     f"from a bare Python loop): {fmt(statistics.median(base_spawn))} ms")
    for k in kinds:
        for run in raw[k].get("rpc", [])[:1]:
            lines.append("")
            lines.append(f"CPU use during the RPC runs ({k}, round 1; % of one core, "
                         f"daemon / load generator): "
                         + ", ".join(f"{name} {r.get('daemon_cpu_pct')}/{r.get('loadgen_cpu_pct')}"
                                     for name, r in run.items()))
    errs = [(k, f, m) for k in kinds for f, ms in errors[k].items() for m in ms]
    if errs:
        lines.append("")
        lines.append("Failures (n/a):")
        seen = set()
        for k, f, m in errs:
            if (k, f, m) in seen:
                continue
            seen.add((k, f, m))
            lines.append(f"- {k} / {f}: {m[:400]}")
    table = "\n".join(lines)
    print()
    print(table)

    os.makedirs(args.out, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with open(os.path.join(args.out, f"{stamp}.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(args.out, f"{stamp}.json"), "w") as f:
        json.dump({"machine": info, "samples": samples, "medians": med, "baseline": base,
                   "baseline_spawn_ms": base_spawn, "errors": errors, "loadgen_raw": raw}, f,
                  indent=1)
    print(f"\n(results saved in {args.out}/{stamp}.md and .json)")
    if args.strict and any(errors[k] for k in kinds):
        print("benchmark smoke run: some figures failed (see above)")
        sys.exit(1)


if __name__ == "__main__":
    main()
