"""`python app.py` in a subprocess for the tests that drive the real server (raw HTTP, a real browser).

The server runs under a Python audit hook that logs every ``socket.connect`` and
``socket.getaddrinfo`` of its process (threads included), with its own HOME and TMPDIR, so a test
can inspect its network use, database and caches.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from models import tempfiles

ROOT = Path(__file__).resolve().parents[1]
AUDIT_HOOK = """
import json, os, runpy, sys
sys.path.insert(0, os.getcwd())  # as `python app.py` run from the project's folder has it
log = open(sys.argv[1], "a", buffering=1)
def hook(event, args):
    if event == "socket.connect":
        log.write(json.dumps(["connect", repr(args[1])]) + "\\n")
    elif event == "socket.getaddrinfo":
        log.write(json.dumps(["getaddrinfo", str(args[0])]) + "\\n")
sys.addaudithook(hook)
sys.argv = ["app.py", *sys.argv[2:]]
runpy.run_path("app.py", run_name="__main__")
"""
LOCAL_NAMES = {"127.0.0.1", "localhost", "::1", "None"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python app.py`` on a free port (with `args` after it), with its own HOME and TMPDIR, under the socket
    audit hook."""

    def __init__(self, base: Path, args: tuple[str, ...] = ()) -> None:
        self.base = base
        self.tmp = base / "tmp"
        self.home = base / "home"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.home.mkdir(exist_ok=True)
        self.net_log = base / "net.log"
        hook = base / "audit_hook.py"
        hook.write_text(AUDIT_HOOK)
        self.port = _free_port()
        env = {**os.environ, "TMPDIR": str(self.tmp), "HOME": str(self.home)}
        for key in ("GRADIO_TEMP_DIR", "GRADIO_ANALYTICS_ENABLED", "HF_HUB_OFFLINE"):
            env.pop(key, None)  # the app must set these itself
        self.proc = subprocess.Popen(
            [sys.executable, str(hook), str(self.net_log), "--port", str(self.port), *args],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app exited at start: {self.proc.stdout.read()}")
            try:
                httpx.get(self.url, timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError("the app did not start within 120 s")

    def process_folders(self) -> list[Path]:
        return sorted(self.tmp.glob(f"{tempfiles.PREFIX}*"))

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def upload(self, name: str, data: bytes) -> httpx.Response:
        return httpx.post(f"{self.url}/gradio_api/upload", files={"files": (name, data, "image/png")}, timeout=60)

    def call(self, api: str, data: list) -> tuple[str, dict | list | None]:
        """Call an endpoint as curl would; returns ("complete" or "error", the decoded data)."""
        r = httpx.post(f"{self.url}/gradio_api/call/{api}", json={"data": data}, timeout=60)
        if r.status_code != 200:
            return "error", {"status": r.status_code, "text": r.text}
        event_id = r.json()["event_id"]
        text = httpx.get(f"{self.url}/gradio_api/call/{api}/{event_id}", timeout=300).text
        kind, payload = "error", None
        for line in text.splitlines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ").strip()
            elif line.startswith("data: "):
                payload = json.loads(line.removeprefix("data: "))
        return kind, payload

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
