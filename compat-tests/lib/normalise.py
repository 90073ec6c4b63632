"""Normalisers: what differs between two runs of the same scenario (pids, uptimes, log
timestamps, status dates, temp paths, AUTO child-log names) replaced by placeholders, and the
main-log lines both daemons must print."""

import re

_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")
_STATUS_DATE = re.compile(r"\b[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M\b")
# time.ctime(): "Sun Dec  6 05:26:59 2026". The day is space-padded, and a browser's innerText
# collapses the two spaces to one, so both "Dec  6" and "Dec 6" (and "Dec 16") must match.
_CTIME = re.compile(r"\b[A-Z][a-z]{2} [A-Z][a-z]{2} {1,2}\d{1,2} \d\d:\d\d:\d\d \d{4}\b")


def normalise_ctime(text):
    """Replace every time.ctime() date, padded or collapsed, by CTIME."""
    return _CTIME.sub("CTIME", text)


def normalise(text, tmp=None):
    """Replace volatile values: pids, uptimes, timestamps, temp paths."""
    if tmp is not None:
        text = text.replace(str(tmp), "<TMP>")
    text = re.sub(r"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ", "", text)
    text = re.sub(r"\bpid \d+", "pid N", text)
    text = re.sub(r"(killing '[^']*') \(\d+\)", r"\1 (N)", text)
    # AUTO child logs: <name>-stdout---supervisor-<random>.log
    text = re.sub(r"-(stdout|stderr)---supervisor-[A-Za-z0-9_]+\.log", r"-\1---supervisor-R.log", text)
    text = re.sub(r"\buptime (\d+ days?, )?\d+:\d\d:\d\d", "uptime T", text)
    text = _STATUS_DATE.sub("DATE", text)
    text = re.sub(r"(?m)^[1-9]\d*$", "N", text)  # bare pid lines (supervisorctl pid)
    # where an uncaught error was raised: a Python file of the stock client's installation,
    # a source file of ours
    text = re.sub(r"(?m)(error: <class '[^']*'>, .*): file: .* line: \d+$",
                  r"\1: file: F line: N", text)
    return text


# Where the two supervisorctl clients differ on purpose (README, "Compatibility notes"): where
# the stock client prints a Python exception in one line (`error: <class 'X'>, message: file:
# F line: N`, at the start of a line or after a prompt; `tail -f`'s `<url> Cannot connect,
# error: <class 'X'> (message)`), ours prints `error: ` and a plain sentence of its own. A
# comparison of the two clients takes such lines as equal only when both print one at the same
# place; no other line is touched, and a comparison of one client with itself is exact.
_AT = r"(?m)(?:^|(?<=> )|(?<=\? ))"
_ERROR_LINES = {
    "stock": [
        (re.compile(_AT + r"error: <class '[^'\n]*'>, [^\n]*: file: [^\n]* line: (?:\d+|N)$"),
         "error: E"),
        (re.compile(r"(?m)^(\S+ Cannot connect, error: )<class '[^'\n]*'> \([^\n]*\)$"),
         r"\1E"),
    ],
    "ours": [
        (re.compile(_AT + r"error: (?!<class ')[^\n]+$"), "error: E"),
        (re.compile(r"(?m)^(\S+ Cannot connect, error: )(?!<class ')[^\n]+$"), r"\1E"),
    ],
}


def mask_error_lines(value, client):
    """``value`` (a result: strings in tuples, lists and dicts) with the error lines of
    ``client`` ("stock" or "ours") that the two clients word differently replaced by a
    placeholder (see _ERROR_LINES)."""
    if isinstance(value, str):
        for pattern, repl in _ERROR_LINES[client]:
            value = pattern.sub(repl, value)
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(mask_error_lines(v, client) for v in value)
    if isinstance(value, dict):
        return {k: mask_error_lines(v, client) for k, v in value.items()}
    return value


def error_line(client, stock, ours):
    """The line ``client`` prints for an error the stock client does not handle: the stock
    client's Python exception (``stock``: `<class 'X'>, message`, normalised) or our
    sentence (``ours``)."""
    if client == "stock":
        return "error: %s: file: F line: N" % stock
    return "error: %s" % ours


def same_output(got, got_client, want, want_client):
    """Whether two results are equal, the clients' own error lines aside when the results
    come from different clients."""
    if got_client != want_client:
        got = mask_error_lines(got, got_client)
        want = mask_error_lines(want, want_client)
    return got == want


# Main log messages whose order and wording are compared between daemons.
MAINLOG_KEEP = re.compile(
    r"^(INFO|WARN|CRIT|ERRO) ("
    r"spawned: |success: |exited: |gave up: |stopped: |waiting for |"
    r"received SIG|spawnerr: |killing |reaped unknown pid|ignored SIG|"
    r"supervisord started)"
)


_STOP_PROGRESS = re.compile(r"^INFO waiting for \S+ to stop$")


def mainlog_events(text, tmp=None, unordered=(), progress=False):
    """The main log's lines that both daemons must print, normalised.

    ``unordered``: message prefixes (e.g. "stopped:") whose consecutive lines
    are sorted, for events whose order is a race (several processes stopped
    at once are reaped in any order).
    ``progress``: keep `waiting for x to stop`, which the reference logs only
    if the process is still STOPPING when supervisorctl first polls (a race
    unless the process ignores its stop signal)."""
    out = []
    for line in text.splitlines():
        line = _LOG_PREFIX.sub("", line)
        if not progress and _STOP_PROGRESS.match(line):
            continue
        if MAINLOG_KEEP.match(line):
            line = normalise(line, tmp)
            # throttled progress reports repeat a timing-dependent number of times
            if line.split(" ")[1:3] == ["waiting", "for"] and out and out[-1] == line:
                continue
            out.append(line)
    if unordered:
        out = _sort_runs(out, unordered)
    return out


def _sort_runs(lines, prefixes):
    def kind(line):
        msg = line.split(" ", 1)[1]
        return next((p for p in prefixes if msg.startswith(p)), None)
    out, run, run_kind = [], [], None
    for line in lines + [None]:
        k = kind(line) if line is not None else None
        if run and (k is None or k != run_kind):
            out.extend(sorted(run))
            run = []
        if k is not None:
            run.append(line)
            run_kind = k
        elif line is not None:
            out.append(line)
    return out
