"""A class answering at once: no answer lost, and how long learners wait, on a shared server.

    python -m benchmarks.class_load --learners 50 --json benchmarks/results/class_load.json

Makes an educator, ``--learners`` learner accounts, a class and a quiz set of ``--questions`` questions in
the quiz database (``--db``: a PostgreSQL URL, by default ``$PHENOFACE_TEST_POSTGRES_URL``, else a
temporary SQLite file), starts ``python app.py --accounts`` on it (a free loopback port), and lets every
learner sign in (four at a time: a class arrives over a minute, and each sign-in checks an Argon2id
hash), then, all at once, each in its own thread and Gradio session, start the set and answer every
question as fast as the server allows. Then counts the answers the database holds against those the server
confirmed (none may be missing) and prints the p50 and p95 wait of a quiz start and of an answer.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from benchmarks.common import bounded, json_flag, run_benchmark, write_result
from benchmarks.load import _free_port, _start_app


def _sign_in(url: str, name: str, password: str):
    from gradio_client import Client

    return Client(url, auth=(name, password), verbose=False, download_files=False, httpx_kwargs={"timeout": 300})


def _learner(client, name: str, code: str, questions: int, go: threading.Barrier, waits: dict, errors: list) -> None:
    try:
        go.wait()
        start = time.perf_counter()
        client.predict(name, "syndrome", [], False, 10, 4, 1.0, "similar", "phenotype", None, code,
                       api_name="/quiz_start")  # fmt: skip
        waits["start"].append(time.perf_counter() - start)
        for _ in range(questions):
            start = time.perf_counter()
            client.predict("down", [], 3, api_name="/quiz_answer")
            waits["answer"].append(time.perf_counter() - start)
            client.predict(api_name="/quiz_next")
    except Exception as err:  # noqa: BLE001 - a failed learner is counted, not raised
        errors.append(f"{name}: {str(err)[:200]}")


def _p(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values else None


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.class_load", description=__doc__.split("\n\n")[0])
    p.add_argument("--learners", type=bounded(int, 1, 200), default=50, help="learners at once (default: 50)")
    p.add_argument("--questions", type=bounded(int, 1, 20), default=3, help="questions in the set (default: 3)")
    p.add_argument("--concurrency", type=bounded(int, 1, 16), default=2, help="the app's --concurrency (default: 2)")
    p.add_argument("--db", default=None, help="quiz database (default: $PHENOFACE_TEST_POSTGRES_URL, else SQLite)")
    json_flag(p, "class_load")
    args = p.parse_args(argv)
    from models.quiz import QuizSettings
    from models.quiz.programme import ProgrammeStore

    with tempfile.TemporaryDirectory(prefix="phenoface-class-") as folder:
        db = args.db or os.environ.get("PHENOFACE_TEST_POSTGRES_URL") or str(Path(folder) / "class.sqlite3")
        store = ProgrammeStore(db)
        tag = f"{os.getpid()}-{int(time.time())}"  # fresh names: the benchmark may run on a database in use
        educator = f"Educator {tag}"
        store.create_account(educator, "benchmark-educator", role="educator")
        class_code = store.create_class(educator, f"Class load {tag}")
        settings = QuizSettings(syndromes=("down", "noonan", "kabuki", "williams_beuren"),
                                n_questions=args.questions, n_choices=4, seed=11)  # fmt: skip
        set_code = store.create_set(educator, "Load", settings).code
        learners = {f"Learner {i:03d} {tag}": f"password-{i:03d}" for i in range(args.learners)}
        for name, password in learners.items():
            store.create_account(name, password)
            store.join_class(name, class_code)
        port = _free_port()
        proc = _start_app(Path(folder), port, args.concurrency, ("--accounts", "--db", db))
        try:
            waits: dict[str, list[float]] = {"start": [], "answer": []}
            errors: list[str] = []
            url = f"http://127.0.0.1:{port}/"
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(4) as pool:
                clients = list(pool.map(lambda item: _sign_in(url, *item), learners.items()))
            go = threading.Barrier(len(clients))
            threads = [threading.Thread(target=_learner, args=(c, n, set_code, args.questions, go, waits, errors))
                       for c, n in zip(clients, learners, strict=True)]  # fmt: skip
            began = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - began
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        stored = len(store.class_answers(educator, class_code, set_code))
        backend = "postgresql" if "://" in db and db.startswith("postgresql") else "sqlite"
    confirmed = len(waits["answer"])
    figures = {
        "backend": backend, "learners": args.learners, "questions": args.questions, "concurrency": args.concurrency,
        "answers_confirmed": confirmed, "answers_stored": stored, "answers_lost": confirmed - stored,
        "failed_learners": len(errors), "start_p50_s": _p(waits["start"], 50), "start_p95_s": _p(waits["start"], 95),
        "answer_p50_s": _p(waits["answer"], 50), "answer_p95_s": _p(waits["answer"], 95), "wall_s": round(wall, 1),
    }  # fmt: skip
    print(
        f"{args.learners} learners x {args.questions} answers on {backend}: {confirmed} confirmed, {stored} stored, "
        f"{confirmed - stored} lost, {len(errors)} learners failed; quiz start p50 {figures['start_p50_s']} s, "
        f"p95 {figures['start_p95_s']} s; answer p50 {figures['answer_p50_s']} s, p95 {figures['answer_p95_s']} s"
    )
    if errors:
        print(f"first error: {errors[0]}", file=sys.stderr)
    write_result(args.json, figures, p.prog, argv)
    return 0 if not errors and confirmed == stored else 1


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
