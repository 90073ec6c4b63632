"""supervisorctl's interactive shell, stock client against ours (``ctl_clients``).

On a pseudo-terminal (pexpect) each scenario waits for the prompt (or the text it names)
after every line it types, so what is on the screen does not depend on timing.  The
transcripts are compared after removing terminal control sequences and carriage returns
(GNU readline and rustyline redraw a line differently; the text is what counts) and the
usual normalisation.  A pipe of commands on stdin (no terminal) is compared byte for byte.
"""

import re
import subprocess

import pexpect
import pytest

from conftest import CTL_TIMEOUT, compare, error_line, wait_until
from lib.fragments import echo, program, sections, sleeper

pytestmark = pytest.mark.ctl_clients

PROGRAMS = sections(
    program("a", 'sh -c "echo a-says-hi; exec sleep 100"', startsecs=0, stopwaitsecs=2),
    echo(),
    sleeper("idle", 100, stopwaitsecs=None, autostart=False))

PROMPT = "supervisor> "
CSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def started(d, **kw):
    d.start(PROGRAMS, **kw)
    d.wait_state("a", "RUNNING")
    d.wait_state("echo", "RUNNING")
    wait_until(lambda: "ready" in d.rpc.supervisor.readProcessStdoutLog("echo", 0, 0)
               and "a-says-hi" in d.rpc.supervisor.readProcessStdoutLog("a", 0, 0),
               daemon=d, what="programs to have written their first lines")
    return d


def screen(text):
    """What a terminal shows after ``text``: carriage returns, backspaces, cursor moves and
    erasing applied (GNU readline and rustyline redraw a line differently; the text on the
    screen is what counts). Other control sequences are dropped."""
    lines, cur, col = [], [], 0
    i = 0
    while i < len(text):
        c = text[i]
        m = CSI.match(text, i)
        if m:
            seq = m.group(0)
            n = int(re.sub(r"\D", "", seq) or 1) if seq[-1] in "CD" else 0
            if seq[-1] == "C":
                col += n
            elif seq[-1] == "D":
                col = max(0, col - n)
            elif seq[-1] == "K" and "?" not in seq:
                del cur[col:]
            i = m.end()
            continue
        if c == "\n":
            lines.append("".join(cur).rstrip())
            cur, col = [], 0
        elif c == "\r":
            col = 0
        elif c == "\b":
            col = max(0, col - 1)
        elif c == "\x1b" or c == "\x07":
            pass
        else:
            cur.extend(" " * (col - len(cur)))
            if col < len(cur):
                cur[col] = c
            else:
                cur.append(c)
            col += 1
        i += 1
    return "\n".join(lines + ["".join(cur).rstrip()])


class Shell:
    """supervisorctl on a pseudo-terminal; ``log`` collects what it printed."""

    def __init__(self, d, *args, conf=None, prompt=PROMPT):
        self.d = d
        self.prompt = prompt
        self.child = pexpect.spawn(str(d.ctl_bin), ["-c", str(conf or d.conf)] + list(args),
                                   cwd=str(d.tmp), encoding="utf-8", timeout=CTL_TIMEOUT,
                                   dimensions=(40, 200))
        self.log = []

    def wait(self, *texts):
        """Wait for the prompt (or one of ``texts``) or the end; return what matched."""
        wanted = list(texts) or [self.prompt]
        i = self.child.expect_exact(wanted + [pexpect.EOF])
        self.log.append(self.child.before)
        if i < len(wanted):
            self.log.append(self.child.after)
            return wanted[i]
        return None

    def line(self, text, *wait_for):
        self.child.sendline(text)
        return self.wait(*wait_for)

    def key(self, control, *wait_for):
        """Send a control character (``c`` for Ctrl-C, ``d`` for Ctrl-D)."""
        self.child.sendcontrol(control)
        return self.wait(*wait_for)

    def text(self):
        text = self.d.norm(screen("".join(self.log)))
        # The stock client's `tail -f` races with Ctrl-C: the KeyboardInterrupt lands either in
        # its wait (it prints nothing) or inside its stream handler, which then reports it as
        # `<url> Cannot connect, error: <class 'KeyboardInterrupt'> ()`. Either is one Ctrl-C.
        text = re.sub(r"(?m)^\^C\S+ Cannot connect, error: <class 'KeyboardInterrupt'> \(\)$",
                      "^C", text)
        # The stock client's `fg` reader thread sometimes dies as `fg` ends, and Python starts
        # printing "Exception in thread ..." just as the prompt comes back: its own race.
        return re.sub(r"Exception in thread (?=supervisor> )", "", text)

    def finish(self):
        """(exit status, signal, screen text)."""
        if self.child.isalive():
            self.child.expect(pexpect.EOF)
            self.log.append(self.child.before)
        self.child.close()
        return self.child.exitstatus, self.child.signalstatus, self.text()


