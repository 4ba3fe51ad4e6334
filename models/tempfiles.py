"""The one temporary folder of a PhenoFace process, and the clean-up of folders left by killed ones.

Everything a server writes for a while (Gradio's upload and output cache, the per-session folders
of faces, downloads and quiz results) lives under one folder per process,
``<system temp>/phenoface-<pid>-<random>``. It is removed when the process exits normally, and a
later start removes the folders of processes that no longer run (killed, crashed, power lost), so
nothing a learner or an upload left behind outlives the server by more than one restart.

Importing this module creates nothing.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

#: Prefix of every process folder, in the system's temporary folder.
PREFIX = "phenoface-"
_NAME = re.compile(rf"^{re.escape(PREFIX)}(\d+)-[a-z0-9_]+$")
#: Folders that earlier PhenoFace versions made per tab, without a pid, and left behind when killed.
_LEGACY = re.compile(rf"^{re.escape(PREFIX)}(quiz|explain|downloads)-[a-z0-9_]+$")
#: A legacy folder untouched this long can belong to no running server of those versions.
LEGACY_AGE_S = 24 * 3600

_root: Path | None = None
_lock = threading.Lock()


def process_root() -> Path:
    """This process's temporary folder, created on first use and removed when the process exits.

    Returns:
        the folder, ``<system temp>/phenoface-<pid>-<random>``, readable by this user only.
    """
    global _root
    with _lock:
        if _root is None or not _root.is_dir():
            _root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
            atexit.register(shutil.rmtree, _root, ignore_errors=True)
        return _root


def remove_own() -> None:
    """Remove this process's folder now: an exit that skips the exit handlers (`os._exit`) calls this first."""
    if _root is not None:
        shutil.rmtree(_root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user: alive, and not ours to judge
        return True
    try:  # a killed process not yet reaped by its parent (a zombie) still answers signal 0
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def remove_stale(folder: str | os.PathLike | None = None) -> list[Path]:
    """Remove the process folders of PhenoFace processes that no longer run.

    A folder whose process is still alive (or whose pid was reused by another live process) is
    kept: removing a running server's uploads would break its users' sessions. Folders of earlier
    versions, which carry no pid, go once untouched for `LEGACY_AGE_S`.

    Args:
        folder: where to look; the system's temporary folder by default.

    Returns:
        the folders removed.
    """
    base = Path(folder) if folder is not None else Path(tempfile.gettempdir())
    removed = []
    now = time.time()
    for path in base.glob(f"{PREFIX}*"):
        if not path.is_dir() or path.is_symlink():
            continue
        match = _NAME.match(path.name)
        if match:
            pid = int(match.group(1))
            if pid == os.getpid() or _alive(pid):
                continue
        elif not _LEGACY.match(path.name) or now - path.stat().st_mtime < LEGACY_AGE_S:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
