"""Static check of the project's Dockerfile (no container engine needed).

It must be the tutorial's Dockerfile with our binary in place of Python's
supervisord, and use the same layout the namespace test
(test_tutorial_pid1.py) builds: the constants come from container_ns.py.
"""

import json
import os
import re
import shlex

import pytest

from container_fixtures import tutorial_dir  # noqa: F401 (fixtures)

import container_ns as cns

DOCKERFILE = os.path.join(cns.REPO_ROOT, "Dockerfile")


def parse(text):
    """Instructions of a Dockerfile as (KEYWORD, rest) pairs: comments and
    blank lines dropped, backslash continuations joined. Enough for the
    files here (no heredocs, no escape directive)."""
    out, buf = [], ""
    for line in text.splitlines():
        s = line.strip()
        if not buf and (not s or s.startswith("#")):
            continue
        if buf and s.startswith("#"):
            continue  # comment inside a continuation
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        buf += s
        kw, _, rest = buf.partition(" ")
        out.append((kw.upper(), rest.strip()))
        buf = ""
    if buf:
        kw, _, rest = buf.partition(" ")
        out.append((kw.upper(), rest.strip()))
    return out


def stages(instrs):
    result = []
    for kw, rest in instrs:
        if kw == "FROM":
            words = rest.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            result.append({"image": words[0], "name": name, "instrs": []})
        elif result:
            result[-1]["instrs"].append((kw, rest))
        elif kw != "ARG":
            raise AssertionError("instruction before the first FROM: %s %s" % (kw, rest))
    return result


def copy_args(rest):
    """(flags, sources, dest) of a COPY/ADD in shell or JSON form."""
    if rest.startswith("["):
        words = json.loads(rest)
    else:
        words = shlex.split(rest)
    flags = [w for w in words if w.startswith("--")]
    paths = [w for w in words if not w.startswith("--")]
    return flags, paths[:-1], paths[-1]


def index_of(instrs, pred, what):
    for i, (kw, rest) in enumerate(instrs):
        if pred(kw, rest):
            return i
    pytest.fail("final stage has no %s" % what, pytrace=False)


@pytest.fixture(scope="module")
def dockerfile():
    if not os.path.isfile(DOCKERFILE):
        pytest.fail("no Dockerfile at the repository root (%s)" % DOCKERFILE, pytrace=False)
    with open(DOCKERFILE) as f:
        text = f.read()
    return text, stages(parse(text))


def test_two_stages_rust_builder(dockerfile):
    _, st = dockerfile
    assert len(st) >= 2, "multi-stage: a Rust builder, then the tutorial's image"
    builder = st[0]
    assert builder["image"].startswith("rust:"), builder["image"]
    runs = [r for k, r in builder["instrs"] if k == "RUN"]
    assert any("cargo build" in r and "--release" in r and "--locked" in r for r in runs), runs
    # Everything cargo needs is in the builder's context.
    copied = " ".join(r for k, r in builder["instrs"] if k == "COPY")
    for needed in ("Cargo.toml", "Cargo.lock", "src"):
        assert needed in copied, "builder does not COPY %s" % needed
    if os.path.exists(os.path.join(cns.REPO_ROOT, "build.rs")):
        assert "build.rs" in copied, "the crate has a build.rs: COPY it in the builder"


def test_final_stage_is_the_tutorials_image(dockerfile):
    _, st = dockerfile
    final = st[-1]
    assert final["image"] == cns.FINAL_BASE_IMAGE
    workdirs = [r for k, r in final["instrs"] if k == "WORKDIR"]
    assert workdirs == [cns.WORKDIR], workdirs
    kws = [k for k, _ in final["instrs"]]
    assert "ENTRYPOINT" not in kws, "an ENTRYPOINT would change what runs as PID 1"


