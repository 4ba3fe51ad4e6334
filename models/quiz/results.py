"""A trainee's answers and what they add up to: score, accuracy per syndrome, calibration, CSV.

These functions are pure: they take `AnswerRecord` lists (from a quiz in memory or from the
database, `models.quiz.store`) and return plain dataclasses or write one CSV file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

from models.files import atomic_output
from models.quiz.questions import Question
from models.spreadsheet import safe_row

CONFIDENCE_LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)  # 1 = guessing, 5 = certain


@dataclass(frozen=True)
class AnswerRecord:
    """One answered question, as stored (no image, nothing about the learner but the name).

    Attributes:
        quiz_id: the quiz's row id in the database, or None when it was not saved.
        learner: the name the learner typed.
        position: 0-based place in the quiz.
        mode: ``"syndrome"`` or ``"features"``.
        syndrome: catalogue key of the child drawn.
        seed: identity or noise seed of the face.
        age: years.
        sex: ``"female"`` or ``"male"``.
        skin_tone: Monk level 1 to 10.
        intensity: feature intensity.
        generator: ``"phenotype"`` or ``"diffusion"``.
        choices: catalogue keys or HPO ids offered, in display order.
        correct_answer: the right answer (one key, or the offered HPO ids the child shows).
        answer: what the learner chose.
        correct: whether the answer was right.
        confidence: the learner's confidence, 1 (guessing) to 5 (certain).
        answered_at: UTC time, ISO 8601 to the second.
    """

    quiz_id: int | None
    learner: str
    position: int
    mode: str
    syndrome: str
    seed: int
    age: float
    sex: str
    skin_tone: int
    intensity: float
    generator: str
    choices: tuple[str, ...]
    correct_answer: tuple[str, ...]
    answer: tuple[str, ...]
    correct: bool
    confidence: int
    answered_at: str

    @property
    def credit(self) -> float:
        """Credit in [0, 1]: 1 or 0 for a syndrome question; for a feature question, the share of the offered
        features judged right (ticked if the child shows it, left unticked if not), each offered feature
        an item of its own, as multiple true-false items are scored. Derived from the stored choices,
        answer and right answer, so answers saved before partial credit existed get it too."""
        return answer_credit(self.mode, self.choices, self.correct_answer, self.answer)


def answer_credit(mode: str, choices: Sequence[str], correct: Sequence[str], answer: Sequence[str]) -> float:
    """See `AnswerRecord.credit`. Example: 5 features offered, the child shows 2, the learner ticks one of
    them and one it does not show: 3 of 5 judged right, credit 0.6."""
    if mode != "features":
        return float(set(answer) == set(correct))
    if not choices:
        return 0.0
    shown, picked = set(correct), set(answer)
    return sum((f in picked) == (f in shown) for f in choices) / len(choices)


def now_utc() -> str:
    """The current UTC time, ISO 8601 to the second (e.g. ``"2025-05-01T09:30:00+00:00"``)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def make_record(
    question: Question,
    answer: str | Sequence[str],
    correct: bool,
    confidence: int,
    learner: str,
    quiz_id: int | None = None,
    answered_at: str | None = None,
) -> AnswerRecord:
    """The record of one answer.

    Raises:
        ValueError: confidence not a whole number from 1 to 5.
    """
    if confidence not in CONFIDENCE_LEVELS:
        raise ValueError("Rate your confidence from 1 (guessing) to 5 (certain).")
    return AnswerRecord(
        quiz_id=quiz_id,
        learner=learner,
        position=question.position,
        mode=question.mode,
        syndrome=question.syndrome,
        seed=question.seed,
        age=question.age,
        sex=question.sex,
        skin_tone=question.skin_tone,
        intensity=question.intensity,
        generator=question.generator,
        choices=tuple(question.choices),
        correct_answer=tuple(question.correct),
        answer=(answer,) if isinstance(answer, str) else tuple(answer),
        correct=bool(correct),
        confidence=int(confidence),
        answered_at=answered_at or now_utc(),
    )


