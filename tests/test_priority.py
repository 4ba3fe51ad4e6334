"""Faces a user waits for go before extras: the gate the quiz's saliency map waits at (`ui.priority`)."""

from __future__ import annotations

import threading
import time

import pytest

from ui.priority import Gate, foreground


def _hold(gate: Gate, seconds: float) -> threading.Thread:
    started = threading.Event()

    def work():
        with gate.running():
            started.set()
            time.sleep(seconds)

    thread = threading.Thread(target=work)
    thread.start()
    started.wait()
    return thread


def test_an_extra_starts_at_once_on_an_idle_server():
    assert Gate().wait_idle(settle=0.2) < 0.05


def test_an_extra_waits_until_foreground_work_has_ended_and_settled():
    gate = Gate()
    thread = _hold(gate, 0.4)
    waited = gate.wait_idle(settle=0.2, limit=10)
    thread.join()
    assert 0.55 <= waited < 2.0  # the work's remaining 0.4 s, then 0.2 s of quiet


def test_an_extra_is_never_starved():
    gate = Gate()
    thread = _hold(gate, 1.5)
    waited = gate.wait_idle(settle=0.2, limit=0.3)
    assert 0.3 <= waited < 1.0
    thread.join()


def test_the_decorator_marks_work_as_foreground_and_passes_results_and_errors_on():
    gate_seen = []

    @foreground
    def draw(x):
        from ui.priority import FOREGROUND

        gate_seen.append(FOREGROUND._busy)
        if x < 0:
            raise ValueError("negative")
        return 2 * x

    assert draw(3) == 6 and gate_seen == [1]
    with pytest.raises(ValueError, match="negative"):
        draw(-1)
    from ui.priority import FOREGROUND

    assert FOREGROUND._busy == 0  # released after an error too
