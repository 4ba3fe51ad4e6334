"""Faces a user is waiting for go before extras: a quiz's saliency map waits while faces are being drawn.

Two cores serve every user. Under load the quiz's saliency maps (an extra shown after the feedback)
took the cores from the faces other users had asked for: with 20 users at once, a Generate request
waited 21 s at p95 while maps ran beside it. Callbacks that draw what a user asked for run inside
`FOREGROUND.running()` (the `foreground` decorator); an extra calls `FOREGROUND.wait_idle()` first and
starts once no foreground work has run for a moment, or after a time limit, so it is never starved.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Iterator

#: Seconds without foreground work before an extra starts: the gap between one queued request ending
#: and the next one starting is a few milliseconds, which an extra must not slip into.
SETTLE_S = 0.25
#: Seconds an extra waits at most, however busy the server is.
WAIT_LIMIT_S = 30.0


class Gate:
    """Counts foreground work in progress; extras wait until there is none.

    Thread-safe: Gradio runs callbacks in worker threads.
    """

    def __init__(self) -> None:
        self._busy = 0
        self._last_end = float("-inf")
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Mark the enclosed work as foreground (extras wait while it runs)."""
        with self._changed:
            self._busy += 1
        try:
            yield
        finally:
            with self._changed:
                self._busy -= 1
                self._last_end = time.monotonic()
                self._changed.notify_all()

    def wait_idle(self, settle: float = SETTLE_S, limit: float = WAIT_LIMIT_S) -> float:
        """Block until no foreground work has run for ``settle`` seconds, or ``limit`` seconds have passed.

        Args:
            settle: seconds of quiet needed, >= 0.
            limit: seconds to wait at most, >= 0.

        Returns:
            the seconds waited.
        """
        start = time.monotonic()
        with self._changed:
            while True:
                now = time.monotonic()
                quiet = now - self._last_end
                if (self._busy == 0 and quiet >= settle) or now - start >= limit:
                    return now - start
                left = limit - (now - start)
                self._changed.wait(min(left, settle - quiet) if self._busy == 0 else left)


#: The app's one gate.
FOREGROUND = Gate()


def foreground(fn):
    """Decorator: ``fn`` draws what a user is waiting for (`FOREGROUND.running`)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with FOREGROUND.running():
            return fn(*args, **kwargs)

    return wrapper
