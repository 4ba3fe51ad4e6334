"""The ceiling: a classifier that sees each child's HPO terms instead of the face.

    python -m models.classifier.oracle --data out/cohort --test out/heldout

A faithful simulator draws each feature at its frequency, so some syndromic children show none
of their syndrome's features and no image classifier can recognise them. The oracle measures how
much is achievable: multinomial logistic regression (scikit-learn) on a multi-hot vector of the
HPO terms present on each image (``hpo_terms`` in metadata.csv) plus age (years / 18) and sex.
It reports the same figures as `models.classifier.evaluate` (top-1/5/10 over images and
per-syndrome mean, with intervals), so the two can be put side by side. Without ``--test`` it is
fitted and scored on the subject-level split of ``--data`` that training uses.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.classifier import metrics
from models.classifier.data import class_list, load_rows, split_by_subject


def features(rows: Sequence[dict[str, Any]], terms: Sequence[str]) -> np.ndarray:
    """(N, T + 2) float64: multi-hot of `terms` present, then age / 18 (0.5 if unknown) and male (0/1, 0.5 unknown)."""
    index = {t: i for i, t in enumerate(terms)}
    x = np.zeros((len(rows), len(terms) + 2))
    for n, r in enumerate(rows):
        for t in r["hpo_terms"]:
            if t in index:
                x[n, index[t]] = 1.0
        x[n, -2] = r["age_years"] / 18.0 if r["age_years"] is not None else 0.5
        x[n, -1] = {"male": 1.0, "female": 0.0}.get(r["sex"] or "", 0.5)
    return x


def fit_and_score(
    train_rows: Sequence[dict[str, Any]],
    test_rows: Sequence[dict[str, Any]],
    c: float = 1.0,
    n_boot: int = 500,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit the oracle on `train_rows` and report `metrics.summary` on `test_rows`.

    Args:
        train_rows: metadata rows to fit on.
        test_rows: metadata rows to score (classes unseen in training are left out).
        c: inverse L2 regularisation strength of the logistic regression.
        n_boot: bootstrap resamples for intervals.
        seed: bootstrap seed.

    Returns:
        ``{"classes", "n_terms", "overall", "per_class_top1"}``.
    """
    from sklearn.linear_model import LogisticRegression

    classes = class_list(train_rows)
    terms = sorted({t for r in train_rows for t in r["hpo_terms"]})
    y_train = np.array([classes.index(r["syndrome"]) for r in train_rows])
    test_rows = [r for r in test_rows if r["syndrome"] in classes]
    y_test = np.array([classes.index(r["syndrome"]) for r in test_rows])
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    model.fit(features(train_rows, terms), y_train)
    probs = np.zeros((len(test_rows), len(classes)))
    probs[:, model.classes_] = model.predict_proba(features(test_rows, terms))
    per_class = metrics.per_class_topk(probs, y_test, 1)
    return {
        "classes": classes,
        "n_terms": len(terms),
        "overall": metrics.summary(probs, y_test, n_boot=n_boot, seed=seed),
        "per_class_top1": {classes[k]: v for k, v in per_class.items()},
    }


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (also used by ``--help``)."""
    p = argparse.ArgumentParser(
        prog="python -m models.classifier.oracle",
        description="Ceiling classifier on each child's HPO terms present (+ age, sex): the accuracy an image "
        "classifier can at best reach on a simulated cohort.",
    )
    p.add_argument("--data", type=Path, required=True, help="cohort folder with metadata.csv to fit on")
    p.add_argument(
        "--test",
        type=Path,
        default=None,
        help="held-out cohort to score (default: the subject-level validation split of --data)",
    )
    p.add_argument(
        "--val-fraction",
        type=float,
        default=0.2,
        help="validation fraction when --test is not given, as in training (default: 0.2)",
    )
    p.add_argument("--seed", type=int, default=0, help="split and bootstrap seed (default: 0)")
    p.add_argument("--C", dest="c", type=float, default=1.0, help="inverse L2 regularisation strength (default: 1.0)")
    p.add_argument("--bootstrap", type=int, default=500, help="bootstrap resamples for intervals (default: 500)")
    p.add_argument("--out", type=Path, default=None, help="write the report as JSON to this file")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad arguments)."""
    args = build_parser().parse_args(argv)
    for folder in (args.data, args.test):
        if folder is not None and not (folder / "metadata.csv").is_file():
            print(f"error: no metadata.csv in {folder}", file=sys.stderr)
            return 2
    rows = load_rows(args.data)
    if args.test is not None:
        train_rows, test_rows = rows, load_rows(args.test)
    else:
        train_idx, val_idx = split_by_subject(rows, args.val_fraction, args.seed)
        train_rows, test_rows = [rows[i] for i in train_idx], [rows[i] for i in val_idx]
    result = fit_and_score(train_rows, test_rows, args.c, args.bootstrap, args.seed)
    s = result["overall"]
    print(
        f"oracle on HPO terms ({result['n_terms']} terms, {len(result['classes'])} classes, n={s['n']}): "
        f"per-syndrome top-1 {s['per_syndrome_top1']:.3f} [{s['per_syndrome_top1_ci'][0]:.2f}-"
        f"{s['per_syndrome_top1_ci'][1]:.2f}], top-5 {s['per_syndrome_top5']:.3f}; "
        f"over images top-1 {s['top1']:.3f}, top-5 {s['top5']:.3f}"
    )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
