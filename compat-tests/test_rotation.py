"""Child log rotation (maxbytes / backups) and log reopening on SIGUSR2."""

import os
import re
import signal

import pytest

from conftest import compare, wait_until
from lib.output import APPEND, OUT, XW, read_bytes, wait_bytes, wait_file

WIDTH = 100          # bytes per numbered line
LINE = re.compile(rb"^L(\d{6}) \.*$")


def numbered(data):
    """The numbers of out.py's numbered lines in data; fails on any other line."""
    nums = []
    for raw in data.split(b"\n")[:-1]:
        m = LINE.match(raw)
        assert m, "unexpected line %r" % raw
        nums.append(int(m.group(1)))
    assert data.endswith(b"\n") or not data, "partial last line %r" % data[-40:]
    return nums


def expected_line(n, width=WIDTH):
    return (b"L%06d " % n).ljust(width - 1, b".") + b"\n"


def rotated_files(d, base):
    """{name: bytes} of base and base.N in the temp dir."""
    return {p.name: p.read_bytes() for p in sorted(d.tmp.iterdir())
            if p.name == base or re.fullmatch(re.escape(base) + r"\.\d+", p.name)}


# ---------------------------------------------------------------- deterministic rotation

def scenario_rotate(d, stream, backups, lines=60, preexisting=b""):
    """One line per daemon read (the child waits for each line to land), so
    the rollover points are deterministic and comparable byte for byte."""
    chan = "stdout" if stream == "out" else "stderr"
    base = "x-%s.log" % chan
    if preexisting:
        (d.tmp / base).write_bytes(preexisting)
    d.start("""
        [program:x]
        command=%s s:%s:%d:%d:@TMP@/%s touch:@TMP@/done
        %s_logfile=@TMP@/%s
        %s_logfile_maxbytes=1KB
        %s_logfile_backups=%d
        startsecs=0
        autorestart=false
        """ % (OUT, stream, lines, WIDTH, base, chan, base, chan, chan, backups))
    d.wait_state("x", "RUNNING")
    wait_file(d, d.tmp / "done", timeout=60)
    return {"files": rotated_files(d, base)}


@pytest.mark.parametrize("stream", ["out", "err"])
def test_rotation_with_backups(daemon, oracle, stream):
    res = compare(daemon, oracle, scenario_rotate, stream, 3)
    base = "x-%s.log" % ("stdout" if stream == "out" else "stderr")
    files = res["files"]
    # 1024 bytes is reached after 11 lines of 100: rollovers after 11, 22, 33, 44, 55
    assert sorted(files) == [base, base + ".1", base + ".2", base + ".3"]
    assert numbered(files[base]) == list(range(56, 61))
    assert numbered(files[base + ".1"]) == list(range(45, 56))
    assert numbered(files[base + ".2"]) == list(range(34, 45))
    assert numbered(files[base + ".3"]) == list(range(23, 34))


def test_rotation_counts_preexisting_content(daemon, oracle):
    res = compare(daemon, oracle, scenario_rotate, "out", 2, lines=15,
                  preexisting=b"o" * 999 + b"\n")
    files = res["files"]
    # 1000 old bytes + line 1 >= 1024: the old content is rotated with line 1
    assert sorted(files) == ["x-stdout.log", "x-stdout.log.1", "x-stdout.log.2"]
    assert files["x-stdout.log.2"] == b"o" * 999 + b"\n" + expected_line(1)
    assert numbered(files["x-stdout.log.1"]) == list(range(2, 13))
    assert numbered(files["x-stdout.log"]) == list(range(13, 16))


def test_rotation_without_backups_truncates(daemon, oracle):
    res = compare(daemon, oracle, scenario_rotate, "out", 0)
    files = res["files"]
    # backups=0: each rollover truncates the file in place
    assert sorted(files) == ["x-stdout.log"]
    assert numbered(files["x-stdout.log"]) == list(range(56, 61))


# ---------------------------------------------------------------- many rotations, no line lost

def read_chars(d):
    """The bytes the daemon has taken in with read(2) and the like (rchar of
    /proc/PID/io), or None where the kernel does not say.  splice(2) is not
    counted: ours moves a child's output into a plain log file with it, so
    its rchar stays far below what it logged; a copy (the reference, or ours
    when something else wants the bytes) reads every byte.  A reaped child's
    counts are added to its parent's: measure while the child lives."""
    try:
        with open("/proc/%d/io" % d.proc.pid) as f:
            return int(dict(l.split(": ") for l in f.read().splitlines())["rchar"])
    except (OSError, KeyError, ValueError):
        return None


