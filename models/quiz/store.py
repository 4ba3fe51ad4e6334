"""Quiz results in a database: learners, quizzes and answers, kept across restarts.

What is stored: the name a learner types (nothing else about them), each quiz's settings, and per
answer the question's specification (mode, syndrome, seed, age, sex, skin tone, intensity, generator),
the choices, the answer, whether it was right, the confidence and the time. Never an image: a face can
be redrawn from its specification.

Where: a SQLite file (the default: embedded, nothing to run) or a PostgreSQL server for a class sharing
one PhenoFace (a URL such as ``postgresql+psycopg://phenoface@db.example.org/phenoface``), both through
SQLAlchemy 2. The schema is kept by Alembic migrations (`models/quiz/migrations`), run when a store
opens; a SQLite file written by an earlier PhenoFace (schema ``PRAGMA user_version = 1``) is adopted
as revision 0001.

Concurrency: Gradio runs callbacks in worker threads. Every call takes a connection, does its work in
one transaction and gives it back; SQLite files get a fresh connection per call (no pool: a SQLite
connection should not cross threads) and SQLite's own locking serialises writers (a writer waits up
to `TIMEOUT_S`); PostgreSQL connections come from a pool per URL.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from models.quiz.questions import QuizSettings
from models.quiz.results import AnswerRecord, now_utc, record_from_row, record_to_row

#: The newest Alembic revision this PhenoFace writes (`models/quiz/migrations/versions`).
SCHEMA_REVISION = "0002"
TIMEOUT_S = 10.0  # seconds a SQLite writer waits for another's lock, or a connection to a server opens
MAX_NAME_LENGTH = 60  # characters
#: Database URL schemes the store accepts (SQLAlchemy dialect and driver).
SCHEMES = ("sqlite", "postgresql+psycopg")

_META = sa.MetaData()
LEARNERS = sa.Table(
    "learners",
    _META,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("password_hash", sa.Text),  # None: a name-only learner of the single-user app
    sa.Column("role", sa.Text, nullable=False, server_default="learner"),
)
QUIZZES = sa.Table(
    "quizzes",
    _META,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id"), nullable=False),
    sa.Column("started_at", sa.Text, nullable=False),
    sa.Column("finished_at", sa.Text),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("set_id", sa.Integer, sa.ForeignKey("quiz_sets.id")),
)
CLASSES = sa.Table(
    "classes",
    _META,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("educator_id", sa.Integer, sa.ForeignKey("learners.id"), nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
)
CLASS_MEMBERS = sa.Table(
    "class_members",
    _META,
    sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id"), primary_key=True),
    sa.Column("learner_id", sa.Integer, sa.ForeignKey("learners.id"), primary_key=True),
    sa.Column("joined_at", sa.Text, nullable=False),
)
QUIZ_SETS = sa.Table(
    "quiz_sets",
    _META,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.Text, nullable=False, unique=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("educator_id", sa.Integer, sa.ForeignKey("learners.id"), nullable=False),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
)
ANSWERS = sa.Table(
    "answers",
    _META,
    sa.Column("quiz_id", sa.Integer, sa.ForeignKey("quizzes.id"), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("mode", sa.Text, nullable=False),
    sa.Column("syndrome", sa.Text, nullable=False),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("age", sa.Float, nullable=False),
    sa.Column("sex", sa.Text, nullable=False),
    sa.Column("skin_tone", sa.Integer, nullable=False),
    sa.Column("intensity", sa.Float, nullable=False),
    sa.Column("generator", sa.Text, nullable=False),
    sa.Column("choices", sa.Text, nullable=False),
    sa.Column("correct_answer", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("correct", sa.Integer, nullable=False),
    sa.Column("confidence", sa.Integer, nullable=False),
    sa.Column("answered_at", sa.Text, nullable=False),
)
_ANSWER_COLUMNS = tuple(c.name for c in ANSWERS.columns)


class QuizStoreError(ValueError):
    """The database cannot be opened, read or written; the message says where and why, in one sentence."""


def clean_name(name: str | None) -> str:
    """A learner name with surrounding and repeated spaces removed.

    Raises:
        ValueError: empty, longer than `MAX_NAME_LENGTH` characters, or holding control characters.
    """
    return tidy_text(
        name, MAX_NAME_LENGTH, "name", "Enter your name (a first name or nickname is enough).",
        "The name holds characters that cannot be stored; use letters, digits and spaces.",
    )  # fmt: skip


def tidy_text(value, max_length: int, noun: str, if_empty: str, if_control: str) -> str:
    """Text a person typed, with surrounding and repeated spaces removed (names, titles).

    Raises:
        ValueError: `if_empty` when nothing is left, "Use a <noun> of at most <max_length> characters." when
            longer, `if_control` when it holds control characters.
    """
    text = re.sub(r"\s+", " ", str(value or "")).strip()
    if not text:
        raise ValueError(if_empty)
    if len(text) > max_length:
        raise ValueError(f"Use a {noun} of at most {max_length} characters.")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValueError(if_control)
    return text


def database_url(db: str | Path) -> URL:
    """The SQLAlchemy URL of a store: a path is a SQLite file; a URL must use one of `SCHEMES`.

    Raises:
        QuizStoreError: an unparsable URL or another kind of database.
    """
    text = str(db)
    if "://" not in text:
        return URL.create("sqlite", database=str(Path(text).expanduser().resolve()))
    try:
        url = make_url(text)
    except ArgumentError:
        raise QuizStoreError("The quiz database URL cannot be read; give a file path or a database URL.") from None
    if url.drivername not in SCHEMES:
        raise QuizStoreError(
            f"The quiz database must be a SQLite file or a PostgreSQL URL ({' or '.join(SCHEMES)}://...), "
            f"not {url.drivername}://."
        )
    return url


_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()
_MIGRATE_LOCK = threading.Lock()
_MIGRATED: set[str] = set()  # databases brought to SCHEMA_REVISION by this process (the app opens a store per call)


def _engine(url: URL) -> Engine:
    """One engine per database (pooled for a server; a new connection per call for a SQLite file)."""
    key = url.render_as_string(hide_password=False)
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            if url.get_backend_name() == "sqlite":
                engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args={"timeout": TIMEOUT_S})
                sa.event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = sa.create_engine(
                    url, pool_pre_ping=True, pool_size=5, max_overflow=20, connect_args={"connect_timeout": 10}
                )
            _ENGINES[key] = engine
        return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def dispose_engines() -> None:
    """Close every pooled connection (at shutdown, and in tests that drop a database)."""
    with _ENGINES_LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()
        _MIGRATED.clear()


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
    """The quiz database at one place (a SQLite file, created with its folder on first use, or a server).

    Args:
        db: a SQLite file path, e.g. ``runtime.paths().db_path``, or a database URL
            (``postgresql+psycopg://user:password@host:5432/name``; see `SCHEMES`).

    Attributes:
        url: the SQLAlchemy URL. where: the place in words, without a password (for messages and the
            About tab). path: the SQLite file, or None for a server.

    Raises:
        QuizStoreError: the folder cannot be created, the database cannot be reached, or it is not a usable
            quiz database (corrupt, another kind of file, read-only, a folder, written by a newer PhenoFace).
    """

    def __init__(self, db: str | Path) -> None:
        self.url = database_url(db)
        sqlite = self.url.get_backend_name() == "sqlite"
        self.path = Path(self.url.database) if sqlite else None
        self.where = str(self.path) if sqlite else self.url.render_as_string(hide_password=True)
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise QuizStoreError(self._message(err)) from None
            if self.path.is_dir():  # SQLAlchemy's message for a folder names no reason a reader can act on
                raise QuizStoreError(self._message(IsADirectoryError("a folder, not a file")))
        self._engine = _engine(self.url)
        key = self.url.render_as_string(hide_password=False)
        # one migration at a time in a process: Alembic's `context` and `op` are module globals, and two
        # callbacks opening the store at once (a name's progress and a quiz start) tripped over each other
        with _MIGRATE_LOCK:
            if key not in _MIGRATED or (self.path is not None and not self.path.is_file()):
                with self._transaction() as con:
                    _migrate(con, self.where)
                _MIGRATED.add(key)

    def _message(self, err: Exception) -> str:
        reason = getattr(err, "orig", None) or err
        reason = str(reason).strip().splitlines()[0] if str(reason).strip() else type(err).__name__
        return (
            f"The quiz database at {self.where} cannot be used ({reason}); results are not saved. "
            "Whoever runs PhenoFace can choose another with --db."
        )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One transaction on its own connection: committed on success, rolled back on error."""
        try:
            with self._engine.begin() as con:
                yield con
        except QuizStoreError:
            raise
        except (SQLAlchemyError, OSError) as err:
            raise QuizStoreError(self._message(err)) from None

    def start_quiz(
        self, learner: str, settings: QuizSettings, *, signed_in: bool = False, set_id: int | None = None
    ) -> int:
        """Record a new quiz for a learner (added on first use); returns the quiz id.

        Args:
            learner: the name typed, or the signed-in account's name.
            settings: the quiz's settings. signed_in: the name comes from a sign-in (`ProgrammeStore`), not
                from a text box. set_id: the educator's quiz set it was taken from, if any.

        Raises:
            ValueError: a bad name (see `clean_name`), or a typed name that belongs to an account.
            QuizStoreError: the database cannot be written.
        """
        name = clean_name(learner)
        for attempt in range(2):  # two first quizzes of one new name at once: the second finds the first's row
            try:
                with self._transaction() as con:
                    learner_id = _learner_id(con, name, signed_in)
                    if learner_id is None:
                        learner_id = con.execute(
                            LEARNERS.insert().values(name=name, created_at=now_utc()).returning(LEARNERS.c.id)
                        ).scalar_one()
                    return int(
                        con.execute(
                            QUIZZES.insert()
                            .values(
                                learner_id=learner_id,
                                started_at=now_utc(),
                                settings=json.dumps(asdict(settings), sort_keys=True),
                                set_id=set_id,
                            )
                            .returning(QUIZZES.c.id)
                        ).scalar_one()
                    )
            except QuizStoreError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def add_answer(self, record: AnswerRecord) -> None:
        """Store one answer (replacing an earlier answer at the same place of the same quiz).

        Raises:
            ValueError: the record has no quiz id.
            QuizStoreError: the database cannot be written, or the quiz does not exist.
        """
        if record.quiz_id is None:
            raise ValueError("the answer belongs to no stored quiz (quiz_id is None)")
        row = record_to_row(record)
        with self._transaction() as con:
            con.execute(
                ANSWERS.delete().where(ANSWERS.c.quiz_id == record.quiz_id, ANSWERS.c.position == record.position)
            )
            con.execute(ANSWERS.insert().values({c: row[c] for c in _ANSWER_COLUMNS}))

    def finish_quiz(self, quiz_id: int) -> None:
        """Mark a quiz finished (now).

        Raises:
            QuizStoreError: the database cannot be written.
        """
        with self._transaction() as con:
            con.execute(QUIZZES.update().where(QUIZZES.c.id == int(quiz_id)).values(finished_at=now_utc()))

    def answers(
        self, *, quiz_id: int | None = None, learner: str | None = None, signed_in: bool = False
    ) -> list[AnswerRecord]:
        """Stored answers of one quiz, or of all of a learner's quizzes, in order.

        Args:
            quiz_id: one quiz; or
            learner: every quiz of this learner (name matched ignoring case).
            signed_in: the name comes from a sign-in; a typed name never opens an account's history.

        Raises:
            ValueError: neither or both given, a bad name, or a typed name that belongs to an account.
            QuizStoreError: the database cannot be read.
        """
        if (quiz_id is None) == (learner is None):
            raise ValueError("give exactly one of quiz_id and learner")
        if quiz_id is None:
            with self._transaction() as con:
                learner_id = _learner_id(con, clean_name(learner), signed_in)
            if learner_id is None:
                return []
        where = QUIZZES.c.id == int(quiz_id) if quiz_id is not None else QUIZZES.c.learner_id == learner_id
        query = (
            sa.select(*ANSWERS.columns, LEARNERS.c.name.label("learner"))
            .select_from(ANSWERS.join(QUIZZES, QUIZZES.c.id == ANSWERS.c.quiz_id).join(LEARNERS))
            .where(where)
            .order_by(ANSWERS.c.quiz_id, ANSWERS.c.position)
        )
        with self._transaction() as con:
            rows = con.execute(query).mappings().all()
        return [record_from_row(row) for row in rows]

    def learner_summary(self, learner: str, *, signed_in: bool = False) -> LearnerSummary | None:
        """A learner's results over all stored quizzes, or None for a name never stored.

        Raises:
            ValueError: a bad name, or a typed name that belongs to an account (``signed_in`` False).
            QuizStoreError: the database cannot be read.
        """
        name = clean_name(learner)
        with self._transaction() as con:
            learner_id = _learner_id(con, name, signed_in)
            if learner_id is None:
                return None
            stored = con.execute(sa.select(LEARNERS.c.name).where(LEARNERS.c.id == learner_id)).scalar_one()
            n_quizzes, n_answers, n_correct, last = con.execute(
                sa.select(
                    sa.func.count(sa.distinct(ANSWERS.c.quiz_id)),
                    sa.func.count(ANSWERS.c.quiz_id),
                    sa.func.coalesce(sa.func.sum(ANSWERS.c.correct), 0),
                    sa.func.max(ANSWERS.c.answered_at),
                )
                .select_from(QUIZZES.join(ANSWERS, ANSWERS.c.quiz_id == QUIZZES.c.id))
                .where(QUIZZES.c.learner_id == learner_id)
            ).one()
        return LearnerSummary(stored, int(n_quizzes), int(n_answers), int(n_correct), last)


def _learner_id(con: Connection, name: str, signed_in: bool = False) -> int | None:
    """The row of a learner name (ignoring case), or None. A typed name (not ``signed_in``) that belongs to an
    account is refused: only its owner, signed in, may add to or read its history.

    Raises:
        ValueError: a typed name that belongs to an account.
    """
    row = con.execute(
        sa.select(LEARNERS.c.id, LEARNERS.c.password_hash).where(sa.func.lower(LEARNERS.c.name) == name.lower())
    ).first()
    if row is None:
        return None
    if row.password_hash is not None and not signed_in:
        raise ValueError(f"The name {name!r} belongs to an account; sign in to use it, or choose another name.")
    return int(row.id)


def _migrate(con: Connection, where: str) -> None:
    """Bring the database to `SCHEMA_REVISION` with Alembic, adopting a SQLite file of the first PhenoFace
    store (tables made by hand, ``PRAGMA user_version = 1``) as revision 0001.

    Raises:
        QuizStoreError: the database was written by a newer PhenoFace.
    """
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    config.attributes["connection"] = con
    known = {rev.revision for rev in ScriptDirectory.from_config(config).walk_revisions()}
    inspector = sa.inspect(con)
    tables = set(inspector.get_table_names())
    if "alembic_version" in tables:
        current = con.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        if current is not None and current not in known:
            raise QuizStoreError(
                f"The quiz database at {where} was written by a newer PhenoFace (schema {current}); "
                "results are not saved."
            )
    elif {"learners", "quizzes", "answers"} <= tables:
        if con.dialect.name == "sqlite":
            version = con.execute(sa.text("PRAGMA user_version")).scalar()
            if version and version > 1:
                raise QuizStoreError(
                    f"The quiz database at {where} was written by a newer PhenoFace (schema {version}); "
                    "results are not saved."
                )
        command.stamp(config, "0001")
    command.upgrade(config, SCHEMA_REVISION)
