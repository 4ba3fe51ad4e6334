"""Does the privacy audit catch copies? Give training crops back as samples, as they are and altered.

    python -m benchmarks.privacy_copies --model assets/generator --train out/data/train --n 500

A generator that memorises a child returns that child's training crop, perhaps re-encoded,
mirrored (it trains on flipped images), nudged by a pixel or two, or with its tone or noise
changed. This benchmark takes `--n` training crops (64 px, as the audit sees them), alters each in
each of the ways below, and prints the share that the audit (`models.generator.audit.audit`,
either rule, each sample also re-aligned by Face Mesh) and the run-time memorisation filter (the
pipeline's privacy checker, `PhenoFacePrivacyChecker.check`: the index rule on the sample as
given) flag with the thresholds stored in the generator folder. Larger moves (3-pixel shifts,
4-8 % scaling, 3-6 degree rotations) are in the table too: they are beyond the 2-pixel views, so
only the audit's re-alignment catches them. Writes
``privacy_copies.json`` (no image: with licensed photographs the crops are those children's).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.common import bounded, run_benchmark
from models.files import atomic_output
from models.generator.audit import audit, load_folder_images
from models.generator.identity import vectors
from models.generator.privacy_index import load_checker, thresholds_of


def _jpeg(im: np.ndarray) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(im).save(buf, "JPEG", quality=75)
    return np.asarray(Image.open(buf).convert("RGB"))


def _affine(scale: float = 1.0, angle: float = 0.0) -> Callable[[np.ndarray], np.ndarray]:
    """Rotate by `angle` degrees about the centre, then scale by `scale` about it (bicubic, Lanczos)."""

    def apply(im: np.ndarray) -> np.ndarray:
        side = im.shape[0]
        p = Image.fromarray(im).rotate(angle, resample=Image.Resampling.BICUBIC, center=(side / 2, side / 2))
        if scale != 1.0:
            big = round(side * scale)
            off = (big - side) // 2
            p = p.resize((big, big), Image.Resampling.LANCZOS).crop((off, off, off + side, off + side))
        return np.asarray(p)

    return apply


def alterations(rng: np.random.Generator) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Name -> function of one (64, 64, 3) uint8 crop returning the altered crop of the same shape."""
    return {
        "exact": lambda im: im,
        "JPEG quality 75": _jpeg,
        "mirrored": lambda im: im[:, ::-1],
        "shifted 1 px": lambda im: np.roll(im, (1, 1), axis=(0, 1)),
        "shifted 2 px": lambda im: np.roll(im, (2, -2), axis=(0, 1)),
        "10 % brighter": lambda im: np.clip(im * 1.1, 0, 255).astype(np.uint8),
        "pixel noise SD 4": lambda im: np.clip(im + rng.normal(0, 4, im.shape), 0, 255).astype(np.uint8),
        "shifted 3 px": lambda im: np.roll(im, (3, 3), axis=(0, 1)),
        "scaled 104 %": _affine(scale=1.04),
        "scaled 108 %": _affine(scale=1.08),
        "rotated 3 degrees": _affine(angle=3),
        "rotated 6 degrees": _affine(angle=6),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.privacy_copies", description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, default=Path("assets/generator"), help="generator folder with its privacy "
                   "index (default: assets/generator)")  # fmt: skip
    p.add_argument("--train", type=Path, required=True, help="the generator's training folder (metadata.csv format)")
    p.add_argument("--n", type=bounded(int, 1), default=500, help="training crops given back (default: 500)")
    p.add_argument("--seed", type=int, default=0, help="seed of the crops chosen and the noise (default: 0)")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("out/bench/privacy_copies"),
        help="folder for privacy_copies.json, the shares printed (default: out/bench/privacy_copies)",
    )
    args = p.parse_args(argv)
    if not args.model.is_dir():
        raise ValueError(f"--model {args.model} is not a folder")
    if args.seed < 0:
        raise ValueError("--seed must be 0 or more")
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out {args.out} is a file, not a folder")
    index = load_checker(args.model)
    if index is None:
        raise ValueError(f"{args.model} has no privacy index; build it with python -m models.generator.audit --index")
    train, _ = load_folder_images(args.train, aligned=False)
    built_from = len(index.vectors) == len(train) and torch.allclose(vectors(train), index.vectors.float(), atol=0.02)
    if not built_from:
        raise ValueError(f"the privacy index in {args.model} ({len(index.vectors)} vectors) was not built from "
                         f"{args.train} ({len(train)} images); give the generator's own training folder")  # fmt: skip
    if args.n > len(train):
        print(f"note: --train holds {len(train)} usable images; all of them are given back", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    pick = train[rng.choice(len(train), min(args.n, len(train)), replace=False)]
    thresholds = thresholds_of(index)
    result = {"n": len(pick), "thresholds": str(thresholds), "alterations": []}
    print(f"{len(pick)} training crops given back as samples; share flagged")
    print("| alteration | audit (either rule) | by SSIM | run-time filter (index rule) |")
    print("|---|---|---|---|")
    for name, alter in alterations(rng).items():
        x = np.stack([alter(im) for im in pick])
        r = audit(x, train, thresholds)
        runtime = float(index.check(x)[0].mean())
        row = {"name": name, "audit": float(r["flagged"].mean()), "ssim": float(r["flag_ssim"].mean()),
               "runtime": runtime}  # fmt: skip
        result["alterations"].append(row)
        print(f"| {name} | {row['audit']:.1%} | {row['ssim']:.1%} | {runtime:.1%} |", flush=True)
    with atomic_output(args.out / "privacy_copies.json") as tmp:
        Path(tmp).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
