"""Privacy audit of a trained generator: is any sample a near-copy of a training child?

    python -m models.generator.audit --generated out/samples --train out/data/train --out out/audit \\
        [--index assets/generator]

Syndrome features are shared by every child with the syndrome, so a sample that *looks
syndromic* is expected; what must not happen is a sample that reproduces *one training child*.
So the audit uses measures that separate identities, on aligned crops (the classifier's
alignment, `models.classifier.preprocess`, at the generator's 64 px), in the central 48 x 48
pixels (the inner face; the corner "SYNTHETIC" label and most background are outside it):

- pixel SSIM (Wang et al. 2004; torchmetrics, 11-pixel Gaussian window, sigma 1.5) between a
  sample and its nearest training images;
- in a derived space, the distance d1 to the nearest training image and the ratio d1 / d2 to the
  second nearest (Lowe's ratio test, 2004): a copy of one child sits much closer to that child
  than to any other.

Thresholds are calibrated (`calibrate`) on renders whose truth is known: the same child drawn
again (same identity seed, half a year older, drawn at 224 instead of 256 pixels: a stand-in
for a second photograph) versus different children. The model folder keeps only derived
vectors of the training set (`PrivacyIndex`: 128-dimensional Gaussian random projections of the
standardised grey crops, 2304 -> 128 numbers, no image), with which the app and the batch
generator refuse samples at run time (the memorisation filter). When the training data are
licensed photographs, that index is derived from them, and users are told so.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

#: Audit resolution in pixels (the generator's) and the central window compared, in pixels.
SIZE = 64
CENTRE = slice(8, 56)
#: Dimension of the stored random projection.
PROJ_DIM = 128
#: Training images compared by SSIM per sample (the nearest in the projected space).
SSIM_CANDIDATES = 8
INDEX_FILE = "privacy_index.safetensors"
CALIBRATION_FILE = "privacy_calibration.json"


@dataclass
class Thresholds:
    """Flag rules, calibrated on same-child versus different-child render pairs.

    A sample is flagged when ``d1 <= max_distance and ratio <= max_ratio`` (the runtime filter,
    projected space) or, in the audit, when its SSIM to a training image is ``>= min_ssim``.

    Attributes:
        max_distance: projected RMS distance, in SD of standardised pixels.
        max_ratio: nearest / second-nearest distance.
        min_ssim: SSIM (0 to 1) of the central crop.
        source: how the thresholds were set.
    """

    max_distance: float = 0.25
    max_ratio: float = 0.6
    min_ssim: float = 0.85
    source: str = "uncalibrated defaults"


@functools.lru_cache(maxsize=1)
def _projection() -> torch.Tensor:
    """The fixed (2304, 128) float32 Gaussian projection, scaled so distances stay RMS per pixel."""
    g = torch.Generator().manual_seed(20261129)
    n = (CENTRE.stop - CENTRE.start) ** 2
    return torch.randn(n, PROJ_DIM, generator=g) / np.sqrt(PROJ_DIM * n)


def to_size(images: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 aligned crops of any size -> (N, 64, 64, 3) uint8 (Lanczos)."""
    if images.shape[1:3] == (SIZE, SIZE):
        return images
    return np.stack([np.asarray(Image.fromarray(im).resize((SIZE, SIZE), Image.Resampling.LANCZOS)) for im in images])


def grey_centre(images: np.ndarray) -> torch.Tensor:
    """(N, 64, 64, 3) uint8 -> (N, 1, 48, 48) float32 grey in [0, 1] (ITU-R BT.601 luma)."""
    x = torch.from_numpy(np.ascontiguousarray(images[:, CENTRE, CENTRE])).float() / 255.0
    grey = x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114
    return grey[:, None]


def vectors(images: np.ndarray) -> torch.Tensor:
    """Derived identity vectors (N, 128) float32 of aligned crops (N, H, W, 3) uint8.

    Each grey central crop is standardised (zero mean, unit SD: lighting and exposure drop out),
    then projected; Euclidean distances approximate the RMS pixel difference in SD units
    (Johnson-Lindenstrauss).
    """
    flat = grey_centre(to_size(images)).flatten(1)
    flat = (flat - flat.mean(1, keepdim=True)) / flat.std(1, keepdim=True).clamp_min(1e-6)
    return flat @ _projection()


