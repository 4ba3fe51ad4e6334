"""Command line: ``python -m models.saliency --image FILE --method NAME --out FILE``.

Writes the heat-map overlay PNG (cividis, colour-blind safe) and prints the region breakdown
beside the HPO features present (for PhenoFace renders). Research and education only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from models.saliency import BASELINES, METHODS, PRECISIONS, explain
from models.saliency.attribution import MAX_SAMPLES, MAX_STEPS

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "assets" / "classifier"


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (also used by ``--help``)."""
    p = argparse.ArgumentParser(
        prog="python -m models.saliency",
        description="Saliency map of the syndrome classifier on one face image (Captum), with the share of "
        "attribution per facial region. Research and education only; not for diagnosis.",
    )
    p.add_argument(
        "--image", type=Path, required=True, help="face image (PNG/JPEG; PhenoFace renders use their masks)"
    )
    p.add_argument(
        "--method",
        choices=METHODS,
        default="integrated_gradients",
        help="attribution method (default: integrated_gradients)",
    )
    p.add_argument("--out", type=Path, required=True, help="overlay PNG to write")
    p.add_argument(
        "--model",
        type=Path,
        default=DEFAULT_MODEL,
        help="classifier folder with model.safetensors and config.json (default: assets/classifier)",
    )
    p.add_argument("--target", default=None, help="class to explain (default: the predicted class)")
    p.add_argument(
        "--no-contrast",
        action="store_true",
        help="explain the target logit itself rather than target minus unaffected logit",
    )
    p.add_argument(
        "--baseline",
        choices=BASELINES,
        default="black",
        help="IG / SmoothGrad baseline; counterfactual = same child at intensity 0 (default: black)",
    )
    p.add_argument(
        "--baseline-image",
        type=Path,
        default=None,
        help="counterfactual image for --baseline counterfactual (renders: re-rendered when omitted)",
    )
    p.add_argument(
        "--steps", type=int, default=32, help=f"IG integration steps, 1 to {MAX_STEPS}, run 32 at a time (default: 32)"
    )
    p.add_argument("--samples", type=int, default=8, help=f"SmoothGrad noise samples, 1 to {MAX_SAMPLES} (default: 8)")
    p.add_argument("--window", type=int, default=16, help="Occlusion patch side in pixels at 112 px (default: 16)")
    p.add_argument("--seed", type=int, default=0, help="seed of SmoothGrad's noise (default: 0)")
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="fp32 (default); bf16: bfloat16 autocast, about twice as fast on CPUs with native bfloat16 "
        "(AVX-512 BF16, AMX) and slower elsewhere; auto: bf16 only where the CPU has it",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the region breakdown as JSON here")
    return p


def _check_args(args) -> str | None:
    """One-line message for arguments the attribution methods cannot take, else None."""
    if not 1 <= args.steps <= MAX_STEPS:
        return f"--steps must be from 1 to {MAX_STEPS}, not {args.steps}"
    if not 1 <= args.samples <= MAX_SAMPLES:
        return f"--samples must be from 1 to {MAX_SAMPLES}, not {args.samples}"
    if not 2 <= args.window <= 112:
        return f"--window must be between 2 and 112 pixels, not {args.window}"
    for flag, path in (("--out", args.out), ("--json", args.json)):
        if path is not None and path.is_dir():
            return f"{flag} {path} is a folder; give a file name"
    if args.out.suffix.lower() != ".png":
        return f"--out must end in .png, not {args.out.name!r}"
    if not args.out.resolve().parent.is_dir():
        return f"the folder of --out does not exist: {args.out.resolve().parent}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad input)."""
    args = build_parser().parse_args(argv)
    bad = _check_args(args)
    if bad:
        print(f"error: {bad}", file=sys.stderr)
        return 2
    from models import provenance
    from models.classifier.model import load_classifier

    try:
        model = load_classifier(args.model)
        result = explain(
            model,
            args.image,
            args.method,
            target=args.target,
            contrast=None if args.no_contrast else "unaffected",
            baseline=args.baseline,
            baseline_image=args.baseline_image,
            steps=args.steps,
            samples=args.samples,
            window=args.window,
            seed=args.seed,
            precision=args.precision,
        )
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    a = result.attribution
    summary = {
        "method": a.method,
        "target": a.target,
        "contrast": a.contrast,
        "baseline": a.baseline,
        "score": round(a.score, 4),
        "region_source": result.region_source,
        "hpo_present": list(result.hpo_present),
        "warnings": list(result.warnings),
        "regions": [
            {"region": r.region, "share": round(r.share, 4), "area": round(r.area, 4), "density": round(r.density, 3)}
            for r in result.regions
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    try:
        synthetic = provenance.read_png_metadata(args.image).get("synthetic") == "true"
    except (OSError, ValueError, SyntaxError):
        synthetic = False
    # only the file's name is kept: a folder path can name a person or a clinic
    if synthetic:  # a PhenoFace image: its overlay is synthetic too, and says so visibly
        info = provenance.png_metadata(generator="phenoface.saliency", source=args.image.name, **summary)
        provenance.save_png(provenance.mark_synthetic(result.overlay), args.out, info)
    else:  # a user's image, perhaps a real photograph: claim nothing about it
        provenance.save_derived_png(result.overlay, args.out, {"generator": "phenoface.saliency", **summary})
    if args.json is not None:
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    contrast = f" - {a.contrast}" if a.contrast else ""
    print(f"{a.method}: {a.target}{contrast} (score {a.score:.3f}), regions from {result.region_source}")
    if result.hpo_present:
        print(f"HPO features present: {', '.join(result.hpo_present)}")
    print(f"{'region':<10} {'share':>6} {'area':>6} {'density':>8}")
    for r in result.regions:
        print(f"{r.region:<10} {r.share:6.3f} {r.area:6.3f} {r.density:8.2f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