def scenario_commands(d):
    started(d)
    sh = Shell(d)
    sh.wait()
    for cmd in ["status", "", "foo bar", "help", "help status", "help nosuch", "pid idle",
                "version", "tail a", "status nosuch", "?stop", "stop idle", "start idle",
                "status idle", "quit"]:
        sh.line(cmd)
    return sh.finish()


def test_shell_commands(daemon, oracle):
    rc, sig, text = compare(daemon, oracle, scenario_commands)
    assert (rc, sig) == (0, None)
    assert text.startswith("a                                RUNNING   pid N, uptime T\n"), text
    assert "supervisor> foo bar\n*** Unknown syntax: foo bar\n" in text
    assert "supervisor> start idle\nidle: started\n" in text
    assert text.endswith("supervisor> quit\n\n")


@pytest.mark.parametrize("how", ["eof", "interrupt", "exit"])
def test_shell_leaves_cleanly(daemon, oracle, how):
    def scenario(d):
        started(d)
        sh = Shell(d)
        sh.wait()
        if how == "eof":
            sh.key("d")
        elif how == "interrupt":
            sh.key("c")
        else:
            sh.line("exit")
        return sh.finish()
    rc, sig, text = compare(daemon, oracle, scenario)
    assert (rc, sig) == (0, None)
    assert text.endswith({"exit": "supervisor> exit\n\n", "eof": "supervisor>\n",
                          "interrupt": "supervisor>\n"}[how])


def scenario_confirm(d):
    started(d)
    sh = Shell(d)
    sh.wait()
    ask_reload = "Really restart the remote supervisord process y/N? "
    ask_shutdown = "Really shut the remote supervisord process down y/N? "
    sh.line("reload", ask_reload)
    sh.line("n")
    sh.line("shutdown", ask_shutdown)
    sh.line("")
    sh.line("shutdown extra")
    sh.line("shutdown", ask_shutdown)
    sh.line("Yes")
    daemon_rc = d.wait_exit()
    sh.line("status")
    sh.line("exit")
    return sh.finish() + (daemon_rc,)


def test_shell_confirms_reload_and_shutdown(daemon, oracle):
    rc, sig, text, daemon_rc = compare(daemon, oracle, scenario_confirm)
    assert (rc, sig, daemon_rc) == (0, None, 0)
    assert "down y/N? Yes\nShut down\n" in text
    assert text.count("Shut down") == 1


def scenario_tail_f(d, command, wait_for):
    started(d)
    sh = Shell(d)
    sh.wait()
    sh.line(command, "==> Press Ctrl-C to exit <==")
    sh.wait(wait_for)
    if command.startswith("fg"):
        sh.line("hello", "err: hello")
    shown = sh.text()
    sh.key("c")
    if command.startswith("fg"):
        # The stock client's `fg` threads notice Ctrl-C only when their select() returns:
        # output wakes them at once, where they would otherwise hold `exit` for its 30 s
        # timeout. (They print nothing more: they end at their next Python line.)
        d.rpc.supervisor.sendProcessStdin("echo", "wake\n")
    sh.line("status a")
    sh.line("exit")
    rc, sig, text = sh.finish()
    if command.startswith("maintail"):
        # the main log's last 1024 bytes: where that window starts depends on the pids'
        # widths; what matters is that it streams and that Ctrl-C returns to the prompt
        assert "success: echo entered RUNNING state" in shown
        text = re.sub(r"(?s)<==\n.*?\^C", "<==\n...^C", text)
    if command.startswith("fg"):
        # stdout and stderr come on two connections: their interleaving is a race
        head, _, tail = text.partition("<==\n")
        body, _, rest = tail.partition("Exiting foreground")
        body = body.replace("^C", "")  # (where the echo of Ctrl-C lands is a race too)
        text = head + "<==\n" + "".join(sorted(body.splitlines(True))) + "Exiting foreground" + rest
    return rc, sig, text


@pytest.mark.parametrize("command,wait_for", [
    ("tail -f a", "a-says-hi"),
    ("tail -f echo stderr", "ready"),
    ("maintail -f", "success: echo entered RUNNING state"),
    ("fg echo", "ready"),
])
def test_shell_follow_until_ctrl_c(daemon, oracle, command, wait_for):
    rc, sig, text = compare(daemon, oracle, scenario_tail_f, command, wait_for)
    assert (rc, sig) == (0, None)
    marker = "Exiting foreground" if command.startswith("fg") else "^C"
    assert marker in text and text.endswith("supervisor> exit\n\n"), text
    assert "a                                RUNNING" in text.split(marker, 1)[1]


