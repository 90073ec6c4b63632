"""pytest plugin for make_seeds.py: records every config file the compat tests write.

    FUZZ_CONFIG_DIR=DIR python -m pytest -p record_configs compat-tests ...

Each file written with a name ending in `.conf` or `.ini` is copied into DIR (named by the
hash of its text, so repeats collapse), and a test ends, skipped, as soon as it would start a
daemon: the configs are what is wanted, not the runs, so recording all of them takes seconds.
A test that rewrites its config after its daemon started is recorded up to that start.
"""

import hashlib
import os
import pathlib
import sys

import pytest

OUT = pathlib.Path(os.environ["FUZZ_CONFIG_DIR"])
_write_text = pathlib.Path.write_text


def _recording_write_text(self, data, *args, **kwargs):
    if self.suffix in (".conf", ".ini"):
        OUT.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1(data.encode()).hexdigest()[:16] + self.suffix
        _write_text(OUT / name, data)
    return _write_text(self, data, *args, **kwargs)


pathlib.Path.write_text = _recording_write_text


@pytest.fixture(autouse=True)
def _no_daemons(monkeypatch):
    conftest = sys.modules.get("conftest")
    if conftest is not None and hasattr(conftest, "Daemon"):
        def spawn(self, conf=None):
            pytest.skip("config recorded")
        monkeypatch.setattr(conftest.Daemon, "spawn", spawn)
    yield
