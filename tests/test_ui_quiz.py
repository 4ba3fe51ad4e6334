"""The Quiz tab: a whole quiz through its callbacks as plain functions, with a temporary database."""

from __future__ import annotations

import csv
import inspect
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

import models.faces
from models import provenance, runtime
from models.classifier.model import save_weights
from models.constants import UNAFFECTED
from models.phenotype.morphology import FEATURES
from models.quiz import faces
from ui import priority, quiz, quiz_feedback, quiz_results

SIZE = 128  # pixels: the smallest the renderer draws, to keep the test fast
SETUP = dict(
    mode="syndrome",
    syndromes=["down", "williams_beuren"],
    include_unaffected=False,
    n_questions=2,
    n_choices=2,
    intensity=1.0,
    difficulty="similar",
    generator="phenotype",
    quiz_seed=7,
)

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture()
def app_paths(tmp_path, model, monkeypatch):
    """A tiny classifier (tests/conftest.py) and a database in a temporary folder; restored afterwards."""
    folder = tmp_path / "classifier"
    model.config.save(folder)
    save_weights(model, folder)
    before = runtime.paths()
    runtime.configure(classifier_dir=folder, db_path=tmp_path / "db" / "quiz.sqlite3")
    monkeypatch.setattr(quiz_feedback, "SALIENCY_SETTINGS", {"steps": 4})  # cheap saliency in tests
    yield runtime.paths()
    runtime.configure(**{k: v for k, v in asdict(before).items() if v is not None})


def _start(state=None, name="Ada", **changes):
    return quiz.start_quiz(state, name, **{**SETUP, **changes}, size=SIZE)


def _answer(view, right: bool, confidence: int):
    question = view["state"]["questions"][view["state"]["position"]]
    pick = question.syndrome if right else next(c for c in question.choices if c != question.syndrome)
    return quiz.submit_answer(view["state"], pick, [], confidence), question


