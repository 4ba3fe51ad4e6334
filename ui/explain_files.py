"""Files of the Explain tab: uploads, read into memory and deleted at once, and the per-session
folder of faces drawn here.

Privacy: an upload's file is deleted from Gradio's cache (with its folder, when empty) before
`take_upload` returns, whatever happens; nothing derived from it is written. A face drawn here is
synthetic, so it may be written, into a session folder under one temporary root per process that is
removed when the process exits (a session's folder when its ``gr.State`` is deleted).
"""

from __future__ import annotations

import os
from collections.abc import Collection, MutableSet
from pathlib import Path

from gradio.utils import get_upload_folder

from ui.session import Refusal, SessionFolders

MAX_UPLOAD_BYTES = 20 * 2**20
REFUSED = "That file was not uploaded to this server; upload the image with the upload box."


_FOLDERS = SessionFolders("explain-")


def session_dir(current: str | None) -> Path:
    """This session's folder of drawn faces: `current` when it is still ours, else a new one."""
    return _FOLDERS.get(current)


def remove_session_dir(path: str | None) -> None:
    """Delete a session's folder of drawn faces (the ``gr.State`` delete callback)."""
    _FOLDERS.remove(path)


# --- uploads: only files Gradio received, read into memory, then deleted ---------------------------------


def _upload_path(upload) -> Path | None:
    """The file an upload names: a path (as ``gr.Image(type="filepath")`` gives) or Gradio's file payload."""
    if isinstance(upload, dict):
        upload = upload.get("path")
    if upload is None or upload == "":
        return None
    if not isinstance(upload, (str, os.PathLike)):
        raise Refusal("The upload is not a file; upload a PNG or JPEG image.")
    return Path(upload)


def received_upload(upload, uploads: Collection[str] | None = None) -> Path | None:
    """The file of an upload, if and only if it is one Gradio received through its upload route.

    The Explain events take the raw payload (``preprocess=False``, so that nothing is decoded before
    our limits are checked), so the path in it is whatever the caller wrote. It is accepted only when
    it is one of `uploads` (the paths Gradio's ``/upload`` returned: not a face Gradio cached as an
    output, which lives in the same folder) and a regular file inside Gradio's upload folder
    (`gradio.utils.get_upload_folder`, after resolving links). Anything else is refused untouched,
    never read and never deleted.

    Args:
        upload: the file's path, or Gradio's file payload (a dict with ``"path"``).
        uploads: the paths Gradio received (``Blocks.upload_file_set``); None when the caller is not
            a server (a test or a script calling the function), which checks the folder alone.

    Returns:
        the resolved path, or None when there is no upload.

    Raises:
        Refusal: the payload names a file not uploaded to this server, a link, a folder or no file.
    """
    path = _upload_path(upload)
    if path is None:
        return None
    if uploads is not None and str(path) not in uploads:
        raise Refusal(REFUSED)
    cache = Path(get_upload_folder()).resolve()
    try:
        inside = not path.is_symlink() and path.resolve().is_relative_to(cache) and path.resolve() != cache
    except (OSError, ValueError, RuntimeError):  # a path too long, a loop of links, a NUL byte
        inside = False
    if not inside:
        raise Refusal(REFUSED)
    return path.resolve()


def take_upload(upload, uploads: MutableSet[str] | None = None) -> bytes:
    """Read an uploaded file into memory and delete it (and its empty cache folder), whatever happens.

    Args:
        upload: the file's path, or Gradio's file payload (a dict with ``"path"``); only files Gradio
            received are accepted (`received_upload`).
        uploads: the paths Gradio received (``Blocks.upload_file_set``); the path is struck off once
            taken. None outside a server.

    Returns:
        the file's bytes.

    Raises:
        Refusal: no upload, a path outside the upload folder (left untouched), a file already
            deleted, or a file over `MAX_UPLOAD_BYTES`.
    """
    path = received_upload(upload, uploads)
    if uploads is not None:
        uploads.discard(str(_upload_path(upload)))
    if path is None:
        raise Refusal("Upload an image first (each upload is deleted after it is explained).")
    try:
        if not path.is_file():
            raise Refusal("The uploaded image was already deleted after processing; upload it again.")
        if path.stat().st_size > MAX_UPLOAD_BYTES:
            raise Refusal(f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB; upload a smaller image.")
        return path.read_bytes()
    finally:
        if path.is_file():
            path.unlink(missing_ok=True)
        cache = Path(get_upload_folder()).resolve()
        if path.parent != cache:
            try:
                os.rmdir(path.parent)  # Gradio keeps each upload in a folder of its own; remove it when empty
            except OSError:
                pass
