"""A long-running client (``supervisorctl tail -f``, ``fg``...) whose output is
collected by a thread, so a test can wait for a piece of text to show up
(``from lib.streaming import Streamer``).
"""

import os
import signal
import subprocess
import threading
import time

import pytest


class Streamer:
    """``Streamer(cmd)`` starts cmd with piped stdin/stdout/stderr."""

    def __init__(self, cmd, cwd=None, env=None):
        self.cmd = [str(c) for c in cmd]
        self.proc = subprocess.Popen(
            self.cmd, cwd=cwd, env=env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        self.out = b""
        self.err = b""
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, "out"), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, "err"), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _pump(self, pipe, attr):
        while True:
            try:
                data = os.read(pipe.fileno(), 65536)
            except (OSError, ValueError):  # closed by stop() while reading
                return
            if not data:
                return
            with self._lock:
                setattr(self, attr, getattr(self, attr) + data)

    def text(self, which="out"):
        with self._lock:
            return (self.out if which == "out" else self.err).decode("utf-8", "replace")

    def wait_for(self, needle, timeout=30, which="out", count=1):
        """Wait until ``needle`` shows up ``count`` times in the output; fail otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            if self.text(which).count(needle) >= count:
                return self.text(which)
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail("timed out waiting for %r from %s\n--- stdout:\n%s\n--- stderr:\n%s"
                            % (needle, " ".join(self.cmd), self.text("out"), self.text("err")))
            time.sleep(0.02)

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def interrupt(self, timeout=30):
        """Ctrl-C, as a user ends ``tail -f``; returns the exit status."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGINT)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            pytest.fail("%s did not end on SIGINT" % " ".join(self.cmd))
        for t in self._threads:  # what it printed last is read to the end before we look
            t.join(timeout)
        return rc

    def wait(self, timeout=30):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            pytest.fail("%s did not exit" % " ".join(self.cmd))
        for t in self._threads:
            t.join(timeout)
        return rc

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        for t in self._threads:  # the pipes reach EOF once the group is gone
            t.join(5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                pipe.close()
            except OSError:
                pass
