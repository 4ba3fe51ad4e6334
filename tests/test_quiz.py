"""The quiz logic (`models.quiz`): similarity, distractors, reproducible questions, answers, the database."""

from __future__ import annotations

import csv
from dataclasses import replace

import numpy as np
import pytest

from models.constants import UNAFFECTED
from models.phenotype.catalog import load_catalog
from models.phenotype.morphology import FEATURES
from models.phenotype.spec import RenderSpec
from models.phenotype.synthesizer import render
from models.quiz import (
    QuizSettings,
    QuizStore,
    QuizStoreError,
    answer_credit,
    calibration,
    check_answer,
    contrast,
    default_syndromes,
    export_csv,
    feature_profile,
    make_quiz,
    make_record,
    per_syndrome,
    pick_distractors,
    score,
    similarity_matrix,
)
from models.quiz.results import CSV_COLUMNS


def _shared_terms(a: str, b: str) -> int:
    catalog = load_catalog()
    return len(set(feature_profile(catalog.get(a))) & set(feature_profile(catalog.get(b))))


def test_similarity_is_symmetric_with_ones_on_the_diagonal():
    sim = similarity_matrix()
    assert sim.keys == load_catalog().keys()
    np.testing.assert_allclose(sim.matrix, sim.matrix.T)
    np.testing.assert_array_equal(np.diag(sim.matrix), 1.0)
    off = sim.matrix[~np.eye(len(sim.keys), dtype=bool)]
    assert off.min() >= 0.0 and off.max() < 1.0
    # deterministic: a fresh computation from the catalogue gives the same numbers
    np.testing.assert_array_equal(similarity_matrix(load_catalog()).matrix, sim.matrix)


def test_similar_distractors_share_more_terms_than_dissimilar_ones():
    pool = default_syndromes(include_unaffected=False)
    shared = {}
    for difficulty in ("similar", "dissimilar"):
        rng = np.random.default_rng(0)
        counts = [
            _shared_terms(correct, d)
            for correct in pool
            for _ in range(5)
            for d in pick_distractors(correct, pool, 3, difficulty, rng)
        ]
        shared[difficulty] = np.mean(counts)
    assert shared["similar"] > shared["dissimilar"] + 1.0, shared
    # "similar" favours the most similar syndrome but is not fixed to it
    rng = np.random.default_rng(1)
    ranked = [k for k, _ in similarity_matrix().ranked("down", pool)]
    firsts = [pick_distractors("down", pool, 1, "similar", rng)[0] for _ in range(200)]
    assert max(set(firsts), key=firsts.count) == ranked[0]
    assert ranked[-1] not in firsts


def test_distractors_are_distinct_and_from_the_pool():
    rng = np.random.default_rng(2)
    pool = ("down", "noonan", "williams_beuren", UNAFFECTED)
    picked = pick_distractors("noonan", pool, 7, "dissimilar", rng)
    assert sorted(picked) == sorted(set(pool) - {"noonan"})


def test_questions_are_reproducible_from_the_seed():
    settings = QuizSettings(syndromes=default_syndromes(True), n_questions=12, n_choices=5, seed=11)
    first, again = make_quiz(settings), make_quiz(settings)
    assert first == again
    assert make_quiz(replace(settings, seed=12)) != first
    for q in first:
        assert 1 <= q.age <= 16 and 1 <= q.skin_tone <= 10 and q.sex in ("female", "male")
        assert len(q.choices) == 5 and len(set(q.choices)) == 5 and q.correct == (q.syndrome,)
        assert q.syndrome in q.choices
    # every chosen syndrome comes up about equally often (dealt in shuffled rounds)
    two = make_quiz(replace(settings, syndromes=("down", "noonan"), n_questions=6, n_choices=2))
    assert sorted(q.syndrome for q in two) == ["down"] * 3 + ["noonan"] * 3


def test_feature_questions_match_the_rendered_child():
    settings = QuizSettings(mode="features", syndromes=("williams_beuren", UNAFFECTED), n_questions=3, n_choices=6)
    for q in make_quiz(settings):
        assert q.syndrome == "williams_beuren"  # a child without a syndrome has no feature to name
        sample = render(
            RenderSpec(q.syndrome, q.age, q.sex, q.skin_tone, seed=q.seed, intensity=q.intensity, size=128)
        )
        assert q.present == sample.hpo_present
        assert 1 <= len(q.correct) <= 5 and set(q.correct) <= set(q.present)
        distractors = set(q.choices) - set(q.correct)
        assert distractors and not distractors & set(sample.hpo_realised)
        assert all(f in FEATURES for f in q.choices)


def test_bad_settings_raise_one_sentence():
    with pytest.raises(ValueError, match="at least two"):
        make_quiz(QuizSettings(syndromes=("down",)))
    with pytest.raises(ValueError, match="phenotype model"):
        make_quiz(QuizSettings(mode="features", syndromes=("down",), generator="diffusion"))
    with pytest.raises(ValueError, match="number of choices"):
        make_quiz(QuizSettings(syndromes=("down", "noonan"), n_choices=9))
    with pytest.raises(ValueError, match="Unknown syndrome"):
        make_quiz(QuizSettings(syndromes=("down", "no such thing")))


