"""A training programme on one server: accounts, classes, educator quiz sets, class results, a learner's own
data, and xAPI statements; on a SQLite file and on PostgreSQL (the `db` fixture of test_quiz_store)."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest
import sqlalchemy as sa

from models.quiz import QuizSettings, make_quiz, make_record
from models.quiz.programme import AccessDenied, ProgrammeStore, SetConflict, clean_code
from models.quiz.questions import validate_settings
from models.quiz.xapi import VERB_ANSWERED, statements
from tests.test_quiz_store import db  # noqa: F401  (the fixture: both backends)

SETTINGS = QuizSettings(syndromes=("down", "noonan", "williams_beuren"), n_questions=3, n_choices=3, seed=42)


@pytest.fixture
def programme(db):  # noqa: F811
    store = ProgrammeStore(db)
    store.create_account("Dr Rivera", "teaching-2026", role="educator")
    for name in ("Ada", "Grace"):
        store.create_account(name, f"{name.lower()}-password")
    return store


def _answer_all(store, learner, quiz_id, settings, right=(True, False, True)):
    for q, ok in zip(make_quiz(settings), right, strict=False):
        wrong = next(c for c in q.choices if c != q.syndrome)
        answer = q.syndrome if ok else wrong
        store.add_answer(make_record(q, answer, ok, 4, learner=learner, quiz_id=quiz_id))


def test_passwords_are_hashed_and_checked(programme):
    assert programme.authenticate("ada", "ada-password").name == "Ada"
    assert programme.authenticate("Ada", "wrong-password") is None
    assert programme.authenticate("Nobody", "ada-password") is None
    with sa.create_engine(programme.url).connect() as con:
        stored = con.execute(sa.text("SELECT password_hash FROM learners WHERE name = 'Ada'")).scalar()
    assert stored.startswith("$argon2id$") and "ada-password" not in stored
    with pytest.raises(ValueError, match="taken"):
        programme.create_account("ADA", "another-password")
    with pytest.raises(ValueError, match="password of 8"):
        programme.create_account("Linus", "short")


def test_a_typed_name_never_opens_an_accounts_history(programme):
    quiz_id = programme.start_quiz("Ada", SETTINGS, signed_in=True)
    _answer_all(programme, "Ada", quiz_id, SETTINGS)
    with pytest.raises(ValueError, match="belongs to an account"):
        programme.answers(learner="ada")  # someone typing Ada's name in the single-user quiz
    with pytest.raises(ValueError, match="belongs to an account"):
        programme.learner_summary("ADA")
    with pytest.raises(ValueError, match="belongs to an account"):
        programme.start_quiz("Ada", SETTINGS)
    assert len(programme.answers(learner="Ada", signed_in=True)) == 3


def test_an_educators_set_gives_every_learner_the_same_faces_and_the_class_results(programme):
    code = programme.create_class("Dr Rivera", "Genetics residents 2026")
    for learner in ("Ada", "Grace"):
        assert programme.join_class(learner, code.lower()) == "Genetics residents 2026"  # case forgiven
    quiz_set = programme.create_set("Dr Rivera", "Pre-test: dysmorphology", SETTINGS, purpose="pre-test")
    taken = {}
    for learner in ("Ada", "Grace"):
        quiz_id, got = programme.start_set_quiz(learner, quiz_set.code)
        assert got.settings == validate_settings(SETTINGS)
        taken[learner] = [(q.syndrome, q.seed, q.age, q.choices) for q in make_quiz(got.settings)]
        _answer_all(programme, learner, quiz_id, got.settings)
    assert taken["Ada"] == taken["Grace"]  # the same children, the same choices
    # practice outside the set is the learner's own, and not in the set's results
    own = programme.start_quiz("Ada", replace(SETTINGS, seed=7), signed_in=True)
    _answer_all(programme, "Ada", own, replace(SETTINGS, seed=7))
    results = programme.class_answers("Dr Rivera", class_code=code, set_code=quiz_set.code)
    assert len(results) == 6 and {r.learner for r, _ in results} == {"Ada", "Grace"}
    assert {c for _, c in results} == {quiz_set.code}
    assert len(programme.class_answers("Dr Rivera")) == 6  # the set's answers only: practice stays the learner's
    assert {r.learner for r, _ in programme.class_answers("Dr Rivera", learner="ada")} == {"Ada"}
    # learners see their own history only; they are not educators
    with pytest.raises(AccessDenied, match="educator"):
        programme.class_answers("Ada")
    with pytest.raises(AccessDenied, match="educator"):
        programme.create_set("Ada", "My set", SETTINGS)


def test_an_educator_sees_only_their_own_classes(programme):
    programme.create_account("Dr Chen", "another-teacher", role="educator")
    mine = programme.create_class("Dr Rivera", "Mine")
    programme.join_class("Ada", mine)
    with pytest.raises(AccessDenied, match="own classes"):
        programme.class_answers("Dr Chen", class_code=mine)
    assert programme.class_answers("Dr Chen") == []


def test_joining_another_class_never_shows_that_educator_a_learners_other_results(programme):
    """A learner who took one educator's pre-test and joins another's class: the second educator sees
    neither that pre-test nor the learner's practice, even by naming the first educator's set."""
    programme.create_account("Dr Other", "another-teacher", role="educator")
    pre_test = programme.create_set("Dr Rivera", "Pre-test", SETTINGS, purpose="pre-test")
    quiz_id, _ = programme.start_set_quiz("Ada", pre_test.code)
    _answer_all(programme, "Ada", quiz_id, SETTINGS)
    practice = programme.start_quiz("Ada", replace(SETTINGS, seed=5), signed_in=True)
    _answer_all(programme, "Ada", practice, replace(SETTINGS, seed=5))
    other_class = programme.create_class("Dr Other", "Other class")
    programme.join_class("Ada", other_class)
    assert programme.class_answers("Dr Other") == []
    assert programme.class_answers("Dr Other", class_code=other_class, learner="Ada") == []
    with pytest.raises(AccessDenied, match="own quiz sets"):
        programme.class_answers("Dr Other", set_code=pre_test.code)


def test_concurrent_edits_of_a_set_never_overwrite_each_other(programme):
    quiz_set = programme.create_set("Dr Rivera", "Practice", SETTINGS)
    outcomes = []

    def edit(title):
        try:
            programme.update_set("Dr Rivera", quiz_set.code, quiz_set.version, title=title)
            outcomes.append(title)
        except SetConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(f"Edit {i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    saved = [o for o in outcomes if o != "conflict"]
    assert len(saved) == 1 and outcomes.count("conflict") == 3
    final = programme.get_set(quiz_set.code)
    assert (final.title, final.version) == (saved[0], 2)
    programme.create_account("Dr Chen", "another-teacher", role="educator")
    with pytest.raises(AccessDenied, match="who wrote"):
        programme.update_set("Dr Chen", quiz_set.code, final.version, title="Mine now")


def test_codes_and_titles_are_checked_and_stored_as_text(programme):
    for bad in ("", "12345", "ABCDE0", "ABC DEFG", None):
        with pytest.raises(ValueError, match="letters and digits"):
            clean_code(bad)
    with pytest.raises(ValueError, match="No quiz set"):
        programme.get_set("ABCDEF")
    hostile = '<img src=x onerror=alert(1)> \'; DROP TABLE quiz_sets;-- =HYPERLINK("x")'
    quiz_set = programme.create_set("Dr Rivera", hostile, SETTINGS)
    assert programme.get_set(quiz_set.code).title == hostile
    with pytest.raises(ValueError, match="title of at most"):
        programme.create_set("Dr Rivera", "x" * 81, SETTINGS)


def test_a_learner_exports_and_deletes_their_own_data(programme, tmp_path):
    code = programme.create_class("Dr Rivera", "Class")
    programme.join_class("Grace", code)
    quiz_id = programme.start_quiz("Grace", SETTINGS, signed_in=True)
    _answer_all(programme, "Grace", quiz_id, SETTINGS)
    with pytest.raises(AccessDenied):
        programme.export_learner("Grace", "wrong-password")
    data = programme.export_learner("grace", "grace-password")
    assert data["name"] == "Grace" and len(data["answers"]) == 3 and data["classes"][0]["name"] == "Class"
    json.dumps(data)  # JSON-ready
    assert programme.delete_learner("Grace", "grace-password") == 3
    assert programme.authenticate("Grace", "grace-password") is None
    assert programme.class_answers("Dr Rivera") == []
    # an educator's account goes with their classes and sets; learners keep their own answers
    quiz_set = programme.create_set("Dr Rivera", "Set", SETTINGS)
    quiz_id, _ = programme.start_set_quiz("Ada", quiz_set.code)
    _answer_all(programme, "Ada", quiz_id, SETTINGS)
    assert programme.delete_learner("Dr Rivera", "teaching-2026") == 0
    assert len(programme.answers(learner="Ada", signed_in=True)) == 3
    with pytest.raises(ValueError, match="No quiz set"):
        programme.get_set(quiz_set.code)


def test_answers_become_xapi_statements(programme):
    quiz_set = programme.create_set("Dr Rivera", "Set", SETTINGS)
    quiz_id, _ = programme.start_set_quiz("Ada", quiz_set.code)
    _answer_all(programme, "Ada", quiz_id, SETTINGS)
    programme.join_class("Ada", programme.create_class("Dr Rivera", "C"))
    items = statements(programme.class_answers("Dr Rivera"), "http://teaching.example.org:7860")
    assert len(items) == 3 and len({s["id"] for s in items}) == 3
    first = items[0]
    assert first["verb"]["id"] == VERB_ANSWERED and first["actor"]["account"]["name"] == "Ada"
    assert first["object"]["definition"]["interactionType"] == "choice"
    assert [s["result"]["success"] for s in items] == [True, False, True]
    assert [s["result"]["score"]["scaled"] for s in items] == [1.0, 0.0, 1.0]
    assert any(k.endswith("quiz_set") and v == quiz_set.code for k, v in first["context"]["extensions"].items())
    again = statements(programme.class_answers("Dr Rivera"), "http://teaching.example.org:7860")
    assert [s["id"] for s in again] == [s["id"] for s in items]  # exporting twice: the same statements


def _class_records():
    """Two learners: Ada right on Down syndrome, Grace taking Noonan for Williams-Beuren twice."""
    from models.quiz.results import AnswerRecord

    def rec(learner, quiz_id, pos, shown, chosen, confidence, when):
        return AnswerRecord(
            quiz_id, learner, pos, "syndrome", shown, pos, 5.0, "female", 4, 1.0, "phenotype",
            (shown, chosen) if shown != chosen else (shown, "noonan"), (shown,), (chosen,), shown == chosen,
            confidence, when,
        )  # fmt: skip

    return [
        rec("Ada", 1, 0, "down", "down", 5, "2026-12-01T10:00:00+00:00"),
        rec("Ada", 1, 1, "down", "down", 4, "2026-12-01T10:01:00+00:00"),
        rec("Ada", 2, 0, "williams_beuren", "williams_beuren", 3, "2026-12-02T10:00:00+00:00"),
        rec("Grace", 3, 0, "williams_beuren", "noonan", 5, "2026-12-01T11:00:00+00:00"),
        rec("Grace", 3, 1, "williams_beuren", "noonan", 2, "2026-12-01T11:01:00+00:00"),
        rec("Grace", 4, 0, "down", "down", 3, "2026-12-03T11:00:00+00:00"),
    ]


def test_the_dashboard_tables_count_right_with_wilson_intervals():
    from models.quiz.dashboard import accuracy_table, calibration_table, most_confused, progress, wilson

    records = _class_records()
    per = accuracy_table(records, "syndrome", {"down": "Down syndrome"})
    assert list(per.group) == ["williams_beuren", "Down syndrome"]  # the weakest first
    assert list(per.answers) == [3, 3] and list(per.right) == [1, 3]
    low, high = wilson(3, 3)
    assert per.ci_low[1] == pytest.approx(low) and high == pytest.approx(1.0) and 0.4 < low < 0.5  # Wilson, 3 of 3
    learners = accuracy_table(records, "learner")
    assert dict(zip(learners.group, learners.accuracy, strict=True)) == {"Grace": 1 / 3, "Ada": 1.0}
    cal = calibration_table(records)
    assert list(cal.answers) == [0, 1, 2, 1, 2] and cal.accuracy.isna().tolist() == [True, False, False, False, False]
    assert most_confused(records) == [("williams_beuren", "noonan", 2)]
    prog = progress(records)
    assert list(prog.quiz_id) == [1, 3, 2, 4] and list(prog.accuracy) == [1.0, 0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="group by"):
        accuracy_table(records, "colour")


def test_the_dashboard_exports_a_png_and_formula_safe_csv(tmp_path):
    from PIL import Image

    from models.quiz.dashboard import accuracy_table, figure, save_csv, save_png

    records = [replace(r, learner='=HYPERLINK("http://x")') if r.learner == "Grace" else r for r in _class_records()]
    png = save_png(figure(records, title="Class"), tmp_path / "dashboard.png")
    with Image.open(png) as im:
        assert im.size[0] > 1000 and im.size[1] > 800
        assert len(set(im.convert("L").getdata())) > 50  # drawn, not blank
    text = save_csv(accuracy_table(records, "learner"), tmp_path / "learners.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text
    assert not list(tmp_path.glob(".*.tmp"))


def test_the_command_line_runs_a_class(tmp_path, monkeypatch, capsys):
    import io

    from models.quiz.programme import main

    path = str(tmp_path / "class.sqlite3")
    monkeypatch.setattr("sys.stdin", io.StringIO("teaching-2026\n"))
    assert main(["--db", path, "add-account", "Dr Rivera", "--role", "educator", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("ada-password\n"))
    assert main(["--db", path, "add-account", "Ada", "--password-stdin"]) == 0
    assert main(["--db", path, "create-class", "Dr Rivera", "Residents"]) == 0
    class_code = capsys.readouterr().out.split()[-1]
    assert main(["--db", path, "create-set", "Dr Rivera", "Pre-test", "--purpose", "pre-test",
                 "--syndromes", "down,noonan", "--questions", "3", "--choices", "2", "--seed", "9"]) == 0  # fmt: skip
    set_code = capsys.readouterr().out.split()[0]
    store = ProgrammeStore(path)
    store.join_class("Ada", class_code)
    quiz_id, quiz_set = store.start_set_quiz("Ada", set_code)
    _answer_all(store, "Ada", quiz_id, quiz_set.settings)
    out = tmp_path / "report"
    assert main(["--db", path, "dashboard", "Dr Rivera", "--class-code", class_code, "--out", str(out)]) == 0
    assert "3 answers of 1 learner " in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        "calibration.csv", "dashboard.png", "per_learner.csv", "per_syndrome.csv", "progress.csv",
        "xapi_statements.json",
    ]  # fmt: skip
    assert len(json.loads((out / "xapi_statements.json").read_text())) == 3
    # a learner is not an educator: one line on stderr, exit status 2
    assert main(["--db", path, "dashboard", "Ada", "--out", str(out)]) == 2
    assert "educator" in capsys.readouterr().err
