"""How long each action a user takes waits for its answer, alone and with many users at once.

    python -m benchmarks.latency --repeats 5 --users 20 --json benchmarks/results/latency.json

Starts ``python app.py`` on a free loopback port (its own temporary HOME and TMPDIR; the defaults:
256 px faces, concurrency 2) and drives it through its API with ``gradio_client``, as the page does:

* first answer: a Generate request sent the moment the server answers its first HTTP request, timed
  from the server's start and from that moment (the models are loaded on first use);
* alone: one user, ``--repeats`` times each: Generate with 1 and with 4 faces (the app's engine, the
  Generate tab's default), 1 face of the 2.5D phenotype model, the age strip, the average portrait (12
  children), Explain with each saliency method on a drawn face, and a quiz's start, answer (the
  feedback), saliency map (which the page asks for after the feedback) and next question;
* under load: ``--users`` users at once, each asking Generate (1 face, the app's engine) then starting
  a quiz and answering ``--requests`` times, each answer followed by its map; p50 and p95 of each.

Targets (the app issue): first answer under 5 s after the server is ready; Generate 1 face p95 <= 1 s;
each saliency method p50 <= 1 s; quiz submit p95 <= 1.5 s; under 20 users Generate p95 <= 10 s.
Traffic never leaves this machine. Run it on a quiet machine: it measures waiting, which other work
on the same cores lengthens.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from benchmarks.common import bounded, json_flag, run_benchmark, write_result
from benchmarks.load import _free_port, _start_app
from models.faces import APP_ENGINE, PHENOTYPE
from models.saliency.attribution import METHODS

TARGETS = {"first_answer_s": 5.0, "generate_1_p95_s": 1.0, "saliency_p50_s": 1.0, "quiz_answer_p95_s": 1.5,
           "generate_1_under_load_p95_s": 10.0}  # fmt: skip


def _generate(n_faces: int, generator: str = APP_ENGINE, seed: int = 0) -> tuple:
    return ("down", 6.0, "female", 4, "random", "random", 1.0, n_faces, seed, "frontal", generator, "random")


def _explain(method: str) -> tuple:
    return ("draw", "down", 5.0, "female", 4, 0, None, method, "predicted", True, "black", False)


QUIZ = ("Ann", "syndrome", ["down", "noonan", "williams_beuren", "kabuki"], False, 10, 4, 1.0, "dissimilar",
        "phenotype", None, "")  # fmt: skip


def _choice(outputs: tuple) -> str:
    """The first syndrome offered, from the quiz view's radio update."""
    for value in outputs:
        if isinstance(value, dict) and value.get("choices") and isinstance(value["choices"][0], (list, tuple)):
            return value["choices"][0][1]
    raise RuntimeError("the quiz view offered no answer")


def _timed(times: dict, name: str, call: Callable[[], object]) -> object:
    start = time.perf_counter()
    out = call()
    times.setdefault(name, []).append(time.perf_counter() - start)
    return out


def _quiz_round(client, times: dict, answers: int) -> None:
    view = _timed(times, "quiz_start", lambda: client.predict(*QUIZ, api_name="/quiz_start"))
    for _ in range(answers):
        pick = _choice(view)
        _timed(times, "quiz_answer", lambda p=pick: client.predict(p, [], 3, api_name="/quiz_answer"))
        _timed(times, "quiz_map", lambda: client.predict(api_name="/quiz_map"))
        view = _timed(times, "quiz_next", lambda: client.predict(api_name="/quiz_next"))


def _alone(url: str, repeats: int) -> dict:
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    times: dict[str, list[float]] = {}
    for i in range(repeats):
        _timed(times, "generate_1", lambda i=i: client.predict(*_generate(1, seed=i), api_name="/generate"))
        _timed(times, "generate_4", lambda i=i: client.predict(*_generate(4, seed=i), api_name="/generate"))
        _timed(times, "age_strip", lambda: client.predict(api_name="/age_strip"))
        _timed(times, "average_portrait", lambda: client.predict(12, api_name="/average_portrait"))
        _timed(times, "generate_2d_1",
               lambda i=i: client.predict(*_generate(1, PHENOTYPE, i), api_name="/generate"))  # fmt: skip
        for method in METHODS:
            _timed(times, f"explain_{method}", lambda m=method: client.predict(*_explain(m), api_name="/explain"))
    _quiz_round(client, times, repeats)
    return times


def _loaded(url: str, users: int, requests: int) -> tuple[dict, list[str]]:
    from gradio_client import Client

    times: dict[str, list[float]] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def user(u: int) -> None:
        mine: dict[str, list[float]] = {}
        try:
            client = Client(url, verbose=False, download_files=False)
            for r in range(requests):
                args = _generate(1, seed=u * 100 + r)
                _timed(mine, "generate_1", lambda a=args: client.predict(*a, api_name="/generate"))
            _quiz_round(client, mine, requests)
        except Exception as err:  # noqa: BLE001 - a failed request is counted, not raised
            errors.append(str(err)[:200])
        with lock:
            for k, v in mine.items():
                times.setdefault(k, []).extend(v)

    threads = [threading.Thread(target=user, args=(u,)) for u in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors


def _summary(times: dict) -> dict:
    return {
        k: {"n": len(v), "p50_s": round(float(np.median(v)), 3), "p95_s": round(float(np.percentile(v, 95)), 3)}
        for k, v in times.items()
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=bounded(int, 1, 50), default=5, help="times each action alone (default: 5)")
    p.add_argument("--users", type=bounded(int, 1, 100), default=20, help="users at once under load (default: 20)")
    p.add_argument("--requests", type=bounded(int, 1, 20), default=3,
                   help="Generate requests and quiz answers per user under load (default: 3)")  # fmt: skip
    p.add_argument("--concurrency", type=bounded(int, 1, 16), default=2,
                   help="the app's --concurrency (default: 2, the app's own default)")  # fmt: skip
    json_flag(p, "latency")
    args = p.parse_args(argv)
    from gradio_client import Client

    with tempfile.TemporaryDirectory(prefix="phenoface-latency-") as folder:
        port = _free_port()
        started = time.perf_counter()
        proc = _start_app(Path(folder), port, concurrency=args.concurrency)
        ready = time.perf_counter()
        url = f"http://127.0.0.1:{port}/"
        try:
            Client(url, verbose=False, download_files=False).predict(*_generate(1), api_name="/generate")
            first = time.perf_counter()
            alone = _summary(_alone(url, args.repeats))
            loaded, errors = _loaded(url, args.users, args.requests)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    figures = {
        "targets": TARGETS,
        "server_ready_s": round(ready - started, 2),
        "first_answer_s": round(first - ready, 2),
        "repeats": args.repeats,
        "alone": alone,
        "users": args.users,
        "requests_per_user": args.requests,
        "concurrency": args.concurrency,
        "under_load": _summary(loaded),
        "failed_under_load": len(errors),
        # the engine the quiz, Explain and Generate (its default) drew with: the figures describe its faces
        "app_engine": APP_ENGINE,
    }
    print(
        f"server ready in {figures['server_ready_s']} s; first Generate answered {figures['first_answer_s']} s later"
    )
    for title, table in (("alone", alone), (f"{args.users} users at once", figures["under_load"])):
        print(f"{title}:")
        for name, f in table.items():
            print(f"  {name:<32} p50 {f['p50_s']:6.2f} s   p95 {f['p95_s']:6.2f} s   (n {f['n']})")
    if errors:
        print(f"{len(errors)} users failed; first error: {errors[0]}", file=sys.stderr)
    write_result(args.json, figures, p.prog, argv)
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
