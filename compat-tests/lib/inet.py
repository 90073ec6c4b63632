"""Daemons with an [inet_http_server]: its config, a start on a port the daemon could bind
(``lib.ports``), and the ``Authorization`` header of HTTP basic auth."""

import base64

from lib.fragments import (RPCINTERFACE, inet_http_server, sections, sleeper, supervisorctl,
                           supervisord, unix_http_server)
from lib.ports import start_on_free_port

# [supervisord], the rpcinterface and one program, ``a``; the servers come on top.
BASE = sections(supervisord(), RPCINTERFACE, sleeper("a", 100))


def inet(host, port, user="user", password="pass"):
    """The [inet_http_server] on ``host:port``; without credentials when ``user`` is None."""
    if user is None:
        return inet_http_server(port, host)
    return inet_http_server(port, host, user, password)


def start_inet(d, host="127.0.0.1", user="user", password="pass", unix=None):
    """Start ``d`` with an open unix socket (or ``unix``), BASE and an inet server on a free
    port; sets and returns ``d.port`` once ``a`` runs."""
    unix = unix or unix_http_server()
    port = start_on_free_port(
        d, lambda port: sections(unix, BASE, inet(host, port, user, password), supervisorctl()))
    d.port = port
    d.wait_state("a", "RUNNING")
    return port


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
