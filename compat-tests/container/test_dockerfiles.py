"""Static checks of docker/'s Dockerfiles (no container engine needed), against what the
namespace tests build from them:

* docker/tutorial.Dockerfile: the tutorial's Dockerfile with the user's requirement line
  changed to our package (docker/tutorial/requirements.txt, the file test_wheel_tutorial.py
  installs), the wheel built by maturin in a builder stage and installed by pip from it; no
  Python supervisor, nothing copied over pip's scripts, the tutorial's WORKDIR and CMD.
* docker/static.Dockerfile: our binaries built in a musl (Alpine) builder and COPYed into
  `scratch`; the final stage is what test_static_pid1.py builds into a root file system and
  runs (static_ns.build_rootfs carries out its instructions: one it does not know fails).
"""

import json
import os
import re

import pytest

from container_fixtures import tutorial_dir  # noqa: F401 (fixture)

import container_ns as cns
import static_ns
from test_dockerfile import copy_args, no_host_names, parse, stages
from test_wheel_tutorial import REQUIREMENTS

TUTORIAL = os.path.join(cns.REPO_ROOT, "docker", "tutorial.Dockerfile")


def load(path):
    with open(path) as f:
        text = f.read()
    return text, stages(parse(text))


def runs(stage):
    return [r for k, r in stage["instrs"] if k == "RUN"]


def copies(stage):
    return [copy_args(r) for k, r in stage["instrs"] if k == "COPY"]


def builder_copies_the_crate(builder, extra=()):
    copied = " ".join(" ".join(srcs) for _, srcs, _ in copies(builder))
    for needed in ("Cargo.toml", "Cargo.lock", "src") + tuple(extra):
        assert needed in copied, "the builder does not COPY %s" % needed


def test_tutorial_dockerfile(tutorial_dir):
    text, st = load(TUTORIAL)
    no_host_names(text, st)
    builder, final = st[0], st[-1]
    assert len(st) == 2 and builder["image"].startswith("rust:") and builder["name"]
    builder_copies_the_crate(builder, ("pyproject.toml", "README.md"))
    build = [r for r in runs(builder) if "maturin build" in r]
    assert build and "--release" in build[0] and "--locked" in build[0], runs(builder)
    out = re.search(r"--out (\S+)", build[0]).group(1)

    # The final stage is the tutorial's, instruction for instruction, with our requirements,
    # the pip install taking the builder's wheels, and the user's app files.
    with open(os.path.join(tutorial_dir, "Dockerfile")) as f:
        theirs = stages(parse(f.read()))[0]
    assert final["image"] == theirs["image"] == cns.FINAL_BASE_IMAGE
    mine = [k for k, _ in final["instrs"]]
    assert mine == [k for k, _ in theirs["instrs"]], (mine, theirs["instrs"])
    by_kw = {}
    for k, r in final["instrs"]:
        by_kw.setdefault(k, []).append(r)
    assert by_kw["WORKDIR"] == [cns.WORKDIR]
    assert json.loads(by_kw["CMD"][-1]) == cns.CMD
    (flags, srcs, dest), (flags2, app, dest2) = copies(final)
    assert not flags and srcs == [os.path.relpath(REQUIREMENTS, cns.REPO_ROOT)] and dest == "."
    assert not flags2 and dest2 in ("./", ".")
    assert sorted(os.path.basename(a) for a in app) == sorted(
        f for f in cns.USER_FILES if f not in ("Dockerfile", "requirements.txt"))
    assert all(os.path.dirname(a) == cns.APP_SOURCE_DIR for a in app), app
    pip, = by_kw["RUN"]
    mount = re.search(r"--mount=type=bind,from=(\w+),source=(\S+),target=(\S+)", pip)
    assert mount and mount.group(1) == builder["name"] and mount.group(2) == out, pip
    assert "pip install --no-cache-dir --find-links %s -r requirements.txt" % mount.group(3) \
        in pip, pip
    # Nothing puts a file where pip put our executables.
    for _, _, d in copies(final):
        assert not d.startswith(os.path.dirname(cns.DAEMON_PATH)), d


def test_static_dockerfile():
    text, st = load(static_ns.DOCKERFILE)
    no_host_names(text, st)
    names = {s["name"]: s for s in st if s["name"]}
    builder, final = names["builder"], st[-1]
    assert builder["image"].startswith("rust:") and "alpine" in builder["image"], \
        "the builder must be musl's (Alpine): its binaries need no C library"
    builder_copies_the_crate(builder)
    assert any("cargo build --release --locked" in r for r in runs(builder)), runs(builder)
    assert final["image"] == "scratch"
    # The two binaries, from the builder's target/release, on the image's PATH.
    ours = [(srcs, dest) for flags, srcs, dest in copies(final) if "--from=builder" in flags]
    assert ours == [(["/src/target/release/supervisord", "/src/target/release/supervisorctl"],
                     "/usr/local/bin/")], ours
    env = dict(r.split("=", 1) for k, r in final["instrs"] if k == "ENV")
    assert "/usr/local/bin" in env["PATH"].split(":")
    cmd = json.loads([r for k, r in final["instrs"] if k == "CMD"][-1])
    assert cmd[0] == "supervisord" and cmd[1:] == ["-c", "/etc/supervisord.conf"]
    # Each COPY --from names a stage whose file the namespace test stands in for.
    known = static_ns.stage_files()
    for flags, srcs, _ in copies(final):
        stage = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
        for s in srcs:
            if stage:
                assert (stage, s) in known, (stage, s)
            else:
                assert os.path.isfile(os.path.join(cns.REPO_ROOT, s)), s
    assert not [r for _, r in final["instrs"] if re.search(r"python|\bpip\b", r, re.I)]


@pytest.mark.parametrize("path", [TUTORIAL, static_ns.DOCKERFILE])
def test_readme_builds_each_dockerfile(path):
    """The README's install section shows how to build each image."""
    with open(os.path.join(cns.REPO_ROOT, "README.md")) as f:
        readme = f.read()
    rel = os.path.relpath(path, cns.REPO_ROOT)
    assert "docker build -f %s" % rel in readme, rel
