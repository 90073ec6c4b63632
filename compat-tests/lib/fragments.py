"""Config fragments: the sections the tests start daemons with, written once.

Each function returns one section as text without indentation, ending in a newline;
options are written in the order given (``None`` leaves an option out, booleans are
``true``/``false``). ``sections(...)`` joins fragments and literal config text (dedented
each on its own, so an indented literal never turns into continuation lines):

    PROGRAMS = sections(sleeper("a"), sleeper("b", autostart=False),
                        group("g", ["c"]), sleeper("c"))

The text keeps the harness's placeholders (``@TMP@``, ``@PYTHON@``, ``@CHILDREN@``), which
``Daemon.start`` and ``Daemon.write_config`` substitute.
"""

import textwrap

RPCINTERFACE = """\
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
"""


def section(header, **options):
    """``[header]`` and ``key=value`` lines."""
    lines = ["[%s]" % header]
    for key, value in options.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        lines.append("%s=%s" % (key, value))
    return "\n".join(lines) + "\n"


def sections(*parts):
    """Fragments and literal config text, each dedented, separated by blank lines."""
    return "\n".join(textwrap.dedent(p).strip("\n") + "\n" for p in parts if p)


def program(name, command, **options):
    return section("program:%s" % name, command=command, **options)


def sleeper(name, seconds=1000, startsecs=0, stopwaitsecs=2, **options):
    """A program that sleeps until it is stopped: RUNNING at once (``startsecs=0``), gone
    on SIGTERM, SIGKILLed after ``stopwaitsecs`` in any case."""
    return program(name, "sleep %s" % seconds, startsecs=startsecs,
                   stopwaitsecs=stopwaitsecs, **options)


def group(name, programs, **options):
    return section("group:%s" % name, programs=",".join(programs), **options)


def unix_http_server(username=None, password=None):
    """The harness's unix socket, ``@TMP@/s.sock``, with credentials when given."""
    return section("unix_http_server", file="@TMP@/s.sock", username=username,
                   password=password)


def inet_http_server(port, host="127.0.0.1", username=None, password=None):
    return section("inet_http_server", port="%s:%s" % (host, port), username=username,
                   password=password)


def supervisord(logfile="@TMP@/supervisord.log", nodaemon=True, **options):
    """The harness's ``[supervisord]``: log, pidfile and child logs in the temp dir."""
    return section("supervisord", logfile=logfile, pidfile="@TMP@/supervisord.pid",
                   childlogdir="@TMP@", nodaemon=nodaemon, **options)


def supervisorctl(serverurl="unix://@TMP@/s.sock", username=None, password=None, **options):
    return section("supervisorctl", serverurl=serverurl, username=username, password=password,
                   **options)


def base(unix=None, inet=None, nodaemon=True, ctl=None):
    """A whole base config (servers, ``[supervisord]``, the rpcinterface, ``[supervisorctl]``)
    for tests that write the file themselves (``raw=``): ``unix``/``inet`` are server
    fragments (default: the open unix socket), ``ctl`` a ``[supervisorctl]`` fragment."""
    return sections(unix or unix_http_server(), inet or "", supervisord(nodaemon=nodaemon),
                    RPCINTERFACE, ctl or supervisorctl())


def echo(name="echo", prefix=None, startsecs=0, stopwaitsecs=5, **options):
    """children/echo.py: says ``ready`` (after ``prefix``) on both streams, then echoes each
    line of its stdin as ``out: x`` on stdout and ``err: x`` on stderr."""
    command = "@PYTHON@ -u @CHILDREN@/echo.py" + (" --prefix %s" % prefix if prefix else "")
    return program(name, command, startsecs=startsecs, stopwaitsecs=stopwaitsecs, **options)
