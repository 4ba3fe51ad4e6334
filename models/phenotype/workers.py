"""The 3D child drawn in worker processes, so that a server's cores draw several children at once.

One Python process draws one 3D child at a time however many threads ask: building a head is Python and
numpy work that holds the interpreter lock, and OpenGL runs under the renderer's own lock. Measured on
the 2-core machine, a Generate request (a child and the same child without the syndrome) spent 0.4 s in
the server and 20 users at once got 2.4 answers a second. A server (``app.py``) therefore calls
`start`; `render_many` then sends each child to a worker process (spawned: no file, socket or lock of
the server is inherited) and the two children of a pair are drawn at the same time. Without `start`
(tests, scripts, the cohort CLI, which runs its own processes) every child is drawn in the calling
process. The images are the same either way.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .spec import FaceSample, RenderSpec

log = logging.getLogger(__name__)

_pool: ProcessPoolExecutor | None = None
_workers = 0
_closing = False  # set at exit: no new pool after that
_lock = threading.Lock()


def start(workers: int) -> None:
    """Start ``workers`` worker processes for `render_many` (once; later calls change nothing).

    The processes start now and each loads the head model and its OpenGL context in the background, so
    the first request does not wait for them; they stop when this process exits.

    Args:
        workers: number of processes, 1 to 16 (the machine's cores is the useful most).

    Raises:
        ValueError: ``workers`` out of range.
    """
    global _pool, _workers
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 16:
        raise ValueError(f"the number of render workers must be a whole number from 1 to 16, not {workers!r}")
    with _lock:
        if _pool is not None:
            return
        _workers = workers
        _pool = ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=_end_with_parent
        )
        pool = _pool
    for _ in range(workers):  # one warm-up each (an idle worker takes the next task): all start loading now
        pool.submit(_warm)


def stop() -> None:
    """Stop the worker processes (waiting renders are cancelled); drawing goes back in-process."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


@atexit.register
def _close() -> None:
    """At exit: stop the workers for good (registered once, whichever pools were started)."""
    global _closing
    _closing = True
    stop()


def abandon() -> None:
    """Before a hurried exit (``os._exit``, the workers not waited for): release the pool's semaphores.

    Its queues' five semaphores are named system objects, normally released when the pool is shut down or
    collected; skipped, multiprocessing's resource tracker released them for us and printed "There appear to
    be 5 leaked semaphore objects" on the way out. Releasing only unlinks their names: the workers keep what
    they hold open, and end on their own once this process has gone. It runs the clean-ups multiprocessing
    runs at a normal exit, for every multiprocessing object of this process (not only the pool's), but not
    the ones that wait for threads; call it only on the way out.
    """
    from multiprocessing import util

    util._run_finalizers(0)  # noqa: SLF001 - what multiprocessing runs at a normal exit, minus the joins


def running() -> int:
    """How many worker processes draw (0: every child is drawn in the calling process)."""
    return _workers if _pool is not None else 0


def render_many(specs: Sequence[RenderSpec], masks: bool = False) -> list[FaceSample]:
    """`engine3d.render3d` of each spec, in the worker processes when `start` was called, in order.

    Args:
        specs: what to draw.
        masks: draw the region masks in the worker too (saliency needs them); otherwise a worker's
            sample draws them again from its spec when they are first read (head and vertex-id pass,
            about 0.1 s), while a sample drawn in this process keeps its head for them (25 ms).

    Returns:
        one `FaceSample` per spec, as `render3d` returns it.

    Raises:
        ValueError: a bad spec (raised in the worker, passed on here).
        RuntimeError: no OpenGL on this machine.
    """
    from .engine3d import render3d

    pool = _pool
    if pool is None or not specs:
        return [render3d(spec) for spec in specs]
    try:
        return list(pool.map(_render, specs, [masks] * len(specs)))
    except BrokenProcessPool:  # a worker died (killed, out of memory): draw here, and start afresh
        log.exception("a render worker died; drawing in the server process and restarting the workers")
        workers = _workers
        stop()
        if not _closing:  # never while the server shuts down: a new pool would keep it running
            start(workers)
        return [render3d(spec) for spec in specs]


def _end_with_parent() -> None:
    """In a worker, at its start: exit when the server process ends, however it ends (a killed server's
    workers would otherwise wait for work for ever), and not before. Ctrl-C and ``timeout`` signal the
    whole process group: workers that died of it mid-render were restarted by a server already shutting
    down, whose new pool then kept it running."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent = multiprocessing.parent_process()

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    if parent is not None:
        threading.Thread(target=watch, name="phenoface-watch-server", daemon=True).start()


def _render(spec: RenderSpec, masks: bool) -> FaceSample:
    """In a worker: `render3d`, its masks drawn now when asked (they travel back drawn)."""
    from .engine3d import render3d

    sample = render3d(spec)
    if masks:
        dict(sample.masks)
    return sample


def _warm() -> None:
    """In a worker: load the head model and the OpenGL context with one small render (never raises)."""
    from .engine3d import render3d

    try:
        render3d(RenderSpec(syndrome="down", age=5.0, sex="female", skin_tone=4, seed=0, size=128))
    except Exception:  # noqa: BLE001 - a failed warm-up only delays the first request, which reports it
        log.exception("render worker warm-up failed")