@dataclass(frozen=True)
class Accuracy:
    """Right answers in a group of answers.

    Attributes:
        group: what the group is (a catalogue key, or a confidence level as text).
        n: answers in the group.
        n_correct: right answers.
    """

    group: str
    n: int
    n_correct: int
    credit: float | None = None

    @property
    def accuracy(self) -> float | None:
        """Fraction right in [0, 1], or None for an empty group."""
        return self.n_correct / self.n if self.n else None

    @property
    def mean_credit(self) -> float | None:
        """Mean partial credit in [0, 1] (`AnswerRecord.credit`), or None for an empty group."""
        return self.credit / self.n if self.n and self.credit is not None else None


def score(records: Iterable[AnswerRecord]) -> Accuracy:
    """All answers together (group ``"all"``), with their summed partial credit."""
    records = list(records)
    return Accuracy("all", len(records), sum(r.correct for r in records), sum(r.credit for r in records))


def per_syndrome(records: Iterable[AnswerRecord]) -> list[Accuracy]:
    """Accuracy and partial credit per syndrome of the child shown, in the order syndromes first appear."""
    groups: dict[str, list[AnswerRecord]] = {}
    for r in records:
        groups.setdefault(r.syndrome, []).append(r)
    return [Accuracy(key, len(v), sum(r.correct for r in v), sum(r.credit for r in v)) for key, v in groups.items()]


def calibration(records: Iterable[AnswerRecord]) -> list[Accuracy]:
    """Accuracy at each confidence level 1 to 5 (groups ``"1"`` to ``"5"``, empty ones included).

    A well-calibrated learner is right more often at higher confidence.
    """
    groups: dict[int, list[bool]] = {level: [] for level in CONFIDENCE_LEVELS}
    for r in records:
        groups[r.confidence].append(r.correct)
    return [Accuracy(str(level), len(v), sum(v)) for level, v in groups.items()]


#: Columns of the exported CSV, in order.
CSV_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(AnswerRecord)) + ("credit", "syndrome_name")


def export_csv(records: Iterable[AnswerRecord], path: str | Path, names: Mapping[str, str] | None = None) -> Path:
    """Write answers to a CSV file atomically (a reader never sees a half-written file).

    Lists (choices, answers) are written as ``;``-separated text; ``correct`` as 1 or 0; ``credit`` is the
    partial credit (`AnswerRecord.credit`). A text cell
    that a spreadsheet would run as a formula (a learner named ``=HYPERLINK(...)``) is written as text
    (`models.spreadsheet.safe_cell`).

    Args:
        records: the answers.
        path: destination; its folder must exist.
        names: catalogue key -> display name, for the ``syndrome_name`` column (key when missing).

    Returns:
        The destination path.

    Raises:
        OSError: the folder does not exist or cannot be written.
    """
    names = names or {}
    path = Path(path)
    with atomic_output(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS))
        writer.writeheader()
        for r in records:
            row = asdict(r)
            for key in ("choices", "correct_answer", "answer"):
                row[key] = ";".join(row[key])
            row["correct"] = int(r.correct)
            row["credit"] = round(r.credit, 4)
            row["syndrome_name"] = names.get(r.syndrome, r.syndrome)
            writer.writerow(safe_row(row))
    return path


def record_to_row(record: AnswerRecord) -> dict:
    """A record as a flat dict with lists as JSON text (the database row layout)."""
    row = asdict(record)
    for key in ("choices", "correct_answer", "answer"):
        row[key] = json.dumps(list(row[key]))
    row["correct"] = int(record.correct)
    return row


def record_from_row(row: Mapping) -> AnswerRecord:
    """Inverse of `record_to_row`."""
    values = {f.name: row[f.name] for f in fields(AnswerRecord)}
    for key in ("choices", "correct_answer", "answer"):
        values[key] = tuple(json.loads(values[key]))
    values["correct"] = bool(values["correct"])
    return AnswerRecord(**values)
