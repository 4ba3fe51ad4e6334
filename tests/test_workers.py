"""The 3D child drawn in worker processes (`models.phenotype.workers`) is the child drawn in-process."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from models.faces import PHENOTYPE_3D, FaceRequest, draw_faces
from models.phenotype import workers
from models.phenotype.engine3d import render3d
from models.phenotype.spec import REGIONS, RenderSpec

ROOT = Path(__file__).resolve().parents[1]
SPEC = RenderSpec(syndrome="williams_beuren", age=4, sex="male", skin_tone=7, seed=11, size=128)


@pytest.fixture(scope="module")
def pool():
    workers.start(2)
    yield
    workers.stop()


def test_workers_draw_the_same_children_and_masks_as_the_server_process(pool):
    assert workers.running() == 2
    pair = [SPEC, dataclasses.replace(SPEC, intensity=0.0)]
    here = [render3d(spec) for spec in pair]
    there = workers.render_many(pair)
    for a, b in zip(here, there, strict=True):
        assert np.array_equal(a.image, b.image)
        assert a.hpo_present == b.hpo_present and a.spec == b.spec
        assert all(np.allclose(a.landmarks[k], b.landmarks[k]) for k in a.landmarks)
        # the masks came back undrawn and are drawn here, from the spec, as the server process draws them
        assert all(np.array_equal(a.masks[r], b.masks[r]) for r in REGIONS)
    # asked for (saliency), they are drawn in the worker and come back as plain arrays
    drawn = workers.render_many(pair, masks=True)
    assert all(type(s.masks) is dict for s in drawn)
    assert all(np.array_equal(a.masks[r], b.masks[r]) for a, b in zip(here, drawn, strict=True) for r in REGIONS)


def test_a_request_draws_its_faces_in_the_workers_and_a_bad_spec_still_says_why(pool, monkeypatch):
    from models.phenotype import engine3d

    # drawing in this process would fail now: every face must come from a worker
    monkeypatch.setattr(engine3d, "_build", lambda spec: (_ for _ in ()).throw(AssertionError("drawn here")))
    faces = draw_faces(FaceRequest(spec=SPEC, generator=PHENOTYPE_3D, n_faces=2, pair=True))
    assert [(f.child, f.without) for f in faces] == [(0, False), (0, True), (1, False), (1, True)]
    assert faces[0].spec.seed == 11 and faces[2].spec.seed == 12
    with pytest.raises(ValueError, match="view"):
        workers.render_many([dataclasses.replace(SPEC, view="upside_down")])


def test_a_dead_worker_is_replaced_and_the_request_still_answered(pool):
    workers.render_many([SPEC])
    for pid in list(workers._pool._processes):  # noqa: SLF001 - the test kills what it started
        os.kill(pid, 9)
    (sample,) = workers.render_many([SPEC])
    assert sample.image.shape == (128, 128, 3)
    assert workers.running() == 2 and len(workers.render_many([SPEC, SPEC])) == 2


def test_the_number_of_workers_is_checked():
    for bad in (0, 17, 1.5, True, "2"):
        with pytest.raises(ValueError, match="render workers"):
            workers.start(bad)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return not any(line.startswith("State:") and "Z" in line for line in status)
    except FileNotFoundError:
        return False


def test_workers_end_when_a_killed_server_cannot_stop_them():
    script = (
        "from models.phenotype import workers; from models.phenotype.spec import RenderSpec; import time\n"
        "workers.start(2); workers.render_many([RenderSpec(syndrome='down', age=5, size=128)])\n"
        "print(*workers._pool._processes, flush=True); time.sleep(120)\n"
    )
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    pids = [int(p) for p in server.stdout.readline().split()]
    assert pids and all(_alive(p) for p in pids)
    server.kill()  # SIGKILL: no atexit, no shutdown
    server.wait()
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in pids)


def test_a_sigterm_to_the_whole_process_group_mid_render_stops_the_server(tmp_path):
    # `timeout` (and a container runtime killing a group) signal every process of the group: the workers died
    # mid-render (the warm-up's), the server restarted them while shutting down, and the new pool kept it
    # running for ever
    import httpx

    env = {**os.environ, "HOME": str(tmp_path), "TMPDIR": str(tmp_path)}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env, **quiet,
                              start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        time.sleep(1)  # the warm-up draws in the workers now
        workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True,
                                                  text=True).stdout.split()]  # fmt: skip
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the server was still running 30 s after SIGTERM to its process group")
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert workers and not any(_alive(p) for p in workers)
