"""Load benchmark: how long users wait when many ask for faces at once.

    python -m benchmarks.load --users 20 --requests 5 --json benchmarks/results/load.json

Starts ``python app.py`` on a free loopback port (its own temporary HOME and TMPDIR), then each of
``--users`` simulated users, in its own thread with its own Gradio session, sends ``--requests``
Generate requests one after another (``--generator``, default the app's engine as the Generate tab
offers it; ``--faces`` each, default 2 as the tab asks; random syndromes and seeds) and records how
long each took from request to answer. Prints the median, 95th percentile and slowest
wait, and the requests per second the server sustained; traffic never leaves this machine.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.common import bounded, json_flag, run_benchmark, write_result
from models.faces import APP_ENGINE, PHENOTYPE, PHENOTYPE_3D

ROOT = Path(__file__).resolve().parents[1]
SYNDROMES = ("down", "williams_beuren", "noonan", "kabuki", "cornelia_de_lange", "angelman", "sotos")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_app(folder: Path, port: int, concurrency: int, extra: Sequence[str] = ()) -> subprocess.Popen:
    """``python app.py`` on `port` with its own HOME and TMPDIR (and `extra` arguments), once it answers."""
    env = {**os.environ, "HOME": str(folder), "TMPDIR": str(folder)}
    cmd = [sys.executable, "app.py", "--port", str(port), "--concurrency", str(concurrency), "--max-queue", "512",
           *extra]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the app did not start within 120 s")


def _user(url: str, user: int, requests: int, waits: list, errors: list, generator: str, faces: int) -> None:
    from gradio_client import Client

    # httpx's default 5 s timeout on each call (the page's config, joining the queue) failed requests that a
    # browser would have waited for, when the machine was busy with other work (14 of 100 under two test suites
    # and a training run on the same 2 cores); a request now fails only if the server fails or it takes a minute
    client = Client(url, verbose=False, download_files=False, httpx_kwargs={"timeout": 60})
    rng = np.random.default_rng(user)
    for _ in range(requests):
        args = (
            SYNDROMES[int(rng.integers(len(SYNDROMES)))], float(rng.integers(1, 17)), ("female", "male")[user % 2],
            int(rng.integers(1, 11)), "random", "random", 1.0, faces, int(rng.integers(0, 10_000)), "frontal",
            generator,
        )  # fmt: skip
        start = time.perf_counter()
        try:
            client.predict(*args, api_name="/generate")
            waits.append(time.perf_counter() - start)
        except Exception as err:  # noqa: BLE001 - a failed request is counted, not raised
            errors.append(str(err)[:200])


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=bounded(int, 1, 100), default=20, help="simulated users at once (default: 20)")
    p.add_argument("--requests", type=bounded(int, 1, 50), default=5, help="Generate requests per user (default: 5)")
    p.add_argument("--concurrency", type=bounded(int, 1, 16), default=2, help="the app's --concurrency (default: 2)")
    p.add_argument(
        "--generator",
        choices=(PHENOTYPE_3D, PHENOTYPE),
        default=APP_ENGINE,
        help="the phenotype engine asked for (default: the app's, the Generate tab's default)",
    )
    p.add_argument(
        "--faces",
        type=bounded(int, 1, 8),
        default=2,
        help="faces per request, each with its pair (default: 2, the Generate tab's default)",
    )
    json_flag(p, "load")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="phenoface-load-") as folder:
        port = _free_port()
        proc = _start_app(Path(folder), port, args.concurrency)
        try:
            waits: list[float] = []
            errors: list[str] = []
            threads = [
                threading.Thread(
                    target=_user,
                    args=(f"http://127.0.0.1:{port}/", u, args.requests, waits, errors, args.generator, args.faces),
                )
                for u in range(args.users)
            ]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    w = np.array(waits)
    figures = {
        "users": args.users,
        "requests_per_user": args.requests,
        "concurrency": args.concurrency,
        "generator": args.generator,
        "faces_per_request": args.faces,
        "answered": len(waits),
        "failed": len(errors),
        "median_wait_s": round(float(np.median(w)), 2) if len(w) else None,
        "p95_wait_s": round(float(np.percentile(w, 95)), 2) if len(w) else None,
        "max_wait_s": round(float(w.max()), 2) if len(w) else None,
        "requests_per_s": round(len(waits) / wall, 2),
        "wall_s": round(wall, 1),
    }
    print(
        f"{args.users} users x {args.requests} Generate requests ({args.faces} faces each, {args.generator}), "
        f"app concurrency {args.concurrency}: "
        f"{figures['answered']} answered, {figures['failed']} failed; wait median {figures['median_wait_s']} s, "
        f"p95 {figures['p95_wait_s']} s, max {figures['max_wait_s']} s; {figures['requests_per_s']} requests/s"
    )
    if errors:
        print(f"first error: {errors[0]}", file=sys.stderr)
    write_result(args.json, figures, p.prog, argv)
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