def test_a_two_question_quiz_from_start_to_results(app_paths, monkeypatch):
    view = _start()
    state = view["state"]
    assert "seed 7" in view["status"] and view["question_box"]["visible"]
    # the face shown is a marked synthetic PNG whose metadata does not give the answer away
    shown = view["face"]
    assert np.asarray(Image.open(shown)).shape == (SIZE, SIZE, 3)
    meta = provenance.read_png_metadata(shown)
    assert meta["synthetic"] == "true" and "spec" not in meta and "syndrome" not in meta
    assert "Question 1 of 2" in view["prompt"] and "Which syndrome" in view["prompt"]

    with pytest.raises(gr.Error, match="Rate how sure"):
        quiz.submit_answer(state, "down", [], None)
    with pytest.raises(gr.Error, match="Answer this question first"):
        quiz.next_question(state)

    feedback, first = _answer(view, right=True, confidence=4)
    name = {"down": "Down syndrome", "williams_beuren": "Williams-Beuren syndrome"}[first.syndrome]
    assert f"Right.** This is a child with {name}" in feedback["feedback"]
    assert list(feedback["features"]["HPO id"]) == list(state["faces"][0].present)
    assert all(feedback["features"]["What it means"].str.len() > 0)
    assert len(feedback["contrast"]["value"]) > 0  # against the other choice, even when right
    # the feedback comes first, the map after it (its own event), from the face kept since it was drawn
    assert feedback["saliency"] is None and "being drawn" in feedback["saliency_note"]
    drawn = []
    monkeypatch.setattr(models.faces, "draw_faces", lambda request, real=models.faces.draw_faces: drawn.append(
        request.spec) or real(request))  # fmt: skip
    busy = threading.Event()

    def other_user():  # draws a face for 0.5 s
        with priority.FOREGROUND.running():
            busy.set()
            time.sleep(0.5)

    drawing = threading.Thread(target=other_user)
    drawing.start()
    busy.wait()
    start = time.perf_counter()
    mapped = quiz.show_map(state)
    assert time.perf_counter() - start >= 0.5  # the map waited for it
    drawing.join()
    assert mapped["saliency"].shape == (336, 336, 3) and mapped["saliency"].dtype == np.uint8
    assert "same child without the syndrome" in mapped["saliency_note"]
    assert [spec.intensity for spec in drawn] == [0.0]  # only the counterfactual was drawn, not the face again
    assert quiz.show_map(state) == {}  # shown once
    with pytest.raises(gr.Error, match="already answered|have answered"):
        quiz.submit_answer(state, first.syndrome, [], 4)

    view = quiz.next_question(state)
    assert "Question 2 of 2" in view["prompt"]
    feedback, second = _answer(view, right=False, confidence=5)
    other = next(c for c in second.choices if c != second.syndrome)
    assert "Not this time" in feedback["feedback"] and "You chose" in feedback["feedback"]
    assert "This is a child with" in feedback["feedback"]
    points_to = set(feedback["contrast"]["value"]["Points to"])
    assert len(points_to) == 2  # features for the right syndrome and for the one chosen
    assert feedback["next"]["value"] == "See your results"

    summary = quiz.next_question(state)
    assert "Your score: 1 of 2 (50%)" in summary["summary"]
    assert "Saved. Ada, so far: 1 quiz, 2 questions answered, 50% right overall." in summary["summary"]
    assert summary["per_syndrome"]["Questions"].sum() == 2
    calibration = summary["calibration"].set_index("Confidence")
    assert calibration.loc["4", "Right"] == 1 and calibration.loc["5 certain", "Right"] == 0
    assert list(summary["calibration_plot"]["Accuracy"]) == [0, 0, 0, 1, 0]
    (missed_face, caption), *rest = summary["missed"]
    assert not rest and "Q2" in caption and "you answered" in caption
    assert provenance.read_png_metadata(missed_face)["spec"]  # the review file carries the full spec
    with open(summary["csv"], newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["syndrome"], r["answer"], r["correct"], r["confidence"]) for r in rows] == [
        (first.syndrome, first.syndrome, "1", "4"),
        (second.syndrome, other, "0", "5"),
    ]
    assert Path(summary["csv"]).parent == Path(state["folder"])

    # the results survive a restart: a new page sees them when the learner enters their name
    progress = quiz_results.learner_progress("ada")
    assert "1 quiz" in progress and "2 questions answered" in progress and "50%" in progress
    quiz.remove_session(state)
    assert not Path(state["folder"]).exists()


def test_feature_questions(app_paths):
    view = _start(mode="features", n_questions=1, n_choices=6, syndromes=["williams_beuren", UNAFFECTED])
    question = view["state"]["questions"][0]
    assert view["feature_answer"]["visible"] and not view["syndrome_answer"]["visible"]
    assert "Tick all that apply" in view["prompt"]
    feedback = quiz.submit_answer(view["state"], None, list(question.correct), 3)
    assert "Right." in feedback["feedback"] and "Partial credit: 6 of 6 features judged right" in feedback["feedback"]
    assert all(FEATURES[f].name in feedback["feedback"] for f in question.choices)
    assert not feedback["contrast"]["visible"]  # syndromes are not compared in feature questions
    summary = quiz.next_question(view["state"])
    assert "1 of 1" in summary["summary"] and "Partial credit, feature by feature: 100" in summary["summary"]
    assert "Partial credit" in list(summary["per_syndrome"].columns)
    # ticking every feature offered: wrong as a whole, but each feature the child shows still counts
    view = _start(mode="features", n_questions=1, n_choices=6, syndromes=["williams_beuren", UNAFFECTED])
    question = view["state"]["questions"][0]
    feedback = quiz.submit_answer(view["state"], None, list(question.choices), 3)
    right = len(question.correct)
    assert "Not quite." in feedback["feedback"] and f"Partial credit: {right} of 6" in feedback["feedback"]


