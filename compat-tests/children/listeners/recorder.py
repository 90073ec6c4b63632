"""Event listener for the compat tests, written with supervisor.childutils.

Records every event it receives (headers and payload) as one JSON line in
$EVENTS_OUT, then answers OK.  $LISTENER_MODE changes its behaviour:
  ok       record, answer OK; a REMOTE_COMMUNICATION of type "fail" is answered
           FAIL the first time it arrives (so it is sent again)
  garbage  write a line that is not READY, then idle (protocol violation)
  die      exit without answering when a REMOTE_COMMUNICATION of type "die"
           arrives the first time (the event must be redelivered)
  gate     after the first event, wait for $EVENTS_OUT.go before answering
"""
import json
import os
import sys
import time

from supervisor import childutils

out = os.environ["EVENTS_OUT"]
mode = os.environ.get("LISTENER_MODE", "ok")
name = os.environ.get("SUPERVISOR_PROCESS_NAME", "")


def record(headers, payload, result):
    with open(out, "a") as f:
        f.write(json.dumps({"proc": name, "headers": headers, "payload": payload,
                            "result": result}) + "\n")


def once(flag):
    """True the first time it is called for ``flag`` (across restarts)."""
    path = out + "." + flag
    if os.path.exists(path):
        return False
    open(path, "w").close()
    return True


if mode == "garbage":
    sys.stdout.write("this is not the protocol\n")
    sys.stdout.flush()
    while True:
        time.sleep(1)

first = True
while True:
    headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    if mode == "die" and payload.startswith("type:die") and once("died"):
        os._exit(3)
    if mode == "ok" and payload.startswith("type:fail") and once("failed"):
        record(headers, payload, "FAIL")
        childutils.listener.fail(sys.stdout)
        continue
    record(headers, payload, "OK")
    if mode == "gate" and first:
        while not os.path.exists(out + ".go"):
            time.sleep(0.05)
    first = False
    childutils.listener.ok(sys.stdout)