def backup_numbers(files, base):
    """The numbers of base's backups among `files`, oldest first; they must run N..1."""
    backups = sorted((int(k.rsplit(".", 1)[1]) for k in files if k != base), reverse=True)
    assert backups == list(range(len(backups), 0, -1)), sorted(files)
    return backups


def auto_log_name(d, name="x"):
    """The file name of a program's AUTO stdout log (in the temp dir, the childlogdir)."""
    return os.path.basename(d.rpc.supervisor.getProcessInfo(name)["stdout_logfile"])


def write_through_rotations(d, programs, last, supervisord_extra=""):
    """Start program x (it waits for @TMP@/go, writes, then touches @TMP@/done),
    let it write, and wait until `last` is in its stdout log or the .1.
    Returns the log's name, its files, the backups' numbers (oldest first), the
    files' contents in order, and the bytes the daemon read meanwhile (None
    when /proc does not say)."""
    d.start(programs, supervisord_extra=supervisord_extra)
    d.wait_state("x", "RUNNING")
    log = auto_log_name(d)
    read0 = read_chars(d)
    (d.tmp / "go").write_text("")
    wait_file(d, d.tmp / "done", timeout=60)

    def landed():
        return any(last in (read_bytes(d.tmp / f) or b"") for f in (log, log + ".1"))
    wait_until(landed, 60, daemon=d, what="the last line in the log or its .1")
    read1 = read_chars(d)
    files = rotated_files(d, log)
    backups = backup_numbers(files, log)
    ordered = [files["%s.%d" % (log, i)] for i in backups] + [files[log]]
    read = read1 - read0 if read0 is not None and read1 is not None else None
    return log, files, backups, b"".join(ordered), read


def test_many_rotations_keep_every_line(daemon):
    """20000 lines through 16 rollovers (10KB files, 50 backups): every line is
    in the kept files exactly once, in order; no file goes over maxbytes by more
    than one write.  The child writes 100 lines (900 bytes) at a time and waits
    for each batch to land, so each daemon read is one batch.  Ours splices
    them into the AUTO log file (it reads far fewer bytes than it logs)."""
    n = 20000
    log, files, backups, text, read = write_through_rotations(daemon, """
        [program:x]
        command=%s wait:@TMP@/go s:out:%d:0:@TMP@/x-stdout---supervisor-*.log:100 touch:@TMP@/done
        stdout_logfile=AUTO
        stdout_logfile_maxbytes=10KB
        stdout_logfile_backups=50
        startsecs=0
        autorestart=false
        """ % (OUT, n), b"L%06d \n" % n)
    # 12 batches of 900 bytes reach 10240: 16 full files, 8 batches left over
    assert len(backups) == 16
    nums = numbered(text)
    assert nums == list(range(1, n + 1))
    for i in backups:
        size = len(files["%s.%d" % (log, i)])
        # rolled over once the size reached maxbytes, after one read's worth of output
        assert size == 12 * 900, (i, size)
    assert len(files[log]) == 8 * 900
    if daemon.kind == "ours" and read is not None:
        logged = 9 * n
        assert read < logged // 4, "read %d bytes for %d logged: not spliced" % (read, logged)


# What takes the copy path (read, then write) instead of splice(2): anything that
# needs the bytes besides the log file.  (supervisord section, program lines)
COPY_PATH = {
    "splice": ("", ""),
    "events": ("", "stdout_events_enabled=true"),
    "capture": ("", "stdout_capture_maxbytes=1MB"),
    "strip_ansi": ("strip_ansi=true", ""),
    "debug_echo": ("loglevel=debug", ""),
    "named_file": ("", ""),
}


@pytest.mark.parametrize("case", sorted(COPY_PATH))
def test_big_output_through_rotations(daemon, case):
    """4 MB in large writes through a 256KB log with many backups: every line
    once, in order, across the files, each file over maxbytes by less than a
    pipe's worth, whichever path the bytes take.  Ours splices only when
    nothing but the (AUTO) file wants them, and copies otherwise; a named file
    is always copied into (another process may append to it)."""
    sup_extra, prog_extra = COPY_PATH[case]
    logfile = "@TMP@/x.log" if case == "named_file" else "AUTO"
    n, width = 40000, 100
    log, files, backups, text, read = write_through_rotations(daemon, """
        [program:x]
        command=%s wait:@TMP@/go n:out:%d:%d touch:@TMP@/done
        stdout_logfile=%s
        stdout_logfile_maxbytes=256KB
        stdout_logfile_backups=100
        startsecs=0
        autorestart=false
        %s
        """ % (OUT, n, width, logfile, prog_extra), expected_line(n), sup_extra)
    assert len(backups) >= 10, sorted(files)
    assert numbered(text) == list(range(1, n + 1))
    for i in backups:
        # rolled over after the write that reached maxbytes, a read's worth at most
        # (a default pipe: 64 KiB)
        size = len(files["%s.%d" % (log, i)])
        assert 256 * 1024 <= size < 320 * 1024, (i, size)
    if daemon.kind == "ours" and read is not None:
        logged, got = n * width, read
        if case == "splice":
            assert got < logged // 4, "read %d bytes for %d logged: not spliced" % (got, logged)
        else:
            assert got >= logged, "read %d bytes for %d logged: not copied" % (got, logged)


