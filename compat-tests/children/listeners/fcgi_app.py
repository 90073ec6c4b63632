"""A tiny fcgi-program child: accept() one connection on the socket the daemon
passed as fd 0, answer with its process name, then idle (so a second
connection must be served by another process of the group)."""
import os
import socket
import time

sock = socket.socket(fileno=0)
conn, _ = sock.accept()
conn.sendall(("%s %s\n" % (os.environ["SUPERVISOR_PROCESS_NAME"],
                           sock.family.name)).encode())
conn.close()
while True:
    time.sleep(1)
