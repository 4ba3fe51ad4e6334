"""Files of the Explain tab: uploads, read into memory and deleted at once, and the per-session
folder of faces drawn here.

Privacy: an upload's file is deleted from Gradio's cache (with its folder, when empty) before
`take_upload` returns, whatever happens; nothing derived from it is written. A face drawn here is
synthetic, so it may be written, into a session folder under one temporary root per process that is
removed when the process exits (a session's folder when its ``gr.State`` is deleted).
"""

from __future__ import annotations

import os
from pathlib import Path

from gradio.utils import get_upload_folder

from ui.session import Refusal, SessionFolders

MAX_UPLOAD_BYTES = 20 * 2**20


_FOLDERS = SessionFolders("phenoface-explain-")


def session_dir(current: str | None) -> Path:
    """This session's folder of drawn faces: `current` when it is still ours, else a new one."""
    return _FOLDERS.get(current)


def remove_session_dir(path: str | None) -> None:
    """Delete a session's folder of drawn faces (the ``gr.State`` delete callback)."""
    _FOLDERS.remove(path)


# --- uploads: read into memory, then delete ------------------------------------------------------------------


def _upload_path(upload) -> Path | None:
    """The file of an upload: a path (as ``gr.Image(type="filepath")`` gives) or Gradio's file payload."""
    if isinstance(upload, dict):
        upload = upload.get("path")
    return Path(upload) if upload else None


def take_upload(upload) -> bytes:
    """Read an uploaded file into memory and delete it (and its empty cache folder), whatever happens.

    Args:
        upload: the file's path, or Gradio's file payload (a dict with ``"path"``).

    Returns:
        the file's bytes.

    Raises:
        gr.Error: no upload, a file already deleted, or a file over `MAX_UPLOAD_BYTES`.
    """
    path = _upload_path(upload)
    if path is None:
        raise Refusal("Upload an image first (each upload is deleted after it is explained).")
    try:
        if not path.is_file():
            raise Refusal("The uploaded image was already deleted after processing; upload it again.")
        if path.stat().st_size > MAX_UPLOAD_BYTES:
            raise Refusal(f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB; upload a smaller image.")
        return path.read_bytes()
    finally:
        if path.is_file() or path.is_symlink():
            path.unlink(missing_ok=True)
        cache = Path(get_upload_folder()).resolve()
        parent = path.resolve().parent
        if parent != cache and parent.is_relative_to(cache):
            try:
                os.rmdir(parent)  # Gradio keeps each upload in a folder of its own; remove it when empty
            except OSError:
                pass