def test_answer_checking():
    settings = QuizSettings(syndromes=("down", "noonan", "kabuki"), n_questions=1, n_choices=3, seed=3)
    (q,) = make_quiz(settings)
    wrong = next(c for c in q.choices if c != q.syndrome)
    assert check_answer(q, q.syndrome) and not check_answer(q, wrong)
    with pytest.raises(ValueError, match="Choose an answer"):
        check_answer(q, None)
    with pytest.raises(ValueError, match="not one of"):
        check_answer(q, "sotos")
    (fq,) = make_quiz(replace(settings, mode="features", n_choices=6))
    assert check_answer(fq, list(fq.correct))
    assert not check_answer(fq, list(fq.correct)[:-1] or list(fq.choices))
    assert not check_answer(fq, list(fq.choices))  # ticking everything is wrong: one offered feature is absent


def test_feature_answers_get_partial_credit_per_feature_offered():
    settings = QuizSettings(
        syndromes=("down", "noonan", "kabuki"), n_questions=1, n_choices=6, seed=3, mode="features"
    )
    (q,) = make_quiz(settings)
    shown, absent = list(q.correct), [c for c in q.choices if c not in q.correct]
    assert shown and absent
    n = len(q.choices)

    def credit(answer):
        return make_record(q, answer, check_answer(q, answer), 3, "Ada").credit

    assert credit(shown) == 1.0
    assert credit(list(q.choices)) == pytest.approx(len(shown) / n)  # every absent one ticked wrongly
    one_short = shown[:-1] or [absent[0]]
    assert 0.0 < credit(one_short) < 1.0 and not check_answer(q, one_short)
    assert credit(shown[:1] + absent[:1]) == pytest.approx((n - (len(shown) - 1) - 1) / n)
    assert answer_credit("syndrome", ("down", "noonan"), ("down",), ("noonan",)) == 0.0
    records = [make_record(q, a, check_answer(q, a), 3, "Ada") for a in (shown, list(q.choices))]
    total = score(records)
    assert total.n_correct == 1 and total.mean_credit == pytest.approx((1 + len(shown) / n) / 2)


def test_contrast_names_features_of_each_side():
    mine, theirs = contrast("williams_beuren", "noonan")
    assert mine and theirs
    williams = feature_profile(load_catalog().get("williams_beuren"))
    noonan = feature_profile(load_catalog().get("noonan"))
    for c in mine:
        assert williams[c.hpo_id] - noonan.get(c.hpo_id, 0.0) >= 0.25
    for c in theirs:
        assert noonan[c.hpo_id] - williams.get(c.hpo_id, 0.0) >= 0.25
    # against a child without a syndrome, everything frequent sets the syndrome apart
    mine, theirs = contrast("down", UNAFFECTED)
    assert mine and not theirs and all(c.frequency_b == 0.0 for c in mine)


def _records(learner="Ada", quiz_id=None):
    settings = QuizSettings(syndromes=("down", "noonan"), n_questions=4, n_choices=2, seed=5)
    out = []
    for i, q in enumerate(make_quiz(settings)):
        wrong = next(c for c in q.choices if c != q.syndrome)
        answer = q.syndrome if i % 2 == 0 else wrong
        out.append(make_record(q, answer, check_answer(q, answer), confidence=5 - i, learner=learner, quiz_id=quiz_id))
    return settings, out


def test_summaries_score_per_syndrome_and_calibration():
    _, records = _records()
    assert score(records).n == 4 and score(records).accuracy == 0.5
    per = {a.group: a for a in per_syndrome(records)}
    assert sum(a.n for a in per.values()) == 4 and set(per) == {"down", "noonan"}
    levels = calibration(records)
    assert [a.group for a in levels] == ["1", "2", "3", "4", "5"]
    assert levels[0].n == 0 and levels[0].accuracy is None
    assert [a.n_correct for a in levels] == [0, 0, 1, 0, 1]  # confidences 5, 4, 3, 2: right, wrong, right, wrong
    with pytest.raises(ValueError, match="confidence"):
        make_record(make_quiz(QuizSettings(syndromes=("down", "noonan"), n_questions=1))[0], "down", True, 0, "Ada")


def test_csv_export(tmp_path):
    _, records = _records()
    path = export_csv(records, tmp_path / "results.csv", {"down": "Down syndrome"})
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 4
    assert [int(r["correct"]) for r in rows] == [1, 0, 1, 0]
    assert [float(r["credit"]) for r in rows] == [1.0, 0.0, 1.0, 0.0]  # syndrome questions: all or nothing
    assert {r["syndrome_name"] for r in rows} == {"Down syndrome", "noonan"}
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, nothing left over


def test_a_corrupt_or_unwritable_database_gives_a_clear_message(tmp_path):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(QuizStoreError, match="cannot be used.*not a database"):
        QuizStore(bad)
    with pytest.raises(QuizStoreError, match="cannot be used"):
        QuizStore(tmp_path)  # a folder, not a file
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(QuizStoreError, match="cannot be used"):
        QuizStore(blocker / "quiz.sqlite3")  # its folder cannot be created
    store = QuizStore(tmp_path / "ok.sqlite3")
    with pytest.raises(ValueError, match="Enter your name"):
        store.start_quiz("   ", QuizSettings())


def test_feature_questions_never_ask_what_a_frontal_face_cannot_show():
    from models.quiz.questions import NOT_FRONTAL

    assert {"HP:0000252", "HP:0000256", "HP:0009765"} <= NOT_FRONTAL  # microcephaly, macrocephaly, columella
    keys = [k for k in load_catalog().keys() if k != UNAFFECTED]
    asked = set()
    for seed in range(4):
        settings = QuizSettings(mode="features", syndromes=tuple(keys), n_questions=12, n_choices=6, seed=seed)
        for q in make_quiz(settings):
            asked |= set(q.choices)
            assert not set(q.choices) & NOT_FRONTAL, q
            assert set(q.correct) <= set(q.present)
    assert len(asked) > 20  # many features were asked, just not those
