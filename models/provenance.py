"""Marking generated images as synthetic: a visible corner label and PNG text metadata.

Every image PhenoFace writes says what it is twice: a small visible "SYNTHETIC" label (so a
screenshot or a printout still says so) and PNG text chunks that record how it was made (so a
file that is cropped or re-shared can be traced back to the generator, the seed and the spec).

PNGs are written atomically (`models.files.atomic_output`): a crash, a full disk or a bad input
leaves either the old file or the new one, never a half-written one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from models.files import atomic_output

#: The notice stored in every PNG we write.
NOTICE = "Synthetic image for education and research; not a real person; not for diagnosis"
#: Default text of the visible label.
LABEL = "SYNTHETIC"

# Label geometry as fractions of the image width; the floor keeps 9 px text legible at 128 px.
_FONT_FRACTION = 0.042
_MIN_FONT_PX = 9
_PAD_FRACTION = 0.35  # padding around the text, as a fraction of the font size
_BOX_ALPHA = 150  # of 255: dark enough for white text on any skin or hair, light enough to see through
_TEXT_ALPHA = 235

#: zlib level of every PNG written here: level 3 encodes a 336 px face 3x faster than Pillow's default 6
#: (13 against 43 ms on the development CPU under load) for files 7 % larger; the app writes several per answer.
PNG_COMPRESS_LEVEL = 3


def mark_synthetic(image: np.ndarray, text: str = LABEL) -> np.ndarray:
    """Draw a small "SYNTHETIC" label in the bottom-right corner.

    The label is white text on a semi-transparent dark box whose size scales with the image
    width (about 4 % of it per text line, never under 9 px), so it stays legible from 128 px to
    512 px and covers background rather than the face, which our portraits centre.

    Args:
        image: (H, W, 3) uint8 RGB image.
        text: the label text.

    Returns:
        (H, W, 3) uint8 RGB copy of `image` with the label; the input is not modified.

    Raises:
        ValueError: `image` is not an (H, W, 3) uint8 array.
    """
    _check_rgb(image)
    h, w = image.shape[:2]
    font_px = max(_MIN_FONT_PX, round(_FONT_FRACTION * w))
    font = ImageFont.load_default(size=font_px)  # bundled font: no system fonts needed
    pad = max(2, round(_PAD_FRACTION * font_px))
    margin = pad

    base = Image.fromarray(image, "RGB").convert("RGBA")
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    box_w, box_h = right - left + 2 * pad, bottom - top + 2 * pad
    x0, y0 = w - margin - box_w, h - margin - box_h
    draw.rectangle((x0, y0, x0 + box_w - 1, y0 + box_h - 1), fill=(0, 0, 0, _BOX_ALPHA))
    # textbbox offsets (left, top) are subtracted so the glyphs sit centred in the padding.
    draw.text((x0 + pad - left, y0 + pad - top), text, font=font, fill=(255, 255, 255, _TEXT_ALPHA))
    return np.asarray(Image.alpha_composite(base, overlay).convert("RGB"))


def png_metadata(
    *,
    generator: str,
    seed: int | None = None,
    spec: Mapping[str, Any] | None = None,
    hpo_release: str | None = None,
    weights_sha256: str | None = None,
    **extra: Any,
) -> dict[str, str]:
    """The text chunks we store in a synthetic PNG.

    Args:
        generator: name and version of what drew the image (e.g. ``"phenoface.phenotype 0.1.0"``).
        seed: identity seed of the render.
        spec: the render spec as a JSON-able mapping (e.g. ``dataclasses.asdict(spec)``).
        hpo_release: HPO release the catalogue was built from (e.g. ``"2025-01-16"``).
        weights_sha256: hex SHA-256 of the generator weights, for learned generators.
        **extra: further keys; non-string values are stored as JSON.

    Returns:
        Key -> text, always with ``synthetic="true"`` and ``notice=NOTICE``; None values are left out.
    """
    info: dict[str, Any] = {
        "synthetic": "true",
        "generator": generator,
        "weights_sha256": weights_sha256,
        "hpo_release": hpo_release,
        "seed": seed,
        "spec": spec,
        **extra,
        "notice": NOTICE,
    }
    return {k: _as_text(v) for k, v in info.items() if v is not None}


def add_text(info: Mapping[str, str], **extra: Any) -> dict[str, str]:
    """`info` (from `png_metadata`) with further keys; non-string values as JSON, None values left out."""
    return {**info, **{k: _as_text(v) for k, v in extra.items() if v is not None}}


def save_png(image: np.ndarray, path: str | os.PathLike, info: Mapping[str, Any]) -> Path:
    """Write an RGB image as PNG with text metadata, atomically.

    ``synthetic="true"`` and the notice are always added, whatever `info` holds, so no
    PhenoFace PNG can leave without them.

    Args:
        image: (H, W, 3) uint8 RGB image.
        path: destination file; its folder must exist.
        info: text chunks, e.g. from `png_metadata`; non-string values are stored as JSON.

    Returns:
        The destination path.

    Raises:
        ValueError: `image` is not an (H, W, 3) uint8 array.
        OSError: the folder does not exist or cannot be written; nothing is left behind.
    """
    return _write_png(image, path, {**info, "synthetic": "true", "notice": NOTICE})


def save_derived_png(image: np.ndarray, path: str | os.PathLike, info: Mapping[str, Any]) -> Path:
    """Write a PNG made from an image PhenoFace did not draw (e.g. a saliency overlay of a photograph), atomically.

    Unlike `save_png` it claims nothing about being synthetic: it stores `info` and
    ``notice="derived from an image supplied by the user; not marked synthetic; not for diagnosis"``.

    Raises:
        ValueError: `image` is not an (H, W, 3) uint8 array.
        OSError: the folder does not exist or cannot be written; nothing is left behind.
    """
    notice = "derived from an image supplied by the user; not marked synthetic; not for diagnosis"
    return _write_png(image, path, {**info, "notice": notice})


def _write_png(image: np.ndarray, path: str | os.PathLike, info: Mapping[str, Any]) -> Path:
    _check_rgb(image)
    chunks = PngImagePlugin.PngInfo()
    for key, value in info.items():
        text = _as_text(value)
        try:
            text.encode("latin-1")
            chunks.add_text(key, text)  # tEXt: what most viewers show
        except UnicodeEncodeError:
            chunks.add_itxt(key, text)  # iTXt for anything beyond Latin-1
    path = Path(path)
    with atomic_output(path) as tmp:
        Image.fromarray(image, "RGB").save(tmp, format="PNG", pnginfo=chunks, compress_level=PNG_COMPRESS_LEVEL)
    return path


def read_png_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The text chunks of a PNG (tEXt, zTXt and iTXt), as strings.

    Args:
        path: a PNG file.

    Returns:
        Key -> text as stored; ``spec`` is a JSON string (decode with ``json.loads``).
    """
    with Image.open(path) as im:
        im.load()  # text chunks after the image data are only read once the pixels are
        return {str(k): str(v) for k, v in getattr(im, "text", {}).items()}


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _check_rgb(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise ValueError(f"expected an (H, W, 3) uint8 image, got shape {shape} dtype {dtype}")
