"""Make docs/dashboard.png: the tutorial's leaking app (conf/tutorial/main.py under uvicorn)
on the dashboard, with memory_limit=250MB in place of the tutorial's monitor.

    python docs/dashboard_screenshot.py --uvicorn VENV/bin/uvicorn [--seconds 150]

Needs our release build, the tutorial's packages (fastapi, uvicorn) in VENV, Chromium and the
playwright package. The leak is driven as in the container test: GET / (10 MB each) every
0.4 s, so memory_limit restarts uvicorn about every 10 s.
"""
import argparse
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CONF = """\
[inet_http_server]
port=127.0.0.1:{port}
username=admin
password=admin

[supervisord]
nodaemon=true
logfile={tmp}/supervisord.log
pidfile={tmp}/supervisord.pid
memory_check_interval=2

[program:fastapi_0]
command={uvicorn} main:app --host 127.0.0.1 --port {app_port}
directory={tmp}
stdout_logfile={tmp}/uvicorn.log
redirect_stderr=true
startsecs=3
stopasgroup=true
killasgroup=true
environment=PYTHONUNBUFFERED=1
memory_limit=250MB

[program:worker]
command=sleep 100000
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uvicorn", required=True)
    ap.add_argument("--seconds", type=float, default=150)
    ap.add_argument("--out", default=str(ROOT / "docs" / "dashboard.png"))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dash-shot-"))
    shutil.copy(ROOT / "conf" / "tutorial" / "main.py", tmp / "main.py")
    port, app_port = free_port(), free_port()
    (tmp / "s.conf").write_text(CONF.format(port=port, app_port=app_port, tmp=tmp,
                                            uvicorn=args.uvicorn))
    d = subprocess.Popen([str(ROOT / "target" / "release" / "supervisord"), "-c",
                          str(tmp / "s.conf")])
    stop = threading.Event()

    def leak():
        while not stop.is_set():
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/" % app_port, timeout=5).read()
            except OSError:
                pass
            time.sleep(0.4)
    try:
        time.sleep(5)
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                tempfile.mkdtemp(), executable_path=shutil.which("chromium"), headless=True,
                args=["--no-sandbox", "--disable-gpu"],
                http_credentials={"username": "admin", "password": "admin"},
                viewport={"width": 1280, "height": 860})
            page = ctx.pages[0]
            page.goto("http://127.0.0.1:%d/dashboard/" % port)
            threading.Thread(target=leak, daemon=True).start()
            page.wait_for_function("window.dash && window.dash.updates > 0")
            page.locator('tr.proc[data-namespec="fastapi_0"] td.name').click()
            time.sleep(args.seconds)
            page.screenshot(path=args.out, full_page=True)
            ctx.close()
    finally:
        stop.set()
        d.terminate()
        d.wait(60)


if __name__ == "__main__":
    main()
