"""Confidence intervals shared by the classifier's evaluation and the quiz dashboards, from scipy.stats.

- `wilson_interval`: the Wilson score interval of a proportion (Wilson 1927; ``scipy.stats.binomtest``),
  for accuracies over images or answers.
- `bootstrap_interval`: the percentile bootstrap interval of any statistic of items resampled with
  replacement (Efron & Tibshirani 1993; ``scipy.stats.bootstrap``), for means over syndromes,
  balanced accuracy and calibration error.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Confidence level of every interval PhenoFace reports.
CI_LEVEL = 0.95


def wilson_interval(successes: int, n: int, level: float = CI_LEVEL) -> tuple[float, float]:
    """(low, high) Wilson score interval of ``successes / n``, within [0, 1]; (nan, nan) when n is 0.

    Raises:
        ValueError: successes outside 0..n, or level outside (0, 1).
    """
    from scipy.stats import binomtest

    if n <= 0:
        return float("nan"), float("nan")
    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def bootstrap_interval(
    stat: Callable[[np.ndarray], float], n: int, n_boot: int = 500, seed: int = 0, level: float = CI_LEVEL
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat(indices)`` over `n` items resampled with replacement.

    Args:
        stat: maps an (n,) int64 array of item indices (a resample) to a finite float.
        n: number of items.
        n_boot: resamples.
        seed: seed of the resampling (`numpy.random.default_rng`).
        level: confidence level.

    Returns:
        (low, high); (nan, nan) when n is 0.
    """
    from scipy.stats import bootstrap

    if n == 0:
        return float("nan"), float("nan")
    res = bootstrap(
        (np.arange(n),), stat, n_resamples=n_boot, confidence_level=level, method="percentile",
        vectorized=False, rng=np.random.default_rng(seed),
    )  # fmt: skip
    return float(res.confidence_interval.low), float(res.confidence_interval.high)
