"""Scripting children/out.py (the child that writes scripted output, see its docstring) and
waiting for what the daemon writes into log files: for the capture, rotation and syslog tests.
"""

from pathlib import Path

from lib.harness import wait_until

OUT = "@PYTHON@ @CHILDREN@/out.py"

FILE_TIMEOUT = 20


def X(stream, data):
    """out.py action: write bytes to stream ('out' / 'err')."""
    if isinstance(data, str):
        data = data.encode()
    return "x:%s:%s" % (stream, data.hex())


def XW(stream, data, log):
    """out.py action: write bytes, then wait until they are in log."""
    if isinstance(data, str):
        data = data.encode()
    return "xw:%s:%s:%s" % (stream, data.hex(), log)


def APPEND(path, data):
    if isinstance(data, str):
        data = data.encode()
    return "a:%s:%s" % (path, data.hex())


def read_bytes(path):
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        return None


def wait_bytes(d, path, needle, timeout=FILE_TIMEOUT, count=1):
    """Wait until file ``path`` contains ``needle`` (count times); return its bytes."""
    if isinstance(needle, str):
        needle = needle.encode()
    path = Path(path)

    def check():
        data = read_bytes(path)
        return data is not None and data.count(needle) >= count
    wait_until(check, timeout, daemon=d, what="%r x%d in %s (%s)" % (needle, count, path.name, d.kind))
    return path.read_bytes()


def wait_file(d, path, timeout=FILE_TIMEOUT):
    wait_until(lambda: Path(path).exists(), timeout, daemon=d,
               what="%s to exist (%s)" % (Path(path).name, d.kind))
