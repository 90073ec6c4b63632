"""The tutorial with our wheel in place of Python's supervisor, as PID 1 (issue: install
paths). The user's files stay as they are; only the requirement line differs:
docker/tutorial/requirements.txt is the user's requirements.txt with `supervisor==4.2.5`
replaced by our package, the file docker/tutorial.Dockerfile installs.

The wheel is target/wheels/supervisor_rs-<version>-*.whl (`maturin build --release --locked
--out target/wheels`, run by compat-tests/run-all.sh), or $SUPERVISOR_WHEEL. It is installed
with those requirements into a fresh venv (no `supervisor` package in it): the venv's
`supervisord` and `supervisorctl` are ours, native executables. Then the tutorial's scenario
of test_tutorial_pid1.py runs with that venv as the image's /usr/local/bin, and all its
checks hold: the monitor's `supervisorctl -c /app/supervisord.conf restart fastapi_0` goes
through our client and restarts the app.
"""

import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from container_fixtures import tutorial_dir, namespaces_allowed  # noqa: F401 (fixtures)

import container_ns as cns
from test_tutorial_pid1 import CHECKS, Scenario

REQUIREMENTS = os.path.join(cns.REPO_ROOT, "docker", "tutorial", "requirements.txt")


def cargo_version():
    with open(os.path.join(cns.REPO_ROOT, "Cargo.toml")) as f:
        return re.search(r'^version = "([^"]+)"', f.read(), re.M).group(1)


def wheel_path():
    w = os.environ.get("SUPERVISOR_WHEEL")
    if w:
        return w
    found = sorted(glob.glob(os.path.join(cns.REPO_ROOT, "target", "wheels",
                                          "supervisor_rs-%s-*.whl" % cargo_version())),
                   key=os.path.getmtime)
    if not found:
        pytest.fail("no wheel in target/wheels (maturin build --release --locked --out "
                    "target/wheels, as compat-tests/run-all.sh does; or set SUPERVISOR_WHEEL)",
                    pytrace=False)
    return found[-1]


def is_elf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def test_wheel_contents():
    """The wheel carries the two executables as scripts (maturin's bin bindings), built
    for Linux with a manylinux tag, and no Python code."""
    w = wheel_path()
    tag = os.path.basename(w)[:-4].split("-")[-1]
    assert re.fullmatch(r"(manylinux_\d+_\d+|manylinux\d+)_x86_64(\.manylinux\w+)*", tag), tag
    with zipfile.ZipFile(w) as z:
        names = z.namelist()
        scripts = sorted(n.rsplit("/", 1)[1] for n in names if "/scripts/" in n)
        assert scripts == ["supervisorctl", "supervisord"], names
        for n in names:
            assert not n.endswith(".py"), n
            if "/scripts/" in n:
                assert z.read(n)[:4] == b"\x7fELF", n
    # auditwheel (pinned in compat-tests/requirements.txt) agrees with the tag; maturin ran
    # the same check when it built the wheel.
    if importlib.util.find_spec("auditwheel"):
        r = subprocess.run([sys.executable, "-m", "auditwheel", "show", w],
                           capture_output=True, text=True)
        assert r.returncode == 0 and 'consistent\nwith the following platform tag: "%s"' % tag \
            in r.stdout, r.stdout + r.stderr
        print(r.stdout)


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    """A fresh venv with the tutorial's requirements, our package in place of supervisor."""
    w = wheel_path()
    work = tmp_path_factory.mktemp("wheel-venv")
    links = work / "wheels"
    links.mkdir()
    shutil.copy(w, links)
    venv = str(work / "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet",
                    "--disable-pip-version-check", "--find-links", str(links),
                    "-r", REQUIREMENTS], check=True)
    return venv


def test_requirements_differ_from_the_users_in_one_line(tutorial_dir):
    with open(os.path.join(tutorial_dir, "requirements.txt")) as f:
        theirs = f.read().splitlines()
    with open(REQUIREMENTS) as f:
        mine = f.read().splitlines()
    changed = [(a, b) for a, b in zip(theirs, mine) if a != b]
    assert len(theirs) == len(mine) and changed == [
        ("supervisor==4.2.5", "supervisor-rs==%s" % cargo_version())], changed
    with open(os.path.join(cns.REPO_ROOT, "pyproject.toml")) as f:
        assert re.search(r'^name = "supervisor-rs"$', f.read(), re.M)


def test_tutorial_with_the_wheel_as_pid1(wheel_venv, namespaces_allowed, tutorial_dir,
                                         tmp_path_factory):
    vbin = os.path.join(wheel_venv, "bin")
    r = subprocess.run([os.path.join(vbin, "python"), "-c", "import supervisor"],
                       capture_output=True)
    assert r.returncode != 0, "the venv has a Python supervisor package"
    for name in ("supervisord", "supervisorctl"):
        assert is_elf(os.path.join(vbin, name)), "%s in the venv is not native" % name
    r = subprocess.run([os.path.join(vbin, "supervisord"), "--version"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "4.2.5", (r.stdout, r.stderr)

    work = str(tmp_path_factory.mktemp("ns-wheel"))
    ns = cns.Namespace(work, tutorial_dir, wheel_venv, os.path.join(vbin, "supervisord"))
    s = Scenario("wheel", ns)
    s.run()
    failures = []
    for check in CHECKS:
        try:
            check(s)
        except pytest.fail.Exception as e:
            failures.append("%s: %s" % (check.__name__, e))
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
