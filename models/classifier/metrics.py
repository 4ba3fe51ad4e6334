"""Accuracy, calibration and confidence intervals shared by training, evaluation and the oracle.

Top-k accuracy is reported two ways: over images, and as the mean over syndromes of each
syndrome's top-k accuracy, as GestaltMatcher reports it (Hsieh et al. 2022), so that large
classes do not dominate. Confidence intervals (`models.stats`, from scipy.stats): Wilson score
intervals for proportions over images (Wilson 1927), percentile bootstrap over images for the
other figures.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import balanced_accuracy_score, recall_score, top_k_accuracy_score

from models.stats import bootstrap_interval, wilson_interval


def topk_hits(probs: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """(N,) bool: is the true class among the `k` highest scores? `probs` (N, K), `labels` (N,) int."""
    k = min(k, probs.shape[1])
    top = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return (top == labels[:, None]).any(axis=1)


def topk_accuracy(probs: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Top-k accuracy over images (sklearn ``top_k_accuracy_score``)."""
    if k >= probs.shape[1]:
        return 1.0
    if probs.shape[1] == 2:  # sklearn wants 1-D scores for two classes
        return float(np.mean(probs.argmax(1) == labels))
    return float(top_k_accuracy_score(labels, probs, k=k, labels=np.arange(probs.shape[1])))


def per_class_topk(probs: np.ndarray, labels: np.ndarray, k: int) -> dict[int, float]:
    """Class index -> top-k accuracy over that class's images, for classes present in `labels`."""
    hits = topk_hits(probs, labels, k)
    return {int(c): float(hits[labels == c].mean()) for c in np.unique(labels)}


def per_syndrome_mean_topk(probs: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Mean over the classes present of their top-k accuracy (GestaltMatcher's per-syndrome mean)."""
    return float(np.mean(list(per_class_topk(probs, labels, k).values())))


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15) -> float:
    """Expected calibration error of the top-1 confidence, `n_bins` equal-width bins (Guo et al. 2017).

    Computed by torchmetrics as the binary calibration error (L1 norm) of the top-1 confidence against
    whether the top-1 class is right, which is this definition, in float64.

    Args:
        probs: (N, K) class probabilities.
        labels: (N,) int true classes.

    Returns:
        the ECE in [0, 1]; 0.0 for no images.
    """
    import torch
    from torchmetrics.functional.classification import binary_calibration_error

    if len(labels) == 0:
        return 0.0
    probs = np.asarray(probs, dtype=np.float64)
    conf = torch.from_numpy(probs.max(1))
    correct = torch.from_numpy((probs.argmax(1) == np.asarray(labels)).astype(np.int64))
    return float(binary_calibration_error(conf, correct, n_bins=n_bins, norm="l1", validate_args=False))


def summary(
    probs: np.ndarray, labels: np.ndarray, ks: Sequence[int] = (1, 5, 10), n_boot: int = 500, seed: int = 0
) -> dict[str, float | list[float]]:
    """Headline figures with 95 % intervals.

    Args:
        probs: (N, K) float class probabilities.
        labels: (N,) int true classes.
        ks: top-k values.
        n_boot: bootstrap resamples for the per-syndrome mean, balanced accuracy and ECE.
        seed: bootstrap seed.

    Returns:
        ``n``; ``top{k}`` and ``top{k}_ci`` over images (Wilson); ``per_syndrome_top{k}`` and its
        bootstrap ``_ci``; ``balanced_accuracy`` and ``ece`` with bootstrap ``_ci``.
    """
    n = len(labels)
    out: dict[str, float | list[float]] = {"n": n}
    if n == 0:
        return out
    for k in ks:
        hits = topk_hits(probs, labels, k)
        out[f"top{k}"] = topk_accuracy(probs, labels, k)
        out[f"top{k}_ci"] = list(wilson_interval(int(hits.sum()), n))
        out[f"per_syndrome_top{k}"] = per_syndrome_mean_topk(probs, labels, k)
        out[f"per_syndrome_top{k}_ci"] = list(
            bootstrap_interval(lambda i, k=k: per_syndrome_mean_topk(probs[i], labels[i], k), n, n_boot, seed)
        )
    pred = probs.argmax(1)
    with warnings.catch_warnings():  # resamples lacking a predicted class warn on every call
        warnings.simplefilter("ignore", UserWarning)
        out["balanced_accuracy"] = float(balanced_accuracy_score(labels, pred))
        out["balanced_accuracy_ci"] = list(
            bootstrap_interval(lambda i: float(balanced_accuracy_score(labels[i], pred[i])), n, n_boot, seed)
        )
    out["ece"] = expected_calibration_error(probs, labels)
    out["ece_ci"] = list(
        bootstrap_interval(lambda i: expected_calibration_error(probs[i], labels[i]), n, n_boot, seed)
    )
    return out


def sensitivity_per_class(probs: np.ndarray, labels: np.ndarray, classes: Sequence[str]) -> dict[str, dict]:
    """Class name -> ``{"n", "sensitivity", "ci"}`` (recall of top-1, Wilson interval), for classes present."""
    pred = probs.argmax(1)
    present = np.unique(labels)
    recall = recall_score(labels, pred, labels=present, average=None, zero_division=0)
    out = {}
    for c, r in zip(present, recall, strict=True):
        n_c = int((labels == c).sum())
        out[classes[int(c)]] = {
            "n": n_c,
            "sensitivity": float(r),
            "ci": list(wilson_interval(int(round(r * n_c)), n_c)),
        }
    return out
