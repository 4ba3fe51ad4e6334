"""Temperature scaling: make the classifier's probabilities mean what they say.

    python -m models.classifier.calibrate --model out/models/resnet18 --data out/data/train

A network trained with cross-entropy is usually over- or under-confident; dividing its logits by
one temperature T, fitted by minimising the negative log-likelihood on held-out images, fixes most
of it without changing any ranking (Guo et al. 2017, "On calibration of modern neural networks").
The quiz and Explain show probabilities, so the shipped classifier carries its T in ``config.json``
(`ClassifierConfig.temperature`) and `Classifier.forward` applies it: every probability the project
shows is the calibrated one.

T is fitted on the training run's own validation split (the children `models.classifier.train` held
out, recomputed from ``train_args.json``: same cohort, fraction and seed), never on the test cohort.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

#: Temperatures searched, as log T (T from 0.05 to 20).
LOG_T_BOUNDS = (-3.0, 3.0)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature T > 0 that minimises the mean negative log-likelihood of ``softmax(logits / T)``.

    Args:
        logits: (N, K) float logits (at temperature 1).
        labels: (N,) int true classes.

    Returns:
        T, between 0.05 and 20.

    Raises:
        ValueError: no images, mismatched lengths, non-finite logits or labels outside 0..K-1.
    """
    from scipy.optimize import minimize_scalar
    from scipy.special import log_softmax

    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if logits.ndim != 2 or len(logits) == 0 or len(logits) != len(labels):
        raise ValueError(f"need (N, K) logits and N labels with N >= 1, got {logits.shape} and {labels.shape}")
    if not np.isfinite(logits).all() or labels.min() < 0 or labels.max() >= logits.shape[1]:
        raise ValueError("logits must be finite and labels within 0..K-1")
    rows = np.arange(len(labels))

    def nll(log_t: float) -> float:
        return float(-log_softmax(logits / np.exp(log_t), axis=1)[rows, labels].mean())

    best = minimize_scalar(nll, bounds=LOG_T_BOUNDS, method="bounded", options={"xatol": 1e-4})
    return float(np.exp(best.x))


def validation_split(model_dir: Path, data: Path, cache_dir: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The aligned crops (N, S, S, 3) uint8 and labels (N,) int of a trained model's validation children
    (`cache_dir`: the aligned-crop cache, default ``data/.cache``, as training uses).

    Raises:
        ValueError: the model has no train_args.json, was trained without a validation split, or the
            cohort lacks a class of the model.
    """
    from models.classifier.config import ClassifierConfig
    from models.classifier.data import aligned_crops, load_rows, split_by_subject

    try:
        train_args = json.loads((model_dir / "train_args.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ValueError(f"{model_dir} has no readable train_args.json: its validation children are unknown") from None
    fraction, seed = float(train_args.get("val_fraction", 0)), int(train_args.get("seed", 0))
    if fraction <= 0:
        raise ValueError(f"{model_dir} was trained without a validation split (--val-fraction 0)")
    classes = ClassifierConfig.load(model_dir).classes
    rows = load_rows(data)
    crops, ok = aligned_crops(rows, cache_dir if cache_dir is not None else data / ".cache")
    rows = [r for r, good in zip(rows, ok, strict=True) if good]
    crops = crops[ok]
    _, val_idx = split_by_subject(rows, fraction, seed)  # as training split them (rows in the same order)
    missing = sorted({rows[i]["syndrome"] for i in val_idx} - set(classes))
    if missing:
        raise ValueError(f"the cohort has classes the model does not know: {missing}")
    return crops[val_idx], np.array([classes.index(rows[i]["syndrome"]) for i in val_idx], dtype=np.int64)


def calibrate(model_dir: str | Path, data: str | Path, cache_dir: str | Path | None = None) -> dict:
    """Fit the temperature on the model's validation children and write it into its ``config.json``.

    Returns:
        ``{"temperature", "n", "ece_before", "ece_after", "nll_before", "nll_after"}`` (also written as
        ``calibration.json`` beside the weights).

    Raises:
        ValueError: see `validation_split` and `fit_temperature`.
    """
    import dataclasses

    from scipy.special import log_softmax

    from models.classifier.config import ClassifierConfig
    from models.classifier.metrics import expected_calibration_error
    from models.classifier.model import load_classifier, predict_logits
    from models.files import write_text

    model_dir, data = Path(model_dir), Path(data)
    crops, labels = validation_split(model_dir, data, None if cache_dir is None else Path(cache_dir))
    model = load_classifier(model_dir)
    config = ClassifierConfig.load(model_dir)
    raw = predict_logits(model, crops).astype(np.float64) * config.temperature  # back to temperature 1
    t = fit_temperature(raw, labels)
    rows = np.arange(len(labels))

    def figures(scaled: np.ndarray) -> tuple[float, float]:
        logp = log_softmax(scaled, axis=1)
        return expected_calibration_error(np.exp(logp), labels), float(-logp[rows, labels].mean())

    (ece_before, nll_before), (ece_after, nll_after) = figures(raw), figures(raw / t)
    result = {
        "temperature": t, "n": int(len(labels)), "data": str(data),
        "ece_before": ece_before, "ece_after": ece_after, "nll_before": nll_before, "nll_after": nll_after,
        "method": "temperature scaling (Guo et al. 2017), NLL on the training run's validation children",
    }  # fmt: skip
    write_text(model_dir / "calibration.json", json.dumps(result, indent=1) + "\n")
    dataclasses.replace(config, temperature=t).save(model_dir)
    return result


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (also used by ``--help``)."""
    p = argparse.ArgumentParser(
        prog="python -m models.classifier.calibrate",
        description="Fit the classifier's temperature (Guo et al. 2017) on the validation children of its training "
        "run and write it into its config.json, so that every probability the app shows is calibrated. Rankings "
        "do not change. Writes calibration.json (ECE and NLL before and after).",
    )
    p.add_argument("--model", type=Path, required=True, help="classifier folder (config.json, train_args.json)")
    p.add_argument("--data", type=Path, required=True, help="the cohort the model was trained on (its --data)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run; returns 0, or 2 with one line on bad input."""
    args = build_parser().parse_args(argv)
    try:
        result = calibrate(args.model, args.data)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(
        f"temperature {result['temperature']:.3f} on {result['n']} validation images: ECE "
        f"{result['ece_before']:.3f} -> {result['ece_after']:.3f}, NLL {result['nll_before']:.3f} -> "
        f"{result['nll_after']:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
