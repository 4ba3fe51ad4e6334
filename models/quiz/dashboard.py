"""An educator's dashboard of quiz answers: per syndrome and per learner with 95 % intervals, confidence
against accuracy, the syndromes confused with each other, progress over time; as tables (CSV) and plots
(PNG).

Intervals are Wilson score intervals for a proportion (Wilson 1927; Brown, Cai & DasGupta 2001 recommend
them over the Wald interval for the small counts a class produces), computed by scipy. A learner who
answers few questions gets a wide interval: that is the point of showing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from models.quiz.results import CONFIDENCE_LEVELS, AnswerRecord
from models.stats import wilson_interval as wilson


def accuracy_table(records: Iterable[AnswerRecord], by: str = "syndrome", names: Mapping[str, str] | None = None):
    """Accuracy per group with its 95 % interval and mean partial credit.

    Args:
        records: answers. by: ``"syndrome"`` (the child shown) or ``"learner"``.
        names: catalogue key -> display name, for the syndrome column.

    Returns:
        `pandas.DataFrame` with columns group, answers, right, accuracy, ci_low, ci_high, credit (fractions
        in [0, 1]), sorted by accuracy, lowest first (who or what needs attention comes first).

    Raises:
        ValueError: an unknown ``by``.
    """
    if by not in ("syndrome", "learner"):
        raise ValueError(f"group by syndrome or learner, not {by!r}")
    groups: dict[str, list[AnswerRecord]] = {}
    for r in records:
        groups.setdefault(getattr(r, by), []).append(r)
    rows = []
    for key, items in groups.items():
        right = sum(r.correct for r in items)
        low, high = wilson(right, len(items))
        rows.append(
            {
                "group": (names or {}).get(key, key) if by == "syndrome" else key,
                "answers": len(items),
                "right": right,
                "accuracy": right / len(items),
                "ci_low": low,
                "ci_high": high,
                "credit": float(np.mean([r.credit for r in items])),
            }
        )
    columns = ["group", "answers", "right", "accuracy", "ci_low", "ci_high", "credit"]
    return pd.DataFrame(rows, columns=columns).sort_values(["accuracy", "group"]).reset_index(drop=True)


def calibration_table(records: Iterable[AnswerRecord]) -> pd.DataFrame:
    """Accuracy at each confidence level 1 to 5 with its 95 % interval (columns confidence, answers, right,
    accuracy, ci_low, ci_high; empty levels have NaN accuracy)."""
    levels: dict[int, list[bool]] = {level: [] for level in CONFIDENCE_LEVELS}
    for r in records:
        levels[r.confidence].append(bool(r.correct))
    rows = []
    for level, results in levels.items():
        low, high = wilson(sum(results), len(results))
        rows.append(
            {"confidence": level, "answers": len(results), "right": sum(results),
             "accuracy": sum(results) / len(results) if results else float("nan"), "ci_low": low, "ci_high": high}
        )  # fmt: skip
    return pd.DataFrame(rows)


def confusion(records: Iterable[AnswerRecord]) -> tuple[list[str], np.ndarray]:
    """Which syndrome was chosen for which (syndrome-naming answers only).

    Returns:
        (labels, counts): catalogue keys shown or chosen, sorted; (L, L) int64 counts, rows the syndrome
        shown, columns the one chosen.
    """
    pairs = [(r.syndrome, r.answer[0]) for r in records if r.mode == "syndrome" and len(r.answer) == 1]
    labels = sorted({s for pair in pairs for s in pair})
    index = {k: i for i, k in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for shown, chosen in pairs:
        counts[index[shown], index[chosen]] += 1
    return labels, counts


def most_confused(records: Iterable[AnswerRecord], top: int = 5) -> list[tuple[str, str, int]]:
    """The `top` (shown, chosen instead, count) pairs of wrong syndrome answers, most frequent first."""
    labels, counts = confusion(records)
    off = counts.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:top]
    return [(labels[i], labels[j], int(off[i, j])) for i, j in zip(*np.unravel_index(order, off.shape), strict=True)
            if off[i, j] > 0]  # fmt: skip


def progress(records: Iterable[AnswerRecord]) -> pd.DataFrame:
    """Accuracy per quiz in time order (columns quiz_id, learner, started (first answer's time), answers,
    accuracy)."""
    frame = pd.DataFrame(
        [
            {"quiz_id": r.quiz_id, "learner": r.learner, "answered_at": r.answered_at, "correct": r.correct}
            for r in records
        ]  # fmt: skip
    )
    if frame.empty:
        return pd.DataFrame(columns=["quiz_id", "learner", "started", "answers", "accuracy"])
    out = frame.groupby(["quiz_id", "learner"], as_index=False).agg(
        started=("answered_at", "min"), answers=("correct", "size"), accuracy=("correct", "mean")
    )
    return out.sort_values("started").reset_index(drop=True)


def figure(records: Sequence[AnswerRecord], names: Mapping[str, str] | None = None, title: str = ""):
    """The dashboard as one matplotlib figure: accuracy per syndrome with 95 % intervals, confidence against
    accuracy, the confusion matrix, and progress over time. Returns a `matplotlib.figure.Figure`."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(12, 9), layout="constrained")
    axes = fig.subplots(2, 2)
    per = accuracy_table(records, "syndrome", names)
    ax = axes[0, 0]
    y = np.arange(len(per))
    err = np.vstack([per.accuracy - per.ci_low, per.ci_high - per.accuracy]) if len(per) else None
    ax.barh(y, per.accuracy, xerr=err, color="#0072B2", ecolor="#333333", capsize=3)
    ax.set_yticks(y, per.group, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("accuracy (95 % Wilson interval)")
    ax.set_title("Per syndrome shown")
    cal = calibration_table(records)
    ax = axes[0, 1]
    ax.errorbar(cal.confidence, cal.accuracy, yerr=np.vstack([cal.accuracy - cal.ci_low, cal.ci_high - cal.accuracy]),
                marker="o", color="#D55E00", capsize=3)  # fmt: skip
    ax.plot([1, 5], [0.2, 1.0], linestyle=":", color="#999999", label="confidence as a probability")
    ax.set_xticks(list(CONFIDENCE_LEVELS))
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (1 guessing, 5 certain)")
    ax.set_ylabel("accuracy")
    ax.set_title("Confidence against accuracy")
    ax.legend(loc="lower right", fontsize=8)
    labels, counts = confusion(records)
    ax = axes[1, 0]
    if len(labels):
        ax.imshow(counts, cmap="Blues")
        shown = [(names or {}).get(k, k) for k in labels]
        ax.set_xticks(range(len(labels)), shown, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), shown, fontsize=7)
        for i, j in zip(*np.nonzero(counts), strict=True):
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if counts[i, j] > counts.max() / 2 else "black")  # fmt: skip
    ax.set_xlabel("chosen")
    ax.set_ylabel("shown")
    ax.set_title("Syndromes confused")
    prog = progress(records)
    ax = axes[1, 1]
    for learner, rows in prog.groupby("learner"):
        ax.plot(range(1, len(rows) + 1), rows.accuracy, marker="o", label=learner)
    ax.set_ylim(0, 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("quiz (in time order)")
    ax.set_ylabel("accuracy")
    ax.set_title("Progress")
    if len(prog) and prog.learner.nunique() <= 12:
        ax.legend(fontsize=7)
    fig.suptitle((title + " - " if title else "") + "synthetic faces, education only")
    return fig


def save_png(fig, path: str | Path) -> Path:
    """Write a dashboard figure as PNG, atomically."""
    from models.files import atomic_output

    with atomic_output(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return Path(path)


def save_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a dashboard table as CSV, atomically, with every cell safe from spreadsheet formulas."""
    from models.files import atomic_output
    from models.spreadsheet import safe_cell

    with atomic_output(path) as tmp:
        table.map(safe_cell).to_csv(tmp, index=False)
    return Path(path)