def scenario_copytruncate(d):
    """logrotate's copytruncate: the file is copied and truncated to 0 behind the
    daemon's back; the next output lands at offset 0 (append mode), no hole of
    NULs where the old content was.  Then an external append and more output."""
    log = "@TMP@/x.log"
    d.start("""
        [program:x]
        command=%s %s wait:@TMP@/go %s %s %s touch:@TMP@/done
        stdout_logfile=@TMP@/x.log
        startsecs=0
        autorestart=false
        """ % (OUT, XW("out", "before the truncation\n" * 100, log),
               XW("out", "after it\n", log), APPEND(log, "appended directly\n"),
               XW("out", "last\n", log)))
    d.wait_state("x", "RUNNING")
    path = d.tmp / "x.log"
    before = wait_bytes(d, path, "before the truncation\n", count=100)
    os.truncate(path, 0)
    (d.tmp / "go").write_text("")
    wait_file(d, d.tmp / "done")
    return {"before": before, "after": wait_bytes(d, path, "last\n")}


def test_copytruncate_leaves_no_hole(daemon, oracle):
    res = compare(daemon, oracle, scenario_copytruncate)
    assert res["after"] == b"after it\nappended directly\nlast\n"


# ---------------------------------------------------------------- SIGUSR2

def scenario_usr2(d, maxbytes):
    d.start("""
        [program:x]
        command=%s u:out:@TMP@/go:20 n:out:100:20 touch:@TMP@/done
        stdout_logfile=@TMP@/x.log
        stdout_logfile_maxbytes=%s
        startsecs=1
        autorestart=false
        """ % (OUT, maxbytes))
    d.wait_log("success: x entered RUNNING")
    log = d.tmp / "x.log"
    wait_bytes(d, log, b"L000050 ")
    os.rename(log, d.tmp / "x.log.moved")
    os.rename(d.logfile, d.tmp / "main.log.moved")
    d.send(signal.SIGUSR2)
    wait_file(d, log)
    wait_bytes(d, log, b"\n")  # new lines land in the new file
    (d.tmp / "go").write_text("")
    wait_file(d, d.tmp / "done")
    total = int((d.tmp / "done").read_text())
    wait_bytes(d, log, (b"L%06d " % total).ljust(19, b".") + b"\n")
    d.ctl("stop", "x")
    d.wait_log("stopped: x")
    old_main = [d.norm(l) for l in
                (d.tmp / "main.log.moved").read_text().splitlines()]
    new_main = [d.norm(l) for l in d.log_text().splitlines() if "waiting for" not in l]
    return {"moved": (d.tmp / "x.log.moved").read_bytes(), "new": log.read_bytes(),
            "total": total, "old main log tail": old_main[-2:], "new main log": new_main}


@pytest.mark.parametrize("maxbytes", ["0", "50MB"])
def test_usr2_reopens_logs(daemon, oracle, maxbytes):
    """Rename the child's log and the main log away, SIGUSR2: lines before the
    reopen are in the renamed file, lines after it in a new file, none lost."""
    res = compare(daemon, oracle, lambda d: _usr2_summary(scenario_usr2(d, maxbytes)))
    assert res["moved has lines"] and res["new has lines"]
    assert res["all lines once, in order"]
    assert res["old main log tail"] == ["INFO received SIGUSR2 indicating log reopen request",
                                        "INFO supervisord logreopen"]


def _usr2_summary(res):
    """The comparable part: where the split falls is a race, not the rest."""
    moved, new = numbered(res["moved"]), numbered(res["new"])
    return {
        "moved has lines": len(moved) > 0,
        "new has lines": len(new) > 100,
        "all lines once, in order": moved + new == list(range(1, res["total"] + 1)),
        "old main log tail": res["old main log tail"],
        "new main log": res["new main log"],
    }