def test_our_binary_replaces_pips_supervisord(dockerfile):
    _, st = dockerfile
    builder, final = st[0], st[-1]
    ins = final["instrs"]
    pip = index_of(ins, lambda k, r: k == "RUN" and "pip install" in r
                   and "-r requirements.txt" in r, "RUN pip install -r requirements.txt")
    cp = index_of(ins, lambda k, r: k == "COPY" and any(f.startswith("--from=")
                                                          for f in copy_args(r)[0]),
                  "COPY --from=<builder>")
    flags, srcs, dest = copy_args(ins[cp][1])
    assert dest == cns.DAEMON_PATH, "binary installed at %s, want %s" % (dest, cns.DAEMON_PATH)
    assert cp > pip, ("our binary must be copied AFTER pip install, which installs Python's "
                      "supervisord script at %s" % cns.DAEMON_PATH)
    src_stage = [f for f in flags if f.startswith("--from=")][0][len("--from="):]
    assert src_stage in (builder["name"], "0"), src_stage
    bwd = [r for k, r in builder["instrs"] if k == "WORKDIR"]
    expected_src = os.path.join(bwd[-1] if bwd else "/", "target/release/supervisord")
    assert srcs == [expected_src], srcs
    # Nothing after it may put Python's script back.
    for k, r in ins[cp + 1:]:
        assert not (k == "RUN" and "pip" in r), "pip runs after our binary is installed: %s" % r
        if k in ("COPY", "ADD"):
            assert copy_args(r)[2] not in (cns.DAEMON_PATH, os.path.dirname(cns.DAEMON_PATH),
                                           os.path.dirname(cns.DAEMON_PATH) + "/"), r


def test_cmd_and_paths_match_the_namespace_test(dockerfile):
    _, st = dockerfile
    final = st[-1]
    cmds = [r for k, r in final["instrs"] if k == "CMD"]
    assert cmds, "no CMD"
    assert cmds[-1].startswith("["), "CMD must be in exec (JSON) form"
    assert json.loads(cmds[-1]) == ["supervisord", "-c", "/app/supervisord.conf"]
    # What the namespace test runs is what the image runs.
    assert json.loads(cmds[-1]) == cns.CMD
    assert cns.CMD[0] == os.path.basename(cns.DAEMON_PATH)
    assert cns.IMAGE_PATH.split(":")[0] == os.path.dirname(cns.DAEMON_PATH), \
        "the CMD's supervisord must resolve to %s by PATH" % cns.DAEMON_PATH
    assert os.path.dirname(cns.CONF_PATH) == cns.WORKDIR


def test_same_instructions_as_the_tutorials_dockerfile(dockerfile):
    """Apart from the app files' source (conf/tutorial/) and the added COPY
    of our binary, the final stage is the tutorial's Dockerfile."""
    _, st = dockerfile
    with open(os.path.join(cns.tutorial_dir(), "Dockerfile")) as f:
        theirs = stages(parse(f.read()))
    assert len(theirs) == 1
    mine = []
    for k, r in st[-1]["instrs"]:
        if k == "COPY":
            flags, srcs, dest = copy_args(r)
            if any(x.startswith("--from=") for x in flags):
                continue
            srcs = [os.path.relpath(s, cns.APP_SOURCE_DIR) for s in srcs]
            for s in srcs:
                assert not s.startswith(".."), "COPY %s is not from %s" % (r, cns.APP_SOURCE_DIR)
            r = " ".join(flags + srcs + [dest])
        mine.append((k, r))
    assert st[-1]["image"] == theirs[0]["image"]
    assert mine == theirs[0]["instrs"]


def no_host_names(text, st):
    """No registry host in an image name and no host name anywhere in the Dockerfile's text
    (``st``: its stages)."""
    for s in st:
        first = s["image"].split("/")[0]
        if "/" in s["image"]:
            assert "." not in first and ":" not in first and first != "localhost", s["image"]
    assert not re.search(r"\b[\w-]+(\.[\w-]+)*\.(io|com|org|net|dev)\b", text), \
        "a host name in the Dockerfile"


def test_no_registry_host_names(dockerfile):
    no_host_names(*dockerfile)


def test_app_files_are_the_users(dockerfile):
    """conf/tutorial/ (what the image COPYs into /app) holds the user's
    files unchanged."""
    src = os.path.join(cns.REPO_ROOT, cns.APP_SOURCE_DIR)
    user = cns.tutorial_dir()
    missing, differ = [], []
    for f in cns.USER_FILES:
        if f == "Dockerfile":
            continue  # the repo's Dockerfile is ours; the user's is the reference for it
        p = os.path.join(src, f)
        if not os.path.isfile(p):
            missing.append(f)
            continue
        with open(p, "rb") as a, open(os.path.join(user, f), "rb") as b:
            if a.read() != b.read():
                differ.append(f)
    assert not differ, "%s in %s differ from the user's files" % (differ, cns.APP_SOURCE_DIR)
    if missing:
        pytest.skip("%s not yet in %s (the Dockerfile COPYs them from there)"
                    % (missing, cns.APP_SOURCE_DIR))
