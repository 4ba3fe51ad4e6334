"""Evaluate a trained classifier on a cohort.

    python -m models.classifier.evaluate --model out/clf --data out/heldout --out out/clf/eval

Reports top-1, top-5 and top-10 accuracy over images and as the per-syndrome mean
(GestaltMatcher's convention), balanced accuracy, per-class sensitivity and expected
calibration error, the same by skin tone band (Monk 1-3, 4-7, 8-10), age band, sex and ancestry (3D
cohorts; "unknown" where the cohort has none), all with
95 % confidence intervals (Wilson over images; percentile bootstrap for means, balanced accuracy
and ECE); writes ``metrics.json``, ``predictions.csv`` and ``confusion_matrix.png`` to ``--out``.
Evaluate on a cohort of new identities (another ``--seed``), not the training cohort.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.classifier import metrics
from models.classifier.data import aligned_crops, load_rows
from models.classifier.model import Classifier, load_classifier, predict_proba
from models.constants import age_band, skin_band

GROUPS = {
    "skin_tone": lambda r: skin_band(r["skin_tone"]),
    "age_band": lambda r: age_band(r["age_years"]),
    "sex": lambda r: r["sex"] or "unknown",
    # MakeHuman's ancestry targets are artistic, not anthropometric norms; reported so that no ancestry lags
    "ancestry": lambda r: r.get("ancestry") or "unknown",
}


def _group_order(name: str) -> tuple[float, str]:
    """Sort groups by their leading number ("MST 4-7", "12-18"), names after, "unknown" last."""
    head = name.removeprefix("MST ").split("-")[0]
    try:
        return float(head), name
    except ValueError:
        return (float("inf") if name == "unknown" else 1e9), name


def predict(model: Classifier, crops: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Class probabilities of aligned crops.

    Args:
        model: a loaded classifier.
        crops: (N, S, S, 3) uint8 aligned crops.
        batch_size: images per forward pass.

    Returns:
        (N, K) float64 softmax probabilities.
    """
    return predict_proba(model, crops, batch_size)


def report(
    probs: np.ndarray,
    labels: np.ndarray,
    rows: Sequence[dict[str, Any]],
    classes: Sequence[str],
    n_boot: int = 500,
    seed: int = 0,
) -> dict[str, Any]:
    """All figures of this module as a JSON-able dict (see the module docstring)."""
    result: dict[str, Any] = {
        "overall": metrics.summary(probs, labels, n_boot=n_boot, seed=seed),
        "per_class_sensitivity": metrics.sensitivity_per_class(probs, labels, classes),
    }
    for name, key in GROUPS.items():
        groups = np.array([key(r) for r in rows])
        result[f"by_{name}"] = {
            g: metrics.summary(probs[groups == g], labels[groups == g], n_boot=n_boot, seed=seed)
            for g in sorted(set(groups), key=_group_order)
        }
    return result


def plot_confusion(labels: np.ndarray, pred: np.ndarray, classes: Sequence[str], path: Path, title: str) -> Path:
    """Row-normalised confusion matrix (rows: true class, columns: predicted) as a PNG, cividis colormap."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    cm = confusion_matrix(labels, pred, labels=np.arange(len(classes)), normalize="true")
    size = max(5.0, 0.38 * len(classes) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(cm, cmap="cividis", vmin=0, vmax=1)  # cividis: readable with colour-vision deficiency
    ax.set_xticks(range(len(classes)), classes, rotation=90, fontsize=7)
    ax.set_yticks(range(len(classes)), classes, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, label="fraction of the true class")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def format_report(result: dict[str, Any]) -> str:
    """A short plain-text table of the headline figures."""

    def line(name: str, s: dict) -> str:
        if not s.get("n"):
            return f"{name:<16} n=0"
        return (
            f"{name:<16} n={s['n']:<5} top1 {s['top1']:.3f} [{s['top1_ci'][0]:.2f}-{s['top1_ci'][1]:.2f}]  "
            f"top5 {s['top5']:.3f}  top10 {s['top10']:.3f}  per-syndrome top1 {s['per_syndrome_top1']:.3f} "
            f"top5 {s['per_syndrome_top5']:.3f}  bal.acc {s['balanced_accuracy']:.3f}  ECE {s['ece']:.3f}"
        )

    out = [line("overall", result["overall"])]
    for name in GROUPS:
        out += [line(f"  {g}", s) for g, s in result[f"by_{name}"].items()]
    return "\n".join(out)


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (also used by ``--help``)."""
    p = argparse.ArgumentParser(
        prog="python -m models.classifier.evaluate",
        description="Evaluate a syndrome classifier on a cohort (accuracy, calibration, subgroups, confusion matrix). "
        "Research and education only; not for diagnosis.",
    )
    p.add_argument("--model", type=Path, required=True, help="folder with model.safetensors and config.json")
    p.add_argument("--data", type=Path, required=True, help="cohort folder with metadata.csv (use new identities)")
    p.add_argument("--out", type=Path, default=None, help="output folder (default: out/eval/<model name>-<data name>)")
    p.add_argument("--bootstrap", type=int, default=500, help="bootstrap resamples for intervals (default: 500)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default: 0)")
    p.add_argument("--batch-size", type=int, default=64, help="images per forward pass (default: 64)")
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="aligned-crop cache folder (default: <data>/.cache; unwritable: no cache)",
    )
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad arguments)."""
    args = build_parser().parse_args(argv)
    try:
        model = load_classifier(args.model)
        if not (args.data / "metadata.csv").is_file():
            raise ValueError(f"--data has no metadata.csv: {args.data}")
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    classes = model.config.classes
    all_rows = load_rows(args.data)
    rows = [r for r in all_rows if r["syndrome"] in classes]
    if len(rows) < len(all_rows):
        print(
            f"warning: {len(all_rows) - len(rows)} images of classes the model does not know left out", file=sys.stderr
        )
    crops, ok = aligned_crops(rows, args.cache_dir or args.data / ".cache", progress=not args.quiet)
    rows = [r for r, good in zip(rows, ok, strict=True) if good]
    if not rows:
        print("error: no evaluable images (no known class with a face found)", file=sys.stderr)
        return 2
    labels = np.array([classes.index(r["syndrome"]) for r in rows])
    probs = predict(model, crops[ok], args.batch_size)
    result = {
        "model": str(args.model),
        "data": str(args.data),
        "images_without_face": int((~ok).sum()),
        **report(probs, labels, rows, classes, args.bootstrap, args.seed),
    }
    # never write into the model folder: the shipped one lives in the repository's assets/
    out = args.out or Path("out") / "eval" / f"{args.model.resolve().name}-{args.data.resolve().name}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    with open(out / "predictions.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "subject_id", "syndrome", "predicted", "confidence", "rank_of_true"])
        ranks = (probs > probs[np.arange(len(labels)), labels][:, None]).sum(1) + 1
        for r, p, rank in zip(rows, probs, ranks, strict=True):
            writer.writerow(
                [r["file"], r["subject_id"], r["syndrome"], classes[int(p.argmax())], f"{p.max():.4f}", rank]
            )
    plot_confusion(
        labels,
        probs.argmax(1),
        classes,
        out / "confusion_matrix.png",
        f"{model.config.backbone} on {args.data.name} (n={len(labels)})",
    )
    print(format_report(result))
    print(f"wrote {out / 'metrics.json'} and {out / 'confusion_matrix.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
