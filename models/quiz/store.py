"""Quiz results in a local SQLite database: learners, quizzes and answers, kept across restarts.

What is stored: the name a learner types (nothing else about them), each quiz's settings, and per
answer the question's specification (mode, syndrome, seed, age, sex, skin tone, intensity, generator),
the choices, the answer, whether it was right, the confidence and the time. Never an image: a face can
be redrawn from its specification.

Concurrency: Gradio runs callbacks in worker threads, and sqlite3 connections should not cross threads,
so every call opens its own connection, does its work in one transaction and closes it. SQLite's own
locking serialises writers (a writer waits up to `TIMEOUT_S` for another).
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from models.quiz.questions import QuizSettings
from models.quiz.results import AnswerRecord, now_utc, record_from_row, record_to_row

SCHEMA_VERSION = 1
TIMEOUT_S = 10.0  # seconds a writer waits for another's lock
MAX_NAME_LENGTH = 60  # characters

_SCHEMA = """
CREATE TABLE IF NOT EXISTS learners (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS quizzes (
    id INTEGER PRIMARY KEY,
    learner_id INTEGER NOT NULL REFERENCES learners(id),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    settings TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    quiz_id INTEGER NOT NULL REFERENCES quizzes(id),
    position INTEGER NOT NULL,
    mode TEXT NOT NULL,
    syndrome TEXT NOT NULL,
    seed INTEGER NOT NULL,
    age REAL NOT NULL,
    sex TEXT NOT NULL,
    skin_tone INTEGER NOT NULL,
    intensity REAL NOT NULL,
    generator TEXT NOT NULL,
    choices TEXT NOT NULL,
    correct_answer TEXT NOT NULL,
    answer TEXT NOT NULL,
    correct INTEGER NOT NULL,
    confidence INTEGER NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (quiz_id, position)
);
"""

_ANSWER_COLUMNS = (
    "quiz_id", "position", "mode", "syndrome", "seed", "age", "sex", "skin_tone", "intensity", "generator",
    "choices", "correct_answer", "answer", "correct", "confidence", "answered_at",
)  # fmt: skip


class QuizStoreError(ValueError):
    """The database cannot be opened, read or written; the message says where and why, in one sentence."""


def clean_name(name: str | None) -> str:
    """A learner name with surrounding and repeated spaces removed.

    Raises:
        ValueError: empty, longer than `MAX_NAME_LENGTH` characters, or holding control characters.
    """
    text = re.sub(r"\s+", " ", str(name or "")).strip()
    if not text:
        raise ValueError("Enter your name (a first name or nickname is enough).")
    if len(text) > MAX_NAME_LENGTH:
        raise ValueError(f"Use a name of at most {MAX_NAME_LENGTH} characters.")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError("The name holds characters that cannot be stored; use letters, digits and spaces.")
    return text


@dataclass(frozen=True)
class LearnerSummary:
    """A learner's results so far.

    Attributes:
        name: the learner's name as first stored.
        n_quizzes: quizzes with at least one answer.
        n_answers: questions answered over all quizzes.
        n_correct: right answers over all quizzes.
        last_answered_at: UTC time of the latest answer (ISO 8601), or None.
    """

    name: str
    n_quizzes: int
    n_answers: int
    n_correct: int
    last_answered_at: str | None

    @property
    def accuracy(self) -> float | None:
        """Fraction right in [0, 1], or None before any answer."""
        return self.n_correct / self.n_answers if self.n_answers else None


class QuizStore:
    """The quiz database at one path (created with its folder on first use).

    Args:
        path: SQLite file, e.g. ``runtime.paths().db_path``.

    Raises:
        QuizStoreError: the folder cannot be created, or the file is not a usable SQLite database
            (corrupt, another kind of file, read-only, a folder, ...).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise QuizStoreError(self._message(err)) from None
        with self._transaction() as con:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise QuizStoreError(
                    f"The quiz database at {self.path} was written by a newer PhenoFace (schema {version}); "
                    "results are not saved."
                )
            con.executescript(_SCHEMA)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _message(self, err: Exception) -> str:
        reason = str(err).strip() or type(err).__name__
        return (
            f"The quiz database at {self.path} cannot be used ({reason}); results are not saved. "
            "Whoever runs PhenoFace can choose another file with --db."
        )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A new connection, one transaction (committed on success, rolled back on error), closed after."""
        try:
            con = sqlite3.connect(self.path, timeout=TIMEOUT_S)
        except (sqlite3.Error, OSError) as err:
            raise QuizStoreError(self._message(err)) from None
        try:
            con.row_factory = sqlite3.Row
            con.execute("PRAGMA foreign_keys = ON")
            with con:
                yield con
        except (sqlite3.Error, OSError) as err:
            raise QuizStoreError(self._message(err)) from None
        finally:
            con.close()

    def start_quiz(self, learner: str, settings: QuizSettings) -> int:
        """Record a new quiz for a learner (added on first use); returns the quiz id.

        Raises:
            ValueError: a bad name (see `clean_name`).
            QuizStoreError: the database cannot be written.
        """
        name = clean_name(learner)
        with self._transaction() as con:
            con.execute("INSERT OR IGNORE INTO learners (name, created_at) VALUES (?, ?)", (name, now_utc()))
            learner_id = con.execute("SELECT id FROM learners WHERE name = ?", (name,)).fetchone()[0]
            cur = con.execute(
                "INSERT INTO quizzes (learner_id, started_at, settings) VALUES (?, ?, ?)",
                (learner_id, now_utc(), json.dumps(asdict(settings), sort_keys=True)),
            )
            return int(cur.lastrowid)

    def add_answer(self, record: AnswerRecord) -> None:
        """Store one answer (replacing an earlier answer at the same place of the same quiz).

        Raises:
            ValueError: the record has no quiz id.
            QuizStoreError: the database cannot be written, or the quiz does not exist.
        """
        if record.quiz_id is None:
            raise ValueError("the answer belongs to no stored quiz (quiz_id is None)")
        row = record_to_row(record)
        marks = ", ".join("?" for _ in _ANSWER_COLUMNS)
        with self._transaction() as con:
            con.execute(
                f"INSERT OR REPLACE INTO answers ({', '.join(_ANSWER_COLUMNS)}) VALUES ({marks})",
                tuple(row[c] for c in _ANSWER_COLUMNS),
            )

    def finish_quiz(self, quiz_id: int) -> None:
        """Mark a quiz finished (now).

        Raises:
            QuizStoreError: the database cannot be written.
        """
        with self._transaction() as con:
            con.execute("UPDATE quizzes SET finished_at = ? WHERE id = ?", (now_utc(), int(quiz_id)))

    def answers(self, *, quiz_id: int | None = None, learner: str | None = None) -> list[AnswerRecord]:
        """Stored answers of one quiz, or of all of a learner's quizzes, in order.

        Args:
            quiz_id: one quiz; or
            learner: every quiz of this learner (name matched ignoring case).

        Raises:
            ValueError: neither or both given, or a bad name.
            QuizStoreError: the database cannot be read.
        """
        if (quiz_id is None) == (learner is None):
            raise ValueError("give exactly one of quiz_id and learner")
        where, arg = ("q.id = ?", int(quiz_id)) if quiz_id is not None else ("l.name = ?", clean_name(learner))
        columns = ", ".join(f"a.{c}" for c in _ANSWER_COLUMNS)
        with self._transaction() as con:
            rows = con.execute(
                f"SELECT {columns}, l.name AS learner FROM answers a JOIN quizzes q ON q.id = a.quiz_id "
                f"JOIN learners l ON l.id = q.learner_id WHERE {where} ORDER BY a.quiz_id, a.position",
                (arg,),
            ).fetchall()
        return [record_from_row(row) for row in rows]

    def learner_summary(self, learner: str) -> LearnerSummary | None:
        """A learner's results over all stored quizzes, or None for a name never stored.

        Raises:
            ValueError: a bad name.
            QuizStoreError: the database cannot be read.
        """
        name = clean_name(learner)
        with self._transaction() as con:
            found = con.execute("SELECT id, name FROM learners WHERE name = ?", (name,)).fetchone()
            if found is None:
                return None
            n_quizzes, n_answers, n_correct, last = con.execute(
                "SELECT COUNT(DISTINCT a.quiz_id), COUNT(a.quiz_id), COALESCE(SUM(a.correct), 0), MAX(a.answered_at) "
                "FROM quizzes q JOIN answers a ON a.quiz_id = q.id WHERE q.learner_id = ?",
                (found["id"],),
            ).fetchone()
        return LearnerSummary(found["name"], int(n_quizzes), int(n_answers), int(n_correct), last)
