"""TCP ports for daemons with an [inet_http_server] or fcgi sockets.

No port is chosen in advance and assumed free: any other process on the machine (another
test worker, another test run) may take it between the choice and the bind. The kernel
suggests a port, the daemon is started on it, and when the daemon could not bind it the
attempt is thrown away and another port is tried.
"""

import os
import socket

import pytest

from lib.harness import START_TIMEOUT, wait_until


def kernel_port():
    """A port the kernel considers free right now (a suggestion, not a reservation)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening_inodes(port):
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state, inode = fields[1], fields[3], fields[9]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        inodes.add(inode)
        except FileNotFoundError:
            pass
    return inodes


def holds_listener(pid, port):
    """Whether process ``pid`` itself has a listening TCP socket on ``port``."""
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    fd_dir = "/proc/%d/fd" % pid
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return False
    for fd in fds:
        try:
            link = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False


# What each daemon says when a port it must bind is taken.
PORT_TAKEN = ("Another program is already listening on a port",
              "Could not create FastCGI socket")


def start_on_free_port(d, make, wait_ready=True, attempts=20, suggest=kernel_port):
    """Start ``d`` on ``make(port)`` (the whole config text, @..@ substituted), on a port that
    the daemon itself ends up listening on; returns the port. The daemon's stderr, log and
    temp files of a failed attempt are removed before the next one."""
    for _ in range(attempts):
        port = suggest()
        d.write_config(raw=make(port))
        d.spawn()

        def settled():
            if holds_listener(d.proc.pid, port):
                return "bound"
            if d.proc.poll() is not None:
                return "exited"
            log = d.logfile.read_text(errors="replace") if d.logfile.exists() else ""
            if any(m in log for m in PORT_TAKEN):
                return "taken"
            return None

        outcome = wait_until(settled, START_TIMEOUT, what="%s daemon to listen on port %d"
                             % (d.kind, port))
        if outcome == "bound":
            if wait_ready and d.sock.exists():
                d.wait_ready()
            return port
        errors = d.stderr_path.read_text(errors="replace") if d.stderr_path.exists() else ""
        if outcome == "exited" and not any(m in errors for m in PORT_TAKEN):
            d.signalled = False
            d.check_alive()  # fails, with the daemon's stderr in the report
        d.stop()
        d.proc, d.signalled = None, False
        for path in (d.stderr_path, d.stdout_path, d.logfile):
            if path.exists():
                path.unlink()
    pytest.fail("no port could be bound in %d attempts" % attempts)
