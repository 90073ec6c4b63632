"""The Python-free image (docker/static.Dockerfile) without Docker: its final stage's root
file system, built by carrying out the Dockerfile's own instructions, then its CMD run as
PID 1 of new namespaces.

`build_rootfs` reads the final stage and does what `docker build` would: a `COPY --from=`
a stage takes the host file that stands for that stage's file (`STAGE_FILES`: Debian's
busybox-static for the busybox image's, our static build for the builder's), a `COPY` of
the context takes the repository's file, an exec-form `RUN` runs in the root (chroot), `ENV`
and `CMD` are kept. An instruction it does not know fails the build: the test runs what the
Dockerfile says or nothing.
"""

import json
import os
import platform
import shutil
import signal
import struct
import subprocess
import sys
import time

from container_ns import HERE, REPO_ROOT, proc_children

DOCKERFILE = os.path.join(REPO_ROOT, "docker", "static.Dockerfile")
HOST_BUSYBOX = "/bin/busybox"  # Debian's busybox-static


def static_bin(name):
    """Our static build of `name` (cargo build --release --target <host> with crt-static),
    or $STATIC_SUPERVISORD_BIN / $STATIC_SUPERVISORCTL_BIN."""
    env = os.environ.get("STATIC_%s_BIN" % name.upper())
    if env:
        return env
    triple = "%s-unknown-linux-gnu" % platform.machine()
    return os.path.join(REPO_ROOT, "target", triple, "release", name)


def stage_files():
    """What each `COPY --from=<stage> <path>` of the Dockerfile takes, on this host."""
    return {
        ("busybox", "/bin/busybox"): HOST_BUSYBOX,
        ("builder", "/src/target/release/supervisord"): static_bin("supervisord"),
        ("builder", "/src/target/release/supervisorctl"): static_bin("supervisorctl"),
    }


def elf_interpreter(path):
    """None for a file that is not ELF; else the program interpreter it asks for ("" for
    none: a static binary)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit only here
            return None
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, _, p_offset, _, _, p_filesz = struct.unpack("<IIQQQQ", f.read(40))
            if p_type == 3:  # PT_INTERP
                f.seek(p_offset)
                return f.read(p_filesz).rstrip(b"\0").decode()
    return ""


def final_stage(stages):
    return stages[-1]


def build_rootfs(stages, root):
    """Carry out the final stage's instructions into the directory `root`. Returns the
    image's config: {"env": {...}, "cmd": [...], "workdir": "/"}."""
    from test_dockerfile import copy_args

    files = stage_files()
    names = {s["name"] for s in stages if s["name"]}
    final = final_stage(stages)
    assert final["image"] == "scratch", "the final stage must start FROM scratch"
    image = {"env": {}, "cmd": None, "workdir": "/"}
    os.makedirs(root, exist_ok=True)
    for kw, rest in final["instrs"]:
        if kw == "COPY":
            flags, srcs, dest = copy_args(rest)
            stage = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
            assert stage is None or stage in names, "COPY from an unknown stage: %s" % rest
            for src in srcs:
                host = files[(stage, src)] if stage else os.path.join(REPO_ROOT, src)
                assert os.path.isfile(host), "%s (for %s) does not exist" % (host, src)
                to = dest + os.path.basename(src) if dest.endswith("/") else dest
                assert len(srcs) == 1 or dest.endswith("/"), rest
                target = root + to
                os.makedirs(os.path.dirname(target), exist_ok=True)
                shutil.copy2(host, target)
        elif kw == "RUN":
            assert rest.startswith("["), "a RUN in scratch needs the exec form: %s" % rest
            subprocess.run([shutil.which("chroot") or "/usr/sbin/chroot", root] + json.loads(rest), check=True,
                           env={"PATH": image["env"].get("PATH", "/bin")})
        elif kw == "ENV":
            k, _, v = rest.partition("=")
            image["env"][k.strip()] = v.strip()
        elif kw == "CMD":
            image["cmd"] = json.loads(rest)
        elif kw == "WORKDIR":
            image["workdir"] = rest
            os.makedirs(root + rest, exist_ok=True)
        else:
            raise AssertionError("build_rootfs does not know %s %s" % (kw, rest))
    return image


class StaticRoot:
    """One run of the image's CMD as PID 1 of new PID, mount, network, UTS and IPC
    namespaces, in the root file system `root` (rootfs_init.py mounts /proc and /dev)."""

    def __init__(self, workdir, root, image):
        self.root = root
        self.image = image
        self.out_path = os.path.join(workdir, "pid1.out")
        self.spec_path = os.path.join(workdir, "spec.json")
        self.proc = None
        self.pid1 = None
        self.exit_status = None

    def start(self):
        with open(self.spec_path, "w") as f:
            json.dump({"newroot": self.root, "cmd": self.image["cmd"], "env": self.image["env"],
                       "workdir": self.image["workdir"], "hostname": "static"}, f)
        self.out = open(self.out_path, "wb")
        self.proc = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--mount", "--net", "--uts", "--ipc", "--mount-proc",
             "--", sys.executable, os.path.join(HERE, "rootfs_init.py"), self.spec_path],
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=subprocess.STDOUT)
        self.pid1 = self.wait_for(lambda: self.children(self.proc.pid), 10,
                                  "unshare to fork PID 1")[0]

    def wait_for(self, pred, timeout, what, interval=0.2):
        deadline = time.monotonic() + timeout
        while True:
            v = pred()
            if v:
                return v
            if self.proc.poll() is not None:
                raise AssertionError("PID 1 exited (%s) while waiting for %s:\n%s"
                                     % (self.proc.returncode, what, self.dump()))
            if time.monotonic() > deadline:
                raise AssertionError("timed out after %ss waiting for %s:\n%s"
                                     % (timeout, what, self.dump()))
            time.sleep(interval)

    @staticmethod
    def children(pid):
        return proc_children(pid)

    @staticmethod
    def status(pid):
        """/proc/PID/status as {key: value}."""
        with open("/proc/%d/status" % pid) as f:
            return dict(l.split(":\t", 1) for l in f.read().splitlines() if ":\t" in l)

    def run(self, argv, all_ns=True, timeout=60):
        """argv inside the namespaces (all of them, the image's root and PATH), or only in
        the network namespace with the host's tools."""
        if all_ns:
            cmd = ["nsenter", "-t", str(self.pid1), "-a", "-r", "-w", "--"]
            env = dict(self.image["env"], HOME="/root")
        else:
            cmd = ["nsenter", "-t", str(self.pid1), "-n", "--"]
            env = dict(os.environ)
        return subprocess.run(cmd + list(argv), capture_output=True, text=True,
                              timeout=timeout, env=env)

    def sigterm_and_wait(self, timeout=60):
        os.kill(self.pid1, signal.SIGTERM)
        self.exit_status = self.proc.wait(timeout)
        return self.exit_status

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.pid1, signal.SIGKILL)
            except (OSError, TypeError):
                pass
            self.proc.wait(30)

    def read(self, path):
        try:
            with open(self.root + path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def dump(self):
        with open(self.out_path, "rb") as f:
            out = f.read().decode("utf-8", "replace")
        return "----- PID 1's output -----\n%s\n----- /tmp/supervisord.log -----\n%s" % (
            out[-4000:], self.read("/tmp/supervisord.log")[-4000:])
