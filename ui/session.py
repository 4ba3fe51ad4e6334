"""What every tab needs around its callbacks: per-session temporary folders, one-line errors, number checks.

Per-session folders live under one root per tab inside the process's temporary folder
(`models.tempfiles.process_root`), removed when the process exits or, after a kill, at the next
start; a session's own folder is removed when its ``gr.State`` is deleted (the user leaves).
"""

from __future__ import annotations

import functools
import html
import logging
import re
import shutil
import tempfile
from pathlib import Path

import gradio as gr

from models import tempfiles
from models.checks import number_in, whole_number

log = logging.getLogger(__name__)


class Refusal(gr.Error):
    """A request turned down with a one-line message, shown in Gradio's error modal.

    Bad input is expected, not a crash, so Gradio is told not to print a traceback on the server's
    console for it; unexpected errors are logged in full by `safe`.

    Args:
        message: the sentence the user sees.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, print_exception=False)


class SessionFolders:
    """Per-session temporary folders under one root, e.g. ``SessionFolders("downloads-")``.

    Args:
        prefix: prefix of the root folder's name (inside `models.tempfiles.process_root`).
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    @functools.cached_property
    def root(self) -> Path:
        """The root folder, created on first use inside the process's temporary folder."""
        return Path(tempfile.mkdtemp(prefix=self.prefix, dir=tempfiles.process_root()))

    def get(self, current: str | None) -> Path:
        """The session's folder: `current` when it is one of ours and still there, else a new one."""
        if current and Path(current).is_dir() and Path(current).parent == self.root:
            return Path(current)
        return Path(tempfile.mkdtemp(prefix="session-", dir=self.root))

    def remove(self, path: str | None) -> None:
        """Delete a session's folder (only folders under our root)."""
        if path and Path(path).parent == self.root:
            shutil.rmtree(path, ignore_errors=True)


def as_text(text: str) -> str:
    """`text` (e.g. a learner's name) to put inside Markdown: shown as typed, never as HTML, formatting
    or maths (``$`` becomes an HTML entity, which no LaTeX delimiter matches)."""
    escaped = re.sub(r"([\\`*_{}\[\]()#+\-.!|~>])", r"\\\1", html.escape(str(text), quote=False))
    return escaped.replace("$", "&#36;")


def whole(value, what: str, low: int, high: int) -> int:
    """`models.checks.whole_number`, failing with ``gr.Error`` (shown to the user as one line)."""
    try:
        return whole_number(value, what, low, high)
    except ValueError as err:
        raise Refusal(str(err)) from None


def texts(value, message: str) -> list[str]:
    """A raw API value that must be a list of strings (None gives an empty list); ``gr.Error`` with
    `message` for anything else (a bare string, numbers in the list)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise Refusal(message)
    return value


def number(value, what: str, low: float, high: float, unit: str = "") -> float:
    """`models.checks.number_in`, failing with ``gr.Error`` (shown to the user as one line)."""
    try:
        return number_in(value, what, low, high, unit)
    except ValueError as err:
        raise Refusal(str(err)) from None


def safe(message: str):
    """Decorator: an unexpected error is logged in full on the server and shown to the user as `message`."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception:  # noqa: BLE001 - logged in full on the server, summarised to the user
                log.exception("%s failed", getattr(fn, "__name__", "callback"))
                raise Refusal(message) from None

        return wrapper

    return decorate
