"""An event listener that calls back into the daemon with supervisor.childutils on its first
event and writes what getState returned (or the error) to the file named by argv[1]."""
import os
import sys

from supervisor import childutils

out = sys.argv[1]
done = False
while True:
    headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    if not done:
        done = True
        try:
            rpc = childutils.getRPCInterface(os.environ)
            text = rpc.supervisor.getState()["statename"]
        except Exception as e:  # recorded for the test
            text = "error: %s" % type(e).__name__
        with open(out + ".tmp", "w") as f:
            f.write(text)
        os.rename(out + ".tmp", out)
    childutils.listener.ok(sys.stdout)
