"""`sendProcessStdin` to a child that does not read yet (issue 12, item 10).

What the pipe cannot take waits in one ordered queue per process, written by one writer as
the child reads: four 150 kB calls arrive as A+B+C+D (they used to arrive as A's first
64 KiB, D, C, B, the rest of A). The queue is bounded: past 4 MiB waiting, a call is
refused whole with a FAILED fault. The reference keeps the order too, but answers HTTP 500
to every call that finds the pipe full (and queues without bound).
"""

import itertools
import os
import re
import xmlrpc.client

from conftest import wait_until

PROGRAMS = """
    [program:late]
    command=@PYTHON@ -u @CHILDREN@/late_reader.py @TMP@/go @TMP@/stdin.out
    startsecs=0
    stopwaitsecs=5
    """

BLOCK = 150_000
LIMIT = 4 << 20


def send(d, data):
    try:
        return ("ok", d.rpc.supervisor.sendProcessStdin("late", data))
    except xmlrpc.client.Fault as e:
        return ("fault", e.faultCode, e.faultString)
    except xmlrpc.client.ProtocolError as e:
        return ("http", e.errcode)


def block(i):
    return chr(ord("A") + i % 26) * BLOCK


def runs(text):
    """Text as (character, run length) pairs: A+B+C+D is [('A', 150000), ('B', ...), ...]."""
    return [(c, len(list(g))) for c, g in itertools.groupby(text)]


def go_and_read(d, size):
    """Let the child read; return its stdin once `size` bytes are in."""
    (d.tmp / "go").touch()
    out = d.tmp / "stdin.out"
    wait_until(lambda: out.exists() and out.stat().st_size >= size, daemon=d,
               what="%d bytes through the child's stdin" % size)
    return out.read_text()


def test_stdin_keeps_the_order_of_calls(daemon):
    d = daemon
    d.start(PROGRAMS)
    d.wait_state("late", "RUNNING")
    blocks = [block(i) for i in range(4)]
    replies = [send(d, b) for b in blocks]
    got = go_and_read(d, 4 * BLOCK)
    assert runs(got) == [(c, BLOCK) for c in "ABCD"]
    if d.kind == "ours":
        assert replies == [("ok", True)] * 4
    else:
        # the first call fills the pipe; each later one finds it full: HTTP 500
        assert replies == [("ok", True)] + [("http", 500)] * 3
    assert send(d, "after\n") == ("ok", True)
    wait_until(lambda: (d.tmp / "stdin.out").read_text().endswith("after\n"), daemon=d)


def test_a_full_stdin_queue_refuses_calls(make_daemon):
    ref = make_daemon("ref")
    ref.start(PROGRAMS)
    ref.wait_state("late", "RUNNING")
    assert [send(ref, block(i)) for i in range(2)] == [("ok", True), ("http", 500)]

    d = make_daemon("ours")
    d.start(PROGRAMS)
    d.wait_state("late", "RUNNING")
    sent = []
    for i in range(100):
        reply = send(d, block(i))
        if reply != ("ok", True):
            break
        sent.append(block(i))
    assert reply[:2] == ("fault", 30), reply
    assert re.fullmatch(r"FAILED: late: stdin is full \((\d+) bytes wait for the process to read them\)",
                        reply[2]), reply
    waiting = int(re.search(r"\d+", reply[2]).group())
    assert waiting <= LIMIT < waiting + BLOCK
    # The refused call took nothing: the child reads exactly the calls that were accepted.
    assert runs(go_and_read(d, len(sent) * BLOCK)) == runs("".join(sent))
    assert send(d, "more\n") == ("ok", True)
    wait_until(lambda: (d.tmp / "stdin.out").read_text().endswith("more\n"), daemon=d)

    # What waits is dropped with the process: the next one only gets what is sent to it.
    os.unlink(d.tmp / "go")
    d.rpc.supervisor.stopProcess("late")
    d.rpc.supervisor.startProcess("late")
    assert [send(d, block(i)) for i in range(3)] == [("ok", True)] * 3
    d.rpc.supervisor.stopProcess("late")
    d.rpc.supervisor.startProcess("late")
    assert send(d, "fresh\n") == ("ok", True)
    (d.tmp / "go").touch()
    wait_until(lambda: (d.tmp / "stdin.out").read_text() == "fresh\n", daemon=d,
               what="only the new process's input")
