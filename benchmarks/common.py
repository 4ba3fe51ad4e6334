"""Shared pieces of the benchmarks: random specs, timing, labelled image grids.

Kept apart from `models/` because nothing here is part of the renderer's contract.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from models import provenance
from models.phenotype.catalog import load_catalog
from models.phenotype.spec import SEXES, RenderSpec


def bounded(kind: type, low: float, high: float | None = None) -> Callable[[str], float]:
    """An argparse ``type`` that reads `kind` (int or float) and insists on ``low <= value <= high``.

    Raises (from the returned function):
        argparse.ArgumentTypeError: not a number of that kind, or out of range; argparse prints it
            as one line with the usage and exits with status 2.
    """

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if value < low or (high is not None and value > high):
            bound = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{text} is out of range: must be {bound}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


#: Committed results: each benchmark's ``--json`` writes here, and the README's figures are read from here.
RESULTS = Path(__file__).resolve().parent / "results"


def write_result(path: Path | None, figures: dict, prog: str, argv: Sequence[str] | None) -> None:
    """Write a benchmark's figures as JSON (atomically), with the command and the machine that made them.

    Args:
        path: the JSON file (its folder is created), or None to write nothing.
        figures: the benchmark's figures (JSON-able).
        prog: the command (``"python -m benchmarks.speed"``) and `argv` its arguments, recorded so the
            run can be repeated.
    """
    if path is None:
        return
    import json
    import os
    import platform

    from models.files import write_text
    from models.hardware import cpu_info

    record = {
        "command": " ".join([prog, *(sys.argv[1:] if argv is None else argv)]),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(), **cpu_info()},
        "date": time.strftime("%Y-%m-%d"),
        **figures,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(record, indent=1) + "\n")
    print(f"wrote {path}")


def json_flag(p: argparse.ArgumentParser, name: str) -> None:
    """Add ``--json PATH``: where to write the figures (the committed one is ``benchmarks/results/NAME.json``)."""
    p.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"also write the figures as JSON here (the README reads benchmarks/results/{name}.json)",
    )


def run_benchmark(main: Callable[[], int]) -> int:
    """Run a benchmark's `main`; a bad input (ValueError, or OSError such as a missing folder) becomes
    one line on stderr and exit status 2 instead of a traceback."""
    try:
        return main()
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def random_specs(
    n: int,
    seed: int,
    *,
    size: int = 256,
    view: str = "frontal",
    syndromes: Sequence[str] | None = None,
) -> list[RenderSpec]:
    """`n` specs with syndrome, age (uniform 0-18 years), sex, skin tone (1-10) and identity drawn from `seed`.

    Args:
        n: how many.
        seed: benchmark seed.
        size: image size in pixels.
        view: ``"frontal"`` or ``"profile"``.
        syndromes: catalogue keys to draw from (default: every key, ``"unaffected"`` included).
    """
    keys = list(syndromes) if syndromes is not None else list(load_catalog().keys())
    rng = np.random.default_rng(seed)
    return [
        RenderSpec(
            syndrome=str(rng.choice(keys)),
            age=round(float(rng.uniform(0, 18)), 2),
            sex=str(rng.choice(SEXES)),
            skin_tone=int(rng.integers(1, 11)),
            seed=int(rng.integers(0, 2**31 - 1)),
            view=view,
            size=size,
        )
        for _ in range(n)
    ]


@dataclass
class Timer:
    """Accumulates wall-clock seconds of repeated calls."""

    seconds: float = 0.0  # total wall-clock time, s
    calls: int = 0

    def __call__(self, fn: Callable, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - t0
            self.calls += 1

    @property
    def rate(self) -> float:
        """Calls per second."""
        return self.calls / self.seconds if self.seconds else float("nan")


def font(px: int) -> ImageFont.FreeTypeFont:
    """PIL's bundled font at `px` pixels (no system fonts needed)."""
    return ImageFont.load_default(size=px)


def grid(
    images: Sequence[np.ndarray],
    captions: Sequence[str],
    cols: int,
    *,
    row_labels: Sequence[str] | None = None,
    header: Sequence[str] | None = None,
    title: str | None = None,
    label_width: int = 190,
    caption_px: int = 11,
) -> np.ndarray:
    """Lay out equally sized images in a labelled grid.

    Args:
        images: (h, w, 3) uint8 tiles, row-major.
        captions: one line under each tile ("" for none).
        cols: tiles per row.
        row_labels: text left of each row (wrapped on spaces), or None for no label column.
        header: text above each column, or None.
        title: a line above everything, or None.
        label_width: width of the row-label column in pixels.
        caption_px: caption font size in pixels.

    Returns:
        (H, W, 3) uint8 sheet on a white background.
    """
    h, w = images[0].shape[:2]
    rows = -(-len(images) // cols)
    line = caption_px + 4
    cap_h = line if any(captions) else 0
    left = label_width if row_labels is not None else 0
    top = (line + 6 if title else 0) + (line if header else 0)
    sheet = Image.new("RGB", (left + cols * (w + 4) + 4, top + rows * (h + cap_h + 4) + 4), "white")
    draw = ImageDraw.Draw(sheet)
    f = font(caption_px)
    if title:
        draw.text((6, 3), title, fill="black", font=font(caption_px + 2))
    if header:
        for c, text in enumerate(header):
            draw.text((left + 4 + c * (w + 4), top - line), text, fill="black", font=f)
    for i, (image, caption) in enumerate(zip(images, captions, strict=True)):
        r, c = divmod(i, cols)
        x, y = left + 4 + c * (w + 4), top + 4 + r * (h + cap_h + 4)
        sheet.paste(Image.fromarray(image), (x, y))
        if caption:
            draw.text((x, y + h + 1), caption, fill="black", font=f)
    for r, label in enumerate(row_labels or ()):
        y = top + 4 + r * (h + cap_h + 4) + 4
        for k, text in enumerate(_wrap(label, f, label_width - 10)):
            draw.text((6, y + k * line), text, fill="black", font=f)
    return np.asarray(sheet)


def save_sheet(sheet: np.ndarray, path: Path, max_bytes: int = 3_000_000) -> int:
    """Save a sheet as an RGB PNG under `max_bytes`, coarsening the colour levels only as far as needed.

    The renderer's film grain makes the low bits of every pixel noise, which PNG cannot compress.
    Rounding each channel to a multiple of 2, 4 or 8 levels (an error of at most 1, 2 or 4 of 255,
    invisible on a thumbnail) halves the file where a 256-colour palette would band the skin.

    Returns:
        The file size in bytes (a warning is printed if even the coarsest step is over the limit).
    """
    for step in (1, 2, 4, 8):
        coarse = sheet if step == 1 else np.clip(np.round(sheet / step) * step, 0, 255).astype(np.uint8)
        buf = io.BytesIO()
        Image.fromarray(coarse).save(buf, format="PNG")
        if buf.tell() <= max_bytes:
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    info = provenance.png_metadata(generator="phenoface benchmarks", hpo_release=load_catalog().hpo_release)
    provenance.save_png(coarse, path, info)
    size = path.stat().st_size
    if size > max_bytes:
        print(f"warning: {path} is {size / 1e6:.1f} MB, over {max_bytes / 1e6:.1f} MB")
    return size


def _wrap(text: str, f: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and f.getlength(trial) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    return lines + [current] if current else lines
