"""The quiz store on both backends: a SQLite file and a PostgreSQL server (SQLAlchemy 2, Alembic).

The PostgreSQL tests need a server: `.ci/run` starts a throwaway one (`.ci/postgres.sh`) and exports
``PHENOFACE_TEST_POSTGRES_URL``, and sets ``PHENOFACE_REQUIRE_POSTGRES`` so that a missing server fails
CI instead of skipping. Locally: ``. .ci/postgres.sh`` in the shell before ``pytest``.
"""

from __future__ import annotations

import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
import sqlalchemy as sa

from models.quiz import QuizStore, QuizStoreError
from models.quiz.store import SCHEMA_REVISION, database_url, dispose_engines
from tests.test_quiz import _records


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A fresh, empty quiz database: a SQLite file, or the test PostgreSQL database with its tables dropped."""
    if request.param == "sqlite":
        yield str(tmp_path / "quiz.sqlite3")
        return
    url = postgres_url()
    _drop_all(url)
    yield url
    dispose_engines()
    _drop_all(url)


def postgres_url() -> str:
    """The test PostgreSQL server's URL; skips the test without one, or fails it where CI requires one."""
    url = os.environ.get("PHENOFACE_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("PHENOFACE_REQUIRE_POSTGRES"):
            pytest.fail("PHENOFACE_TEST_POSTGRES_URL is not set: CI must run the store tests on PostgreSQL")
        pytest.skip("no PostgreSQL server for the tests (source .ci/postgres.sh to start one)")
    return url


def _drop_all(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as con:
        con.execute(sa.text("DROP SCHEMA public CASCADE"))
        con.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def test_store_round_trips_and_survives_a_restart(db):
    store = QuizStore(db)
    settings, _ = _records()
    quiz_id = store.start_quiz("  Ada  ", settings)
    _, records = _records(quiz_id=quiz_id)
    for r in records:
        store.add_answer(r)
    store.add_answer(records[0])  # an answer sent twice (a retried request) is kept once
    store.finish_quiz(quiz_id)
    assert store.answers(quiz_id=quiz_id) == records
    # a second store object on the same database (a restarted app) sees them; names match ignoring case
    dispose_engines()
    again = QuizStore(db)
    summary = again.learner_summary("ada")
    assert (summary.name, summary.n_quizzes, summary.n_answers, summary.n_correct) == ("Ada", 1, 4, 2)
    assert again.answers(learner="ADA") == records
    assert again.learner_summary("Grace") is None
    second = again.start_quiz("Ada", settings)
    again.add_answer(replace(records[0], quiz_id=second))
    assert again.learner_summary("Ada").n_quizzes == 2
    # only the name is stored about a learner (and, for an account, its password's hash and its role)
    columns = [c["name"] for c in sa.inspect(sa.create_engine(again.url)).get_columns("learners")]
    assert columns == ["id", "name", "created_at", "password_hash", "role"]


def test_store_takes_answers_from_several_threads(db):
    """Gradio runs callbacks in worker threads; two first quizzes of one new name arrive together too."""
    store = QuizStore(db)
    settings, _ = _records()

    def one_learner(name):
        quiz_id = store.start_quiz(name, settings)
        for r in _records(learner=name, quiz_id=quiz_id)[1]:
            store.add_answer(r)
        return quiz_id

    names = [f"learner {i}" for i in range(8)] + ["Twin", "twin", "TWIN", "Twin"]
    with ThreadPoolExecutor(6) as pool:
        ids = list(pool.map(one_learner, names))
    assert len(set(ids)) == len(names)
    assert all(store.learner_summary(f"learner {i}").n_answers == 4 for i in range(8))
    twin = store.learner_summary("twin")
    assert (twin.n_quizzes, twin.n_answers) == (4, 16)  # one learner, whatever the case or the race


def test_names_with_sql_html_or_formulas_are_stored_as_text(db):
    store = QuizStore(db)
    settings, _ = _records()
    for name in ("Robert'); DROP TABLE learners;--", "<script>alert(1)</script>", '=HYPERLINK("x")', "Zoë 李"):
        quiz_id = store.start_quiz(name, settings)
        store.add_answer(_records(learner=name, quiz_id=quiz_id)[1][0])
        assert store.learner_summary(name).name == name
        assert store.answers(learner=name)[0].learner == name


def test_a_database_of_a_newer_phenoface_is_refused_untouched(db):
    store = QuizStore(db)
    quiz_id = store.start_quiz("Ada", _records()[0])
    with sa.create_engine(store.url).begin() as con:
        assert con.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == SCHEMA_REVISION
        con.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    dispose_engines()
    with pytest.raises(QuizStoreError, match="newer PhenoFace"):
        QuizStore(db)
    with sa.create_engine(store.url).begin() as con:  # nothing was dropped or changed
        assert con.execute(sa.text("SELECT id FROM quizzes")).scalar() == quiz_id


def test_the_first_sqlite_store_is_adopted_with_its_answers(tmp_path):
    """A file written by the first store (tables made by hand, PRAGMA user_version = 1) keeps its results."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as con:
        con.executescript(
            """
            CREATE TABLE learners (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                                   created_at TEXT NOT NULL);
            CREATE TABLE quizzes (id INTEGER PRIMARY KEY, learner_id INTEGER NOT NULL REFERENCES learners(id),
                                  started_at TEXT NOT NULL, finished_at TEXT, settings TEXT NOT NULL);
            CREATE TABLE answers (quiz_id INTEGER NOT NULL REFERENCES quizzes(id), position INTEGER NOT NULL,
                mode TEXT NOT NULL, syndrome TEXT NOT NULL, seed INTEGER NOT NULL, age REAL NOT NULL,
                sex TEXT NOT NULL, skin_tone INTEGER NOT NULL, intensity REAL NOT NULL, generator TEXT NOT NULL,
                choices TEXT NOT NULL, correct_answer TEXT NOT NULL, answer TEXT NOT NULL, correct INTEGER NOT NULL,
                confidence INTEGER NOT NULL, answered_at TEXT NOT NULL, PRIMARY KEY (quiz_id, position));
            INSERT INTO learners VALUES (1, 'Ada', '2026-12-01T10:00:00Z');
            INSERT INTO quizzes VALUES (1, 1, '2026-12-01T10:00:00Z', NULL, '{}');
            INSERT INTO answers VALUES (1, 0, 'syndrome', 'down', 7, 5.0, 'female', 4, 1.0, 'phenotype',
                '["down", "noonan"]', '["down"]', '["down"]', 1, 4, '2026-12-01T10:01:00Z');
            PRAGMA user_version = 1;
            """
        )
    store = QuizStore(path)
    assert store.learner_summary("ada").n_correct == 1
    quiz_id = store.start_quiz("Ada", _records()[0])
    store.add_answer(_records(quiz_id=quiz_id)[1][0])
    assert store.learner_summary("Ada").n_quizzes == 2
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == SCHEMA_REVISION
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_database_urls_are_checked_and_passwords_never_shown(tmp_path):
    assert database_url(tmp_path / "q.sqlite3").drivername == "sqlite"
    with pytest.raises(QuizStoreError, match="SQLite file or a PostgreSQL URL"):
        database_url("mysql://root@localhost/phenoface")
    # a server that does not answer: one clear sentence, the password hidden
    with pytest.raises(QuizStoreError, match="cannot be used") as err:
        QuizStore("postgresql+psycopg://learner:s3cret@127.0.0.1:1/phenoface")
    assert "s3cret" not in str(err.value) and "***" in str(err.value)


def test_stores_opened_at_once_in_many_threads_all_open(db):
    """The app opens a store per callback; the first openings of a database race (Alembic is not thread-safe)."""
    dispose_engines()
    with ThreadPoolExecutor(8) as pool:
        stores = list(pool.map(lambda _: QuizStore(db), range(16)))
    assert all(s.learner_summary("Nobody") is None for s in stores)