def nearest(query: torch.Tensor, gallery: torch.Tensor, k: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """k nearest gallery rows per query row: distances (Q, k) float32 ascending and indices (Q, k) int64."""
    d = torch.cdist(query.float(), gallery.float())
    k = min(k, gallery.shape[0])
    dist, idx = d.topk(k, dim=1, largest=False)
    return dist, idx


def ratio(dist: torch.Tensor) -> torch.Tensor:
    """Nearest / second-nearest distance (Q,); 0 when there is one gallery image."""
    if dist.shape[1] < 2:
        return torch.zeros(dist.shape[0])
    return dist[:, 0] / dist[:, 1].clamp_min(1e-6)


def best_ssim(query: np.ndarray, gallery: np.ndarray, candidates: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Highest SSIM of each query crop against its candidate gallery crops.

    Args:
        query: (Q, 64, 64, 3) uint8 aligned crops.
        gallery: (G, 64, 64, 3) uint8 aligned crops.
        candidates: (Q, C) int64 gallery indices to compare.

    Returns:
        SSIM (Q,) float64 and the gallery index it was reached at (Q,) int64.
    """
    from torchmetrics.functional.image import structural_similarity_index_measure as ssim

    q, g = grey_centre(to_size(query)), grey_centre(to_size(gallery))
    c = candidates.shape[1]
    pairs_q = q.repeat_interleave(c, 0)
    pairs_g = g[candidates.flatten()]
    scores = ssim(pairs_q, pairs_g, data_range=1.0, reduction="none").reshape(-1, c)
    best, at = scores.max(1)
    return best.double().numpy(), candidates.gather(1, at[:, None])[:, 0].numpy()


class PrivacyIndex:
    """Derived vectors of a generator's training images, and the rule to refuse near-copies.

    Args:
        vectors: (N, 128) float32 training vectors (see `vectors`).
        thresholds: the flag rule.
    """

    def __init__(self, vectors: torch.Tensor, thresholds: Thresholds) -> None:
        self.vectors = vectors.float()
        self.thresholds = thresholds

    def save(self, folder: str | Path) -> Path:
        """Write ``privacy_index.safetensors`` (float16 vectors, thresholds in its metadata) atomically."""
        from safetensors.torch import save_file

        path = Path(folder) / INDEX_FILE
        tmp = path.with_suffix(".tmp")
        meta = {k: str(v) for k, v in asdict(self.thresholds).items()}
        meta["note"] = "derived vectors of the training images (random projections); no image is stored"
        save_file({"vectors": self.vectors.half().contiguous()}, str(tmp), metadata=meta)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, folder: str | Path) -> PrivacyIndex | None:
        """The index in `folder`, or None when it has none."""
        from safetensors import safe_open

        path = Path(folder) / INDEX_FILE
        if not path.is_file():
            return None
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
            vecs = f.get_tensor("vectors")
        t = Thresholds(
            max_distance=float(meta.get("max_distance", Thresholds.max_distance)),
            max_ratio=float(meta.get("max_ratio", Thresholds.max_ratio)),
            min_ssim=float(meta.get("min_ssim", Thresholds.min_ssim)),
            source=meta.get("source", "unknown"),
        )
        return cls(vecs, t)

    def check(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which samples are near-copies of a training image.

        Args:
            images: (B, H, W, 3) uint8 aligned samples (the generator's output, unmarked).

        Returns:
            flagged (B,) bool, nearest distance d1 (B,) float64, ratio d1 / d2 (B,) float64.
        """
        dist, _ = nearest(vectors(images), self.vectors, 2)
        d1, r = dist[:, 0].double().numpy(), ratio(dist).double().numpy()
        flagged = (d1 <= self.thresholds.max_distance) & (r <= self.thresholds.max_ratio)
        return flagged, d1, r


def calibrate(n: int = 200, seed: int = 0) -> tuple[Thresholds, dict[str, dict[str, list[float]]]]:
    """Set the flag thresholds from renders: the same child drawn again versus different children.

    ``n`` children (random syndrome, age 1-16 years, sex, Monk tone) form a gallery. Same-child
    queries: each child again, 0.5 years older, drawn at 224 px. Different-child queries: ``n``
    new children. The two kinds overlap a little, and a false alarm only costs a re-draw while a
    missed copy costs privacy, but a filter that refuses ordinary new faces is useless; so each
    threshold sits where the same-child pairs end (their 95th percentile of d1 and ratio, 5th of
    SSIM) unless that reaches into the different-child pairs, in which case it stops at their 1st
    percentile (d1, ratio) or 99th (SSIM).

    Returns:
        The thresholds and, per query kind (``same``, ``different``), the lists ``d1``,
        ``ratio`` and ``ssim``, plus ``rates``: the share of each kind each rule flags.
    """
    from models.classifier.preprocess import preprocess
    from models.phenotype.catalog import load_catalog
    from models.phenotype.spec import RenderSpec
    from models.phenotype.synthesizer import render

    rng = np.random.default_rng(seed)
    keys = ["unaffected", *load_catalog().keys()]

    def draw(spec: RenderSpec) -> np.ndarray:
        s = render(spec)
        return to_size(preprocess(s.image, s.landmarks)[None])[0]

    specs = [
        RenderSpec(
            syndrome=str(rng.choice(keys)),
            age=float(rng.uniform(1, 16)),
            sex=str(rng.choice(["female", "male"])),
            skin_tone=int(rng.integers(1, 11)),
            seed=int(rng.integers(1, 2**31)),
        )
        for _ in range(2 * n)
    ]
    gallery = np.stack([draw(s) for s in specs[:n]])
    same = np.stack([draw(RenderSpec(**{**asdict(s), "age": s.age + 0.5, "size": 224})) for s in specs[:n]])
    other = np.stack([draw(s) for s in specs[n:]])
    g = vectors(gallery)
    out: dict[str, dict[str, list[float]]] = {}
    for kind, q in (("same", same), ("different", other)):
        dist, idx = nearest(vectors(q), g, SSIM_CANDIDATES)
        s, _ = best_ssim(q, gallery, idx)
        out[kind] = {"d1": dist[:, 0].tolist(), "ratio": ratio(dist).tolist(), "ssim": s.tolist()}
    same, diff = out["same"], out["different"]
    t = Thresholds(
        max_distance=float(min(np.percentile(same["d1"], 95), np.percentile(diff["d1"], 1))),
        max_ratio=float(min(np.percentile(same["ratio"], 95), np.percentile(diff["ratio"], 1))),
        min_ssim=float(max(np.percentile(same["ssim"], 5), np.percentile(diff["ssim"], 99))),
        source=f"calibrated on {n} same-child and {n} different-child render pairs, seed {seed}",
    )
    rates = {}
    for kind, c in out.items():
        d1, r, s = (np.asarray(c[k]) for k in ("d1", "ratio", "ssim"))
        rates[kind] = {
            "index_rule": float(np.mean((d1 <= t.max_distance) & (r <= t.max_ratio))),
            "ssim_rule": float(np.mean(s >= t.min_ssim)),
        }
    out["rates"] = rates
    return t, out


def load_folder_images(folder: str | Path, aligned: bool) -> tuple[np.ndarray, list[str]]:
    """Images of a folder as (N, 64, 64, 3) uint8 aligned crops, and their file names.

    A folder with ``metadata.csv`` is read as a cohort (aligned by `models.classifier.preprocess`,
    cached); otherwise every PNG/JPEG in it is read, taken as already aligned when `aligned`
    (the generator's own samples) or aligned by Face Mesh when not (faces not found are skipped).
    """
    from models.classifier.data import aligned_crops, load_rows
    from models.classifier.preprocess import preprocess

    folder = Path(folder)
    if (folder / "metadata.csv").is_file():
        rows = load_rows(folder)
        crops, ok = aligned_crops(rows, folder / ".cache")
        return to_size(crops[ok]), [r["file"] for r, good in zip(rows, ok, strict=True) if good]
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    images, names = [], []
    for p in files:
        try:
            im = np.asarray(Image.open(p).convert("RGB")) if aligned else preprocess(p)
        except (ValueError, OSError) as e:
            print(f"warning: {p.name}: {e}; skipped", file=sys.stderr)
            continue
        images.append(to_size(im[None])[0])
        names.append(p.name)
    if not images:
        raise ValueError(f"no readable face image in {folder}")
    return np.stack(images), names


def audit(
    generated: np.ndarray,
    train: np.ndarray,
    thresholds: Thresholds,
) -> dict[str, np.ndarray]:
    """Nearest-training-image measures of every generated sample.

    Args:
        generated: (Q, 64, 64, 3) uint8 aligned samples.
        train: (G, 64, 64, 3) uint8 aligned training crops.
        thresholds: flag rule.

    Returns:
        Arrays of length Q: ``d1``, ``ratio``, ``ssim``, ``nearest`` (training index by SSIM),
        ``flag_index`` (projected rule), ``flag_ssim`` (SSIM rule), ``flagged`` (either).
    """
    dist, idx = nearest(vectors(generated), vectors(train), SSIM_CANDIDATES)
    s, at = best_ssim(generated, train, idx)
    d1, r = dist[:, 0].double().numpy(), ratio(dist).double().numpy()
    flag_index = (d1 <= thresholds.max_distance) & (r <= thresholds.max_ratio)
    flag_ssim = s >= thresholds.min_ssim
    return {
        "d1": d1,
        "ratio": r,
        "ssim": s,
        "nearest": at,
        "flag_index": flag_index,
        "flag_ssim": flag_ssim,
        "flagged": flag_index | flag_ssim,
    }


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (also used by ``--help``)."""
    p = argparse.ArgumentParser(
        prog="python -m models.generator.audit",
        description="Privacy audit: find each generated image's nearest training images (SSIM on aligned crops, "
        "nearest/second-nearest ratio), write a report and histogram, and optionally the privacy index "
        "(derived vectors only) that the app uses to refuse near-copies.",
    )
    p.add_argument("--train", type=Path, required=True, help="training folder (metadata.csv format, or images)")
    p.add_argument(
        "--generated",
        type=Path,
        default=None,
        help="folder of the generator's samples (aligned crops as it writes them); omit to only build the index",
    )
    p.add_argument("--out", type=Path, default=None, help="report folder (default: <generated>/../audit)")
    p.add_argument(
        "--index",
        type=Path,
        default=None,
        help="generator folder to write privacy_index.safetensors and privacy_calibration.json into",
    )
    p.add_argument(
        "--calibrate",
        type=int,
        default=200,
        metavar="N",
        help="render N same-child and N different-child pairs to set the thresholds (default: 200)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the calibration renders (default: 0)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the audit; returns the exit status (0 ok, 1 when a sample is flagged, 2 bad arguments)."""
    args = build_parser().parse_args(argv)
    try:
        if not args.train.is_dir():
            raise ValueError(f"--train {args.train} is not a folder")
        if args.generated is not None and not args.generated.is_dir():
            raise ValueError(f"--generated {args.generated} is not a folder")
        if args.index is not None and not args.index.is_dir():
            raise ValueError(f"--index {args.index} is not a folder")
        if not 10 <= args.calibrate <= 5000:
            raise ValueError("--calibrate must be 10 to 5000")
        train, train_names = load_folder_images(args.train, aligned=False)
        thresholds, calib = calibrate(args.calibrate, args.seed)
        print(f"thresholds: {thresholds}", file=sys.stderr)
        if args.index is not None:
            PrivacyIndex(vectors(train), thresholds).save(args.index)
            (args.index / CALIBRATION_FILE).write_text(
                json.dumps({"thresholds": asdict(thresholds), **calib}) + "\n", encoding="utf-8"
            )
            print(f"wrote {args.index / INDEX_FILE} ({len(train)} derived vectors)", file=sys.stderr)
        if args.generated is None:
            return 0
        generated, names = load_folder_images(args.generated, aligned=True)
        result = audit(generated, train, thresholds)
        out = args.out or args.generated.parent / "audit"
        from models.generator.audit_report import write_report

        path = write_report(result, names, train_names, thresholds, out, calib)
        print(path.read_text(encoding="utf-8"))
        return 1 if result["flagged"].any() else 0
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