def scenario_history(d):
    """history_file: what a session typed is there for the next one (arrow up)."""
    hist = d.tmp / "hist"
    d.start(PROGRAMS, ctl_extra="history_file=%(here)s/hist\n")
    d.wait_state("a", "RUNNING")
    sh = Shell(d)
    sh.wait()
    sh.line("pid idle")
    sh.line("version")
    sh.line("exit")
    first = sh.finish()
    saved = hist.read_text()
    sh = Shell(d)
    sh.wait()
    sh.child.send("\x1b[A\x1b[A\x1b[A")  # up three times: "pid idle"
    # (rustyline redraws the prompt with the recalled line: wait for the command's output)
    sh.line("", "0\r\n")
    sh.wait()
    sh.line("quit")
    return first, saved, sh.finish()


def test_shell_history_file(daemon, oracle):
    first, saved, second = compare(daemon, oracle, scenario_history)
    assert saved == "pid idle\nversion\nexit\n"
    assert "supervisor> pid idle\n0\n" in second[2], second


def scenario_prompt_and_open(d):
    d.start(PROGRAMS, ctl_extra="prompt=mine\n")
    d.wait_state("a", "RUNNING")
    sh = Shell(d, prompt="mine> ")
    sh.wait()
    sh.line("open nosuch://x")
    sh.line("open unix://%s.nosuch" % d.sock)
    sh.line("status")
    sh.line("open unix://%s" % d.sock)
    sh.line("exit")
    return sh.finish()


def test_shell_prompt_and_open(daemon, oracle):
    rc, sig, text = compare(daemon, oracle, scenario_prompt_and_open)
    assert "ERROR: url must be http:// or unix://" in text
    assert "unix://<TMP>/s.sock.nosuch no such file" in text


def scenario_auth(d):
    """A 401 in the shell: the stock client asks for credentials, then runs the command."""
    d.start(PROGRAMS, auth=("alice", "secret"), wait_ready=False)
    wait_until(lambda: d.ctl("pid", "a")[0] == 0, daemon=d, what="a to run")
    conf = d.tmp / "noauth.conf"
    conf.write_text("[supervisorctl]\nserverurl=unix://%s\n" % d.sock)
    sh = Shell(d, conf=conf)
    sh.wait("Username:")
    sh.line("alice", "Password:")
    sh.line("secret")
    sh.line("pid idle")
    sh.line("exit")
    return sh.finish()


def test_shell_asks_credentials(daemon, oracle):
    rc, sig, text = compare(daemon, oracle, scenario_auth)
    assert text.startswith("Server requires authentication\nUsername:alice\nPassword:"), text
    assert "a                                RUNNING" in text


def piped(d, script, *args):
    p = subprocess.run([str(d.ctl_bin), "-c", str(d.conf)] + list(args), input=script,
                       capture_output=True, text=True, timeout=CTL_TIMEOUT, cwd=str(d.tmp))
    return p.returncode, d.norm(p.stdout), d.norm(p.stderr)


def scenario_pipe(d):
    started(d)
    return [
        piped(d, "status\nfoo\n\n   \nhelp pid\npid idle\n?\ntail a\nstop idle\nversion\n"),
        piped(d, "status a\nquit\nstatus\n"),
        piped(d, "shutdown\nn\nreload\n"),  # a confirmation cut short by the end of input
        piped(d, "", "-i"),
        piped(d, "status\n", "-i", "pid", "idle"),  # -i with a command: the command only
        piped(d, "version"),  # no newline at the end
    ]


def test_shell_on_a_pipe(daemon, oracle):
    res = compare(daemon, oracle, scenario_pipe)
    rc, out, err = res[0]
    assert rc == 0 and err == ""
    assert out.startswith("a                                RUNNING   pid N, uptime T\n")
    assert "supervisor> *** Unknown syntax: foo\nsupervisor> supervisor> supervisor> " in out
    eof = error_line(daemon.client, "<class 'EOFError'>, EOF when reading a line",
                     "the input ended before an answer was given")
    rc, out, err = res[2]  # (the shell starts with `status`)
    assert (rc, err) == (0, "") and out.endswith(
        "\nsupervisor> Really shut the remote supervisord process down y/N? "
        "supervisor> Really restart the remote supervisord process y/N? "
        + eof + "\nsupervisor> \n"), res[2]
    assert res[4] == (7, "0\n", "")


def scenario_completion(d):
    """Tab completes a command, a process name, a group spec."""
    started(d)
    sh = Shell(d)
    sh.wait()
    # (rustyline redraws the prompt with the completed line: wait for each command's output)
    sh.child.send("versi\t")
    sh.line("", "4.2.5\r\n")
    sh.wait()
    sh.child.send("pid id\t")
    sh.line("", "\r\n0\r\n")
    sh.wait()
    sh.child.send("status id\t")
    sh.line("", "Not started")
    sh.wait()
    sh.line("exit")
    return sh.finish()


def test_shell_tab_completion(daemon, oracle):
    rc, sig, text = compare(daemon, oracle, scenario_completion)
    assert "supervisor> version\n4.2.5\n" in text
    assert "supervisor> pid idle\n0\n" in text
    assert "supervisor> status idle\nidle                             STOPPED" in text
