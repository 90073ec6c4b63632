"""Optional log formats (beyond the reference, issue 8): JSON lines for our own log and
per-program formats for child output. The reference starts on the same config (it ignores
the keys), and its bytes stay the default."""

import json
import textwrap

from conftest import wait_until

PROGRAMS = """
    [program:web]
    command=sh -c "echo hello; echo oops >&2; printf 'no newline'"
    stdout_logfile=@TMP@/web.out
    stderr_logfile=@TMP@/web.err
    startsecs=0
    autorestart=false
    logformat=%s
    """


def read(d, name):
    p = d.tmp / name
    return p.read_text() if p.exists() else ""


def run(d, fmt, main_format=None):
    extra = "logformat=%s\n" % main_format if main_format else ""
    d.start(textwrap.dedent(PROGRAMS % fmt), supervisord_extra=extra)
    d.wait_state("web", "EXITED")
    wait_until(lambda: read(d, "web.out").count("\n") >= 2, what="the stdout log")


def test_reference_accepts_the_keys_and_keeps_raw_bytes(make_daemon):
    ref = make_daemon("ref")
    ref.start(textwrap.dedent(PROGRAMS % "json"), supervisord_extra="logformat=json\n")
    ref.wait_state("web", "EXITED")
    wait_until(lambda: read(ref, "web.out") == "hello\nno newline", what="the reference's raw log")


def test_raw_is_the_default_and_byte_for_byte(make_daemon):
    d = make_daemon("ours")
    d.start(textwrap.dedent(PROGRAMS % "raw"))
    d.wait_state("web", "EXITED")
    wait_until(lambda: read(d, "web.out") == "hello\nno newline", what="raw output")


def test_prefixed_lines(make_daemon):
    d = make_daemon("ours")
    run(d, "prefixed")
    assert read(d, "web.out") == "[web] hello\n[web] no newline\n"
    wait_until(lambda: read(d, "web.err") == "[web] oops\n", what="stderr")


def test_timestamped_lines(make_daemon):
    d = make_daemon("ours")
    run(d, "timestamped")
    lines = read(d, "web.out").splitlines()
    assert [l[23:] for l in lines] == [" [web] hello", " [web] no newline"]
    assert all(l[4] == "-" and l[19] == "," for l in lines)


def test_json_lines_for_output_and_for_our_own_log(make_daemon):
    d = make_daemon("ours")
    run(d, "json", main_format="json")
    out = [json.loads(l) for l in read(d, "web.out").splitlines()]
    assert [(o["program"], o["stream"], o["line"]) for o in out] == [
        ("web", "stdout", "hello"), ("web", "stdout", "no newline")]
    main = [json.loads(l) for l in d.log_text().splitlines()]
    assert {"time", "level", "message"} <= set(main[0])
    assert any(m["level"] == "INFO" and m["message"].startswith("spawned: 'web' with pid ") for m in main)
