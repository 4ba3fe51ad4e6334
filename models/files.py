"""Writing files so that a reader never sees half of one: `atomic_output`, `write_text`.

Every file PhenoFace writes that someone may read while it is written, or after a crash (PNGs,
CSVs, JSON results, caches), goes through here: the bytes go to a hidden temporary file in the
destination folder, which then replaces the destination with `os.replace`. A crash, a full disk or
a bad input leaves either the old file or the new one, never a half-written one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success move it onto `path`, on error delete it.

    The temporary file lives in the destination folder so `os.replace` is a rename on the same
    file system, which POSIX and Windows make atomic. It is created with mode 0o666 less the
    umask, like any new file (`tempfile.mkstemp` would make it 0o600, unreadable to others).

    Args:
        path: final destination.

    Yields:
        A path to write the complete file to.

    Raises:
        OSError: the destination folder does not exist or is not writable.
    """
    path = Path(path)
    while True:
        tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:  # another writer drew the same name: draw again
            continue
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 `text` to `path` atomically (see `atomic_output`); returns the path."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
