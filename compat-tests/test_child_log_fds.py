"""A program that is not running holds no descriptor on its log files (issue 12, item 3).

The reference drops a process's output dispatchers, and with them its log files, when the
process is reaped, and opens them again at the next spawn. The tests count the daemon's
descriptors on each log file through /proc/<pid>/fd while running, after a stop, after a
start, and around a logrotate-style move-aside of a stopped program's log, and check that a
dying child's last output (200 kB written on SIGTERM) is all in the file first. Both
`AUTO` logs (spliced) and named logs (copied) are covered.
"""

import os
import signal
import time

from conftest import compare, wait_until

PROGRAMS = """
    [program:auto]
    command=@PYTHON@ -u @CHILDREN@/lastwords.py auto @TMP@/auto.count
    startsecs=0
    stopwaitsecs=10

    [program:named]
    command=@PYTHON@ -u @CHILDREN@/lastwords.py named @TMP@/named.count
    stdout_logfile=@TMP@/named.out.log
    stderr_logfile=@TMP@/named.err.log
    startsecs=0
    stopwaitsecs=10
    """

NAMES = ("auto", "named")


def farewell_lines(tag):
    """lastwords.py's farewell: this many "<tag> ....." lines, then "<tag> bye"."""
    return 200_000 // len("%s %s\n" % (tag, "." * 90))


def fds_on(pid, paths):
    """How many of pid's descriptors are open on each of paths."""
    counts = {str(p): 0 for p in paths}
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target in counts:
            counts[target] += 1
    return list(counts.values())


def settled_fds(d, paths, want):
    """The daemon's descriptor counts on paths once they equal want; the counts seen last
    when a generous deadline passes (it only turns a hang into a failing comparison)."""
    deadline = time.monotonic() + 10
    while True:
        got = fds_on(d.proc.pid, paths)
        if got == want or time.monotonic() > deadline:
            return got
        d.check_alive()
        time.sleep(0.05)


def log_paths(d, name):
    info = d.info(name)
    return [info["stdout_logfile"], info["stderr_logfile"]]


def wait_said(d, name, text):
    rpc = d.rpc.supervisor
    wait_until(lambda: text in rpc.readProcessStdoutLog(name, 0, 0)
               and text in rpc.readProcessStderrLog(name, 0, 0),
               daemon=d, what="%s to say %r" % (name, text))


def last_words(path, tag):
    """What the file holds of run `tag`'s farewell: (dots lines, ends with bye)."""
    with open(path) as f:
        text = f.read()
    return text.count("%s %s\n" % (tag, "." * 90)), text.endswith("%s bye\n" % tag)


def scenario(d):
    d.start(PROGRAMS)
    for name in NAMES:
        d.wait_state(name, "RUNNING")
        wait_said(d, name, "%s#1 hello" % name)
    paths = {name: log_paths(d, name) for name in NAMES}
    res = {}
    res["running"] = {n: settled_fds(d, paths[n], [1, 1]) for n in NAMES}
    for name in NAMES:
        d.rpc.supervisor.stopProcess(name)
    res["stopped"] = {n: settled_fds(d, paths[n], [0, 0]) for n in NAMES}
    res["last words"] = {n: (last_words(paths[n][0], "%s#1" % n), last_words(paths[n][1], "%s#1" % n)[1])
                         for n in NAMES}
    for name in NAMES:
        d.rpc.supervisor.startProcess(name)
        wait_said(d, name, "%s#2 hello" % name)
    res["started again"] = {n: settled_fds(d, paths[n], [1, 1]) for n in NAMES}

    # logrotate's move-aside while stopped: the next start creates and writes a new file.
    moved = {}
    for name in NAMES:
        d.rpc.supervisor.stopProcess(name)
        settled_fds(d, paths[name], [0, 0])
        moved[name] = paths[name][0] + ".moved"
        os.rename(paths[name][0], moved[name])
        d.rpc.supervisor.startProcess(name)
        wait_said(d, name, "%s#3 hello" % name)
    res["after the move"] = {}
    for name in NAMES:
        with open(paths[name][0]) as f:
            new = f.read()
        with open(moved[name]) as f:
            old = f.read()
        res["after the move"][name] = {
            "new file": new,
            "moved file ends": old[-len("%s#2 bye\n" % name):],
            "fds (new, stderr, moved)": settled_fds(d, paths[name] + [moved[name]], [1, 1, 0]),
        }
    return res


def test_log_files_close_when_the_program_stops(daemon, oracle):
    res = compare(daemon, oracle, scenario)
    for name in NAMES:
        assert res["running"][name] == [1, 1]
        assert res["stopped"][name] == [0, 0]
        assert res["last words"][name] == ((farewell_lines("%s#1" % name), True), True)
        assert res["started again"][name] == [1, 1]
        after = res["after the move"][name]
        assert after["new file"] == "%s#3 hello\n" % name
        assert after["moved file ends"] == "%s#2 bye\n" % name
        assert after["fds (new, stderr, moved)"] == [1, 1, 0]


def test_clear_and_reopen_of_a_stopped_program_keep_its_logs_closed(daemon):
    """clearProcessLogs and SIGUSR2 act on a stopped program's files as before (the file is
    emptied, a moved-aside file is created again) without holding them open."""
    d = daemon
    d.start(PROGRAMS)
    d.wait_state("auto", "RUNNING")
    wait_said(d, "auto", "auto#1 hello")
    paths = log_paths(d, "auto")
    d.rpc.supervisor.stopProcess("auto")
    assert settled_fds(d, paths, [0, 0]) == [0, 0]
    assert d.rpc.supervisor.clearProcessLogs("auto") is True
    if d.kind == "ours":
        assert d.rpc.supervisor.readProcessStdoutLog("auto", 0, 0) == ""
    else:
        # the reference clears only the logs of a process that runs (it has no log handlers
        # for a stopped one): the file keeps its text
        assert d.rpc.supervisor.readProcessStdoutLog("auto", 0, 0).endswith("auto#1 bye\n")
    assert settled_fds(d, paths, [0, 0]) == [0, 0]
    os.rename(paths[0], paths[0] + ".moved")
    d.send(signal.SIGUSR2)
    d.wait_log("received SIGUSR2 indicating log reopen request")
    if d.kind == "ours":
        # ours recreates the moved file on SIGUSR2, as it did before closing stopped logs;
        # the reference only reopens the logs of running processes
        wait_until(lambda: os.path.exists(paths[0]), daemon=d, what="the log to be created again")
    assert settled_fds(d, paths, [0, 0]) == [0, 0]
    d.rpc.supervisor.startProcess("auto")
    wait_said(d, "auto", "auto#2 hello")
    assert settled_fds(d, paths, [1, 1]) == [1, 1]
    want = "auto#2 hello\n"
    assert d.rpc.supervisor.readProcessStdoutLog("auto", 0, 0) == want
