"""Privacy audit of a trained generator: is any sample a near-copy of a training child?

    python -m models.generator.audit --generated out/samples --train out/data/train --out out/audit \\
        [--index assets/generator]

Syndrome features are shared by every child with the syndrome, so a sample that *looks
syndromic* is expected; what must not happen is a sample that reproduces *one training child*.
So the audit uses measures that separate identities, on aligned crops (the classifier's
alignment, `models.alignment`, at the generator's 64 px), in the central 48 x 48
pixels (the inner face; the corner "SYNTHETIC" label and most background are outside it), each
sample also mirrored, shifted by up to 2 pixels and re-aligned by Face Mesh from its own face
(`models.generator.identity`: the generator trains on flipped images, and a copy that is nudged,
moved or scaled must still count as a copy):

- pixel SSIM (Wang et al. 2004; torchmetrics, 11-pixel Gaussian window, sigma 1.5) between a
  sample and its nearest training images;
- in a derived space, the distance d1 to the nearest training image and the ratio d1 / d2 to the
  second nearest (Lowe's ratio test, 2004): a copy of one child sits much closer to that child
  than to any other.

Thresholds are calibrated (`calibrate`) on renders whose truth is known: the same child drawn
again (same identity seed, half a year older, drawn at 224 instead of 256 pixels: a stand-in
for a second photograph) versus different children, each searched among all the training
images as a sample is, so that a rule flags at most a set share (0.1 %) of new children.
The model folder keeps only derived vectors of the training set, in its privacy checker
(``privacy_checker/``, `models.generator.components.PhenoFacePrivacyChecker`: 128-dimensional
Gaussian random projections of the standardised grey crops, 2304 -> 128 numbers, no image), which
the pipeline applies to every sample (the memorisation filter). When the training data are
licensed photographs, the checker is derived from them, and users are told so.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image

from models.faces import APP_ENGINE, add_engine_flag
from models.generator.identity import measures, nearest, to_size, vectors
from models.generator.privacy_index import Thresholds, build_checker, install

#: Training images compared by SSIM per sample (the nearest in the projected space).
SSIM_CANDIDATES = 8
CALIBRATION_FILE = "privacy_calibration.json"
#: Projected distance (SD) below which two crops are the same image, at most re-encoded.
SAME_IMAGE = 0.02


def calibrate(
    n: int = 200,
    seed: int = 0,
    train: np.ndarray | None = None,
    different: int = 1000,
    false_alarm: float = 0.001,
    holdout: np.ndarray | None = None,
    realign: bool = True,
    engine: str | None = None,
) -> tuple[Thresholds, dict[str, dict[str, list[float]]]]:
    """Set the flag thresholds from children whose identity is known: the same child drawn again versus others.

    ``n`` children (random syndrome, age 1-16 years, sex, Monk tone) are rendered; same-child
    queries are each of them again, 0.5 years older, drawn at 224 px (a stand-in for a second
    photograph). Different-child queries are ``different`` new children, or the
    crops in `holdout` (children known not to be in the training set, for example a test split).

    The gallery both kinds are searched in is the ``n`` originals plus `train` when given. That is
    the audit's own setting: it takes each sample's *nearest of all* training images, and the most
    similar of thousands of unrelated children is far more similar than one unrelated pair, so a
    threshold set on single pairs flags ordinary new children (3.4 % of the held-out test children
    against the shipped default's 5,750 training images at the pair-calibrated SSIM 0.874).

    A false alarm costs a re-draw, a missed copy costs privacy, but a filter that refuses ordinary
    new faces is useless; so each threshold sits where the same-child pairs end (their 95th
    percentile of d1 and ratio, 5th of SSIM) unless that flags more than `false_alarm` of the
    different children, in which case it stops at their `false_alarm` quantile (d1, ratio) or
    ``1 - false_alarm`` quantile (SSIM).

    Args:
        n: same-child pairs, >= 2.
        seed: seed of the renders.
        train: (G, 64, 64, 3) uint8 aligned training crops the audit compares against, or None.
        different: new children rendered as different-child queries (ignored with `holdout`).
        false_alarm: the share of different children a rule may flag, in (0, 0.5).
        holdout: (H, 64, 64, 3) uint8 aligned crops of children not in `train`, or None.
        realign: read queries also re-aligned by Face Mesh, as `audit` does.
        engine: the phenotype engine that draws the calibration children (`models.faces.GENERATORS`), the one
            that drew the training cohort; None: the app's (`models.faces.APP_ENGINE`, the 3D child).

    Returns:
        The thresholds and, per query kind (``same``, ``different``), the lists ``d1``,
        ``ratio`` and ``ssim``, plus ``rates``: the share of each kind that each rule flags
        (``index_rule``, ``ssim_rule``) and that either flags (``either``).

    Raises:
        ValueError: `n` < 2, `different` < 2, `false_alarm` outside (0, 0.5), or `holdout` holds
            training images.
    """
    from models.alignment import preprocess
    from models.faces import draw_face
    from models.phenotype.catalog import load_catalog
    from models.phenotype.spec import RenderSpec

    if n < 2 or (holdout is None and different < 2):
        raise ValueError("calibration needs at least 2 same-child and 2 different-child queries")
    if not 0 < false_alarm < 0.5:
        raise ValueError(f"false_alarm must be in (0, 0.5), got {false_alarm}")
    if holdout is not None and train is not None:
        # A training child among the "different" children would push every threshold to a copy's own score.
        same_image = nearest(holdout, vectors(train), 1)[0][:, 0] < SAME_IMAGE
        if same_image.any():
            raise ValueError(f"{int(same_image.sum())} of the {len(holdout)} holdout images are training images; "
                             "the holdout must hold children the generator was not trained on")  # fmt: skip
    rng = np.random.default_rng(seed)
    keys = ["unaffected", *load_catalog().keys()]
    engine = engine or APP_ENGINE

    def draw(spec: RenderSpec) -> np.ndarray:
        s = draw_face(spec, engine).sample
        return to_size(preprocess(s.image, s.landmarks)[None])[0]

    def spec() -> RenderSpec:
        return RenderSpec(
            syndrome=str(rng.choice(keys)),
            age=float(rng.uniform(1, 16)),
            sex=str(rng.choice(["female", "male"])),
            skin_tone=int(rng.integers(1, 11)),
            seed=int(rng.integers(1, 2**31)),
        )

    specs = [spec() for _ in range(n)]
    originals = np.stack([draw(s) for s in specs])
    same = np.stack([draw(RenderSpec(**{**asdict(s), "age": s.age + 0.5, "size": 224})) for s in specs])
    other = to_size(holdout) if holdout is not None else np.stack([draw(spec()) for _ in range(different)])
    gallery = originals if train is None else np.concatenate([to_size(train), originals])
    g = vectors(gallery)
    out: dict[str, dict[str, list[float]]] = {}
    for kind, q in (("same", same), ("different", other)):
        m = measures(q, gallery, g, SSIM_CANDIDATES, realign)
        out[kind] = {k: m[k].tolist() for k in ("d1", "ratio", "ssim")}
    same_m, diff = out["same"], out["different"]
    q_low, q_high = 100 * false_alarm, 100 * (1 - false_alarm)
    where = (
        f"among {len(train)} training images and the {n} originals"
        if train is not None
        else f"among the {n} originals"
    )
    queries = f"{len(other)} held-out children" if holdout is not None else f"{len(other)} new rendered children"
    t = Thresholds(
        max_distance=float(min(np.percentile(same_m["d1"], 95), np.percentile(diff["d1"], q_low))),
        max_ratio=float(min(np.percentile(same_m["ratio"], 95), np.percentile(diff["ratio"], q_low))),
        min_ssim=float(max(np.percentile(same_m["ssim"], 5), np.percentile(diff["ssim"], q_high))),
        source=f"calibrated on {n} same-child re-renders and {queries}, each searched {where}; "
        f"at most {false_alarm:.2%} of different children flagged per rule; "
        f"{'each query also re-aligned by Face Mesh' if realign else 'queries as given'}; seed {seed}; "
        f"children drawn by {engine}",
    )
    rates = {}
    for kind, c in out.items():
        d1, r, s = (np.asarray(c[k]) for k in ("d1", "ratio", "ssim"))
        by_index, by_ssim = (d1 <= t.max_distance) & (r <= t.max_ratio), s >= t.min_ssim
        rates[kind] = {
            "index_rule": float(np.mean(by_index)),
            "ssim_rule": float(np.mean(by_ssim)),
            "either": float(np.mean(by_index | by_ssim)),
        }
    out["rates"] = rates
    return t, out


def load_folder_images(folder: str | Path, aligned: bool) -> tuple[np.ndarray, list[str]]:
    """Images of a folder as (N, 64, 64, 3) uint8 aligned crops, and their file names.

    A folder with ``metadata.csv`` is read as a cohort (aligned by `models.alignment`,
    cached); otherwise every PNG/JPEG in it is read, taken as already aligned when `aligned`
    (the generator's own samples) or aligned by Face Mesh when not (faces not found are skipped).
    """
    from models.alignment import load_rgb, preprocess
    from models.classifier.data import aligned_crops, load_rows

    folder = Path(folder)
    if (folder / "metadata.csv").is_file():
        rows = load_rows(folder)
        crops, ok = aligned_crops(rows, folder / ".cache")
        if not rows or not ok.any():
            raise ValueError(f"no readable face image in {folder} (metadata.csv lists {len(rows)})")
        return to_size(crops[ok]), [r["file"] for r, good in zip(rows, ok, strict=True) if good]
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    images, names = [], []
    for p in files:
        try:
            im = load_rgb(p) if aligned else preprocess(p)
            if aligned and im.shape[0] != im.shape[1]:
                raise ValueError(f"{im.shape[1]} x {im.shape[0]} pixels is not a square aligned crop")
        except (ValueError, OSError, Image.DecompressionBombError) as e:
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
    realign: bool = True,
) -> dict[str, np.ndarray]:
    """Nearest-training-image measures of every generated sample (`models.generator.identity.measures`).

    Args:
        generated: (Q, 64, 64, 3) uint8 aligned samples.
        train: (G, 64, 64, 3) uint8 aligned training crops.
        thresholds: flag rule.
        realign: also read each sample re-aligned by Face Mesh (catches copies moved or scaled
            beyond the 2-pixel views); use the same setting as the calibration.

    Returns:
        Arrays of length Q: ``d1``, ``ratio``, ``ssim``, ``nearest`` (training index by SSIM),
        ``flag_index`` (projected rule), ``flag_ssim`` (SSIM rule), ``flagged`` (either).

    Raises:
        ValueError: fewer than 2 training images.
    """
    if len(train) < 2:
        raise ValueError("the nearest/second-nearest ratio needs at least 2 training images")
    m = measures(generated, train, vectors(train), SSIM_CANDIDATES, realign)
    d1, r, s, at = m["d1"], m["ratio"], m["ssim"], m["nearest"]
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
        help="generator folder to install the privacy checker (privacy_checker/, the derived vectors and "
        "thresholds) and privacy_calibration.json into",
    )
    p.add_argument(
        "--calibrate",
        type=int,
        default=200,
        metavar="N",
        help="render N children and each again half a year older (same-child pairs) to set the thresholds "
        "(default: 200)",
    )
    p.add_argument(
        "--different",
        type=int,
        default=1000,
        metavar="M",
        help="render M new children as the different-child queries, each searched among all training images "
        "like a sample (default: 1000)",
    )
    p.add_argument(
        "--holdout",
        type=Path,
        default=None,
        help="folder of children known not to be in --train (metadata.csv format, e.g. a test split), used as "
        "the different-child queries instead of renders; with licensed photographs this is the better reference",
    )
    p.add_argument(
        "--false-alarm",
        type=float,
        default=0.001,
        metavar="P",
        help="largest share of different children a rule may flag; 0.001 means about one false alarm in an "
        "audit of 1,000 samples from a generator that draws only new children (default: 0.001)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the calibration renders, 0 or more (default: 0)")
    add_engine_flag(p, "the calibration children: the one that drew the training cohort")
    p.add_argument(
        "--no-realign",
        action="store_true",
        help="compare samples only as given, not also re-aligned by Face Mesh (faster; misses copies moved by "
        "more than 2 pixels or scaled); the calibration follows the same setting",
    )
    return p


def _check_folders(args: argparse.Namespace) -> Path | None:
    """Refuse bad folder arguments before any work; returns the report folder (None without --generated)."""
    for flag in ("train", "generated", "index", "holdout"):
        folder = getattr(args, flag)
        if folder is not None and not folder.is_dir():
            raise ValueError(f"--{flag} {folder} is not a folder")
    if args.index is not None and not (args.index / "model_index.json").is_file():
        raise ValueError(f"--index {args.index} is not a generator folder (no model_index.json)")
    if args.generated is None:
        return None
    out = args.out or args.generated.parent / "audit"
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    if out.resolve() == args.generated.resolve() or args.generated.resolve() in out.resolve().parents:
        raise ValueError("--out must lie outside --generated, or the report's chart would be audited next time")
    out.mkdir(parents=True, exist_ok=True)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the audit; returns the exit status (0 ok, 1 when a sample is flagged, 2 bad input or unwritable output)."""
    args = build_parser().parse_args(argv)
    try:
        out = _check_folders(args)
        if args.seed < 0:
            raise ValueError("--seed must be 0 or more")
        if not 10 <= args.calibrate <= 5000:
            raise ValueError("--calibrate must be 10 to 5000")
        if args.holdout is None and not 10 <= args.different <= 20000:
            raise ValueError("--different must be 10 to 20000")
        if not 0 < args.false_alarm < 0.5:
            raise ValueError("--false-alarm must be between 0 and 0.5")
        train, train_names = load_folder_images(args.train, aligned=False)
        if len(train) < 2:
            raise ValueError(f"--train {args.train} has {len(train)} usable image; the ratio test needs at least 2")
        generated, names = (None, []) if args.generated is None else load_folder_images(args.generated, aligned=True)
        holdout = None if args.holdout is None else load_folder_images(args.holdout, aligned=False)[0]
        if holdout is not None and len(holdout) < 10:
            raise ValueError(f"--holdout {args.holdout} has {len(holdout)} usable children; at least 10 are needed")
        queries = len(holdout) if holdout is not None else args.different
        if queries * args.false_alarm < 1:
            print(f"note: with {queries} different children a share of {args.false_alarm:g} is less than one child; "
                  "each threshold stops at the most similar of them", file=sys.stderr)  # fmt: skip
        realign = not args.no_realign
        thresholds, calib = calibrate(
            args.calibrate, args.seed, train, args.different, args.false_alarm, holdout, realign, args.engine
        )
        print(f"thresholds: {thresholds}", file=sys.stderr)
        if args.index is not None:
            from models.files import atomic_output

            # the checker, which the pipeline applies, goes into place first, the calibration once that has worked
            with atomic_output(args.index / CALIBRATION_FILE) as tmp:
                Path(tmp).write_text(json.dumps({"thresholds": asdict(thresholds), **calib}) + "\n", encoding="utf-8")
                path = install(args.index, build_checker(vectors(train), thresholds))
            print(f"wrote {path} ({len(train)} derived vectors)", file=sys.stderr)
        if generated is None:
            return 0
        result = audit(generated, train, thresholds, realign)
        from models.generator.audit_report import write_report

        path = write_report(result, names, train_names, thresholds, out, calib)
        print(path.read_text(encoding="utf-8"))
        return 1 if result["flagged"].any() else 0
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
