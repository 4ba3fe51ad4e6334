"""A class on one shared server (``python app.py --accounts``): learners sign in, join their class, take the
educator's quiz set, and the educator sees the class's results; on PostgreSQL where a test server is at hand
(CI), else on a SQLite file."""

from __future__ import annotations

import os

import pytest
from gradio_client import Client

from models.quiz.programme import ProgrammeStore
from models.quiz.store import dispose_engines
from tests.app_server import Server
from tests.test_quiz_store import _drop_all

LEARNERS = {"Ada": "ada-password", "Grace": "grace-password"}


@pytest.fixture
def class_db(tmp_path):
    url = os.environ.get("PHENOFACE_TEST_POSTGRES_URL")
    if url:
        _drop_all(url)
        yield url
        dispose_engines()
        _drop_all(url)
    else:
        yield str(tmp_path / "class.sqlite3")


def test_a_class_takes_an_educators_set_and_the_educator_sees_the_results(tmp_path, class_db):
    store = ProgrammeStore(class_db)
    store.create_account("Dr Rivera", "teaching-2026", role="educator")
    for name, password in LEARNERS.items():
        store.create_account(name, password)
    server = Server(tmp_path, args=("--accounts", "--db", class_db))
    try:
        with pytest.raises(Exception):  # noqa: B017 - gradio_client's own error type varies: no session without sign-in
            Client(server.url, verbose=False, download_files=False).predict("x", api_name="/class_join")
        educator = Client(server.url, auth=("Dr Rivera", "teaching-2026"), verbose=False, download_files=False)
        class_note = educator.predict("Residents 2026", api_name="/class_create")
        class_code = class_note.split("code **")[1].split("**")[0]
        set_note = educator.predict("Pre-test", "pre-test", "syndrome", ["down", "noonan", "kabuki"], 3, 3,
                                    "similar", 1.0, "phenotype", api_name="/class_create_set")  # fmt: skip
        set_code = set_note.split("code **")[1].split("**")[0]
        for name, password in LEARNERS.items():
            learner = Client(server.url, auth=(name, password), verbose=False, download_files=False)
            assert "Residents 2026" in learner.predict(class_code, api_name="/class_join")
            # the form's name is ignored: answers go to the signed-in account
            learner.predict("Somebody Else", "features", [], False, 50, 8, 1.5, "dissimilar", "phenotype", None,
                            set_code, api_name="/quiz_start")  # fmt: skip
            for _ in range(3):
                learner.predict("down", [], 3, api_name="/quiz_answer")
                learner.predict(api_name="/quiz_next")
            with pytest.raises(Exception, match="educator"):
                learner.predict(class_code, "", "", api_name="/class_dashboard")
        results = educator.predict(class_code, set_code, "", api_name="/class_dashboard")
        assert "6 answers from 2 learners" in results[3]
        assert "3 answers from 1 learner." in educator.predict(class_code, "", "grace", api_name="/class_dashboard")[3]
        assert len(results[4]) == 5  # PNG, three CSV tables, xAPI statements
    finally:
        server.stop()
    rows = ProgrammeStore(class_db).class_answers("Dr Rivera", class_code, set_code)
    assert sorted({r.learner for r, _ in rows}) == ["Ada", "Grace"] and len(rows) == 6
    assert {r.syndrome for r, _ in rows} <= {"down", "noonan", "kabuki"}  # the set's settings, not the form's


def test_wrong_typed_quiz_set_values_get_one_sentence_each(tmp_path):
    """The raw API values of /class_create_set are checked by the app (preprocess=False), not by Gradio."""
    db = str(tmp_path / "class.sqlite3")
    ProgrammeStore(db).create_account("Dr Rivera", "teaching-2026", role="educator")
    server = Server(tmp_path / "server", args=("--accounts", "--db", db))
    good = ["Set", "practice", "syndrome", ["down", "noonan"], 3, 3, "similar", 1.0, "phenotype"]
    try:
        educator = Client(server.url, auth=("Dr Rivera", "teaching-2026"), verbose=False, download_files=False)
        for slot, value, named in ((3, None, "syndromes"), (3, "down", "syndromes"), (4, None, "number of questions"),
                                   (4, "ten", "number of questions"), (5, [2], "number of choices"),
                                   (1, "exam", "purpose"), (7, "abc", "intensity"), (0, ["x"], "title")):  # fmt: skip
            values = list(good)
            values[slot] = value
            with pytest.raises(Exception, match=named):
                educator.predict(*values, api_name="/class_create_set")
        assert "created" in educator.predict(*good, api_name="/class_create_set")
    finally:
        server.stop()