def test_bad_input_and_an_unusable_database(app_paths, tmp_path):
    with pytest.raises(gr.Error, match="Enter your name"):
        _start(name="  ")
    with pytest.raises(gr.Error, match="at least two"):
        _start(syndromes=["down"])
    runtime.configure(generator_dir=tmp_path / "no_generator")
    with pytest.raises(gr.Error, match="Feature questions need the phenotype model"):
        _start(mode="features", generator="diffusion")
    with pytest.raises(gr.Error, match="not installed"):
        _start(generator="diffusion")
    with pytest.raises(gr.Error, match="Start a quiz"):
        quiz.next_question(None)
    assert "Feature questions need the phenotype model" in quiz.setup_note("features", "diffusion")

    # a corrupt database: a clear note, and the quiz still runs (results only in the CSV)
    bad = tmp_path / "corrupt.sqlite3"
    bad.write_bytes(b"not a database" * 100)
    runtime.configure(db_path=bad)
    with pytest.warns(UserWarning, match="cannot be used"):  # gr.Warning, outside a request
        view = _start(n_questions=1)
    assert "cannot be used" in view["status"] and view["state"]["quiz_id"] is None
    assert "cannot be used" in quiz_results.learner_progress("Ada")
    feedback, _ = _answer(view, right=True, confidence=2)
    summary = quiz.next_question(view["state"])
    assert "not saved" in summary["summary"] and Path(summary["csv"]).is_file()


def test_the_tab_builds():
    with gr.Blocks() as demo:
        quiz.build_tab(demo, render_size=SIZE)
    labels = {getattr(block, "label", None) for block in demo.blocks.values()}
    assert {"Your name", "Quiz seed (optional)", "How sure are you? (required)"} <= labels
    # Gradio passes each callback exactly its inputs (no defaults of extra parameters filled in), and the
    # request (who is signed in) to those that ask for it, after the inputs
    request = gr.Request(username="Ada")
    for block_fn in demo.fns.values():
        if block_fn.fn is not None:
            args, *_ = gr.helpers.special_args(block_fn.fn, inputs=[None] * len(block_fn.inputs), request=request)
            wants = "request" in inspect.signature(block_fn.fn).parameters
            assert len(args) == len(block_fn.inputs) + wants, block_fn.name
            assert not wants or args[-1] is request, block_fn.name


def test_a_quiz_with_the_learned_generator(app_paths, tmp_path, monkeypatch):
    """A tiny untrained diffusion pipeline stands in for the shipped one (as in tests/test_generator.py)."""
    import torch

    from models.generator import sample as gen
    from models.generator.config import GeneratorConfig, build_scheduler, build_unet
    from models.generator.pipeline import PhenoFacePipeline

    torch.manual_seed(0)
    classes = ["unaffected", "down", "williams_beuren"]
    config = GeneratorConfig(resolution=32, block_out_channels=(16, 32), attention_levels=(1,), class_names=classes)
    folder = tmp_path / "generator"
    PhenoFacePipeline(unet=build_unet(config), scheduler=build_scheduler(config), class_names=classes).save_pretrained(
        folder
    )
    runtime.configure(generator_dir=folder)
    monkeypatch.setattr(faces, "SAMPLING", replace(faces.SAMPLING, steps=2))
    monkeypatch.setattr(gen, "_CACHE", {})  # the loaded pipeline is forgotten after the test
    view = _start(generator="diffusion", syndromes=["down", "noonan"], include_unaffected=True, n_questions=1)
    assert "not trained on Noonan syndrome" in view["status"]
    question = view["state"]["questions"][0]
    assert question.syndrome in ("down", "unaffected") and question.generator == "diffusion"
    meta = provenance.read_png_metadata(view["face"])
    assert meta["synthetic"] == "true" and "condition" not in meta
    assert np.asarray(Image.open(view["face"])).shape == (SIZE, SIZE, 3)
    feedback, _ = _answer(view, right=True, confidence=3)
    assert "cannot list the features" in feedback["feedback"] and feedback["features"].empty
    mapped = quiz.show_map(view["state"])
    assert mapped["saliency"] is None and mapped["saliency_note"].startswith("No saliency map")  # noise, no face
