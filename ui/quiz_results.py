"""The learner's results in the Quiz tab: the results stored under a name (shown when the name is
entered), and the summary after the last question: score, accuracy per syndrome, confidence against
accuracy, the faces missed, and the answers as CSV.

Results are read from and written to the quiz database (`models.quiz.QuizStore` at
``runtime.paths().db_path``); a database that fails gives a note, never an error, and the answers can
still be downloaded. Called by `ui.quiz`; holds no components.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pandas as pd

from models import quiz as quiz_lib
from models import runtime
from models.phenotype.morphology import FEATURES
from ui import accounts
from ui.quiz_feedback import catalog, percent, person_first, syndrome_name
from ui.session import as_text

#: The quiz's question types and confidence levels ``(label, value)``: the form's choices, and the
#: labels of the results.
MODE_CHOICES = [("Name the syndrome", "syndrome"), ("Name the features (HPO terms)", "features")]
CONFIDENCE_CHOICES = [("1 guessing", 1), ("2", 2), ("3", 3), ("4", 4), ("5 certain", 5)]


def quiz_store() -> quiz_lib.QuizStore:
    """The quiz database at ``runtime.paths().db_path`` (opened per call)."""
    return quiz_lib.QuizStore(runtime.paths().db_path)


def learner_progress(name: str | None, request: gr.Request | None = None) -> str:
    """The learner's stored results as Markdown ("" for no name; a warning if the database fails). With
    accounts on, the signed-in learner's, whatever name is sent."""
    account = accounts.signed_in(request)
    name = account or name
    if not name or not str(name).strip():
        return ""
    try:
        name = quiz_lib.clean_name(name)
        store = quiz_store()
        summary = store.learner_summary(name, signed_in=account is not None)
        past = store.answers(learner=name, signed_in=account is not None) if summary else []
    except ValueError as err:  # QuizStoreError is a ValueError too
        return f"**Note:** {err}"
    if summary is None or not summary.n_answers:
        return f"Welcome, {as_text(name)}. No results are stored for this name yet."
    text = (
        f"Welcome back, {as_text(summary.name)}: "
        f"{summary.n_quizzes} quiz{'zes' if summary.n_quizzes != 1 else ''}, "
        f"{summary.n_answers} questions answered, {percent(summary.accuracy)} right overall."
    )
    weak = sorted((a for a in quiz_lib.per_syndrome(past) if a.n >= 2), key=lambda a: (a.accuracy, -a.n))[:3]
    if weak:
        text += " To practise: " + ", ".join(f"{syndrome_name(a.group)} ({a.n_correct}/{a.n})" for a in weak) + "."
    return text


def summary_view(state: dict) -> dict:
    """The results after the last question, as a view of the Quiz tab (output name -> value).

    Marks the quiz finished in the database (a failing database gives a note instead) and writes the
    answers as ``phenoface_quiz_seed<seed>.csv`` into the session's folder.

    Args:
        state: the quiz state (`ui.quiz.start_quiz`), every question answered.

    Returns:
        the view: the score in Markdown, the per-syndrome and calibration tables, the calibration plot's
        data, the missed faces ``[(PNG path, caption), ...]``, the CSV's path, and the learner's stored
        progress when the database answered.
    """
    records = state["records"]
    total = quiz_lib.score(records)
    settings: quiz_lib.QuizSettings = state["settings"]
    lines, progress = [f"## Your score: {total.n_correct} of {total.n} ({percent(total.accuracy)})"], ""
    features = settings.mode == "features"
    if features:  # each offered feature counts: ticked when the child shows it, left unticked when not
        lines.append(f"Partial credit, feature by feature: {percent(total.mean_credit)}.")
    lines.append(
        f"{dict((v, k) for k, v in MODE_CHOICES)[settings.mode]}; intensity {settings.intensity:g}; "
        f"{settings.difficulty} distractors; {settings.generator} model; quiz seed {settings.seed}."
    )
    if state["quiz_id"] is not None:
        try:
            store = quiz_store()
            store.finish_quiz(state["quiz_id"])
            overall = store.learner_summary(state["learner"])
            quizzes = f"{overall.n_quizzes} quiz{'zes' if overall.n_quizzes != 1 else ''}"
            lines.append(
                f"Saved. {as_text(overall.name)}, so far: {quizzes}, "
                f"{overall.n_answers} questions answered, {percent(overall.accuracy)} right overall."
            )
            progress = learner_progress(state["learner"])
        except ValueError as err:
            lines.append(f"**Note:** {err}")
    else:
        lines.append("These results were not saved to the database (see the note above); download them as CSV.")
    per = pd.DataFrame(
        [
            [syndrome_name(a.group), a.n, a.n_correct, percent(a.accuracy)]
            + ([percent(a.mean_credit)] if features else [])
            for a in quiz_lib.per_syndrome(records)
        ],
        columns=["Syndrome", "Questions", "Right", "Accuracy"] + (["Partial credit"] if features else []),
    )
    labels = {v: k for k, v in CONFIDENCE_CHOICES}
    levels = quiz_lib.calibration(records)
    calibration = pd.DataFrame(
        [[labels[int(a.group)], a.n, a.n_correct, percent(a.accuracy)] for a in levels],
        columns=["Confidence", "Answers", "Right", "Accuracy"],
    )
    plot = pd.DataFrame(
        {"Confidence": [labels[int(a.group)] for a in levels], "Accuracy": [a.accuracy or 0.0 for a in levels]}
    )
    missed = []
    for record in records:
        if not record.correct:
            face = state["faces"][record.position]
            given = ", ".join(
                syndrome_name(x) if record.mode == "syndrome" else FEATURES[x].name for x in record.answer
            )
            missed.append(
                (face.review, f"Q{record.position + 1}: {person_first(record.syndrome)}; you answered {given} "
                 f"(confidence {record.confidence})")
            )  # fmt: skip
    csv_path = Path(state["folder"]) / f"phenoface_quiz_seed{settings.seed}.csv"
    quiz_lib.export_csv(records, csv_path, {k: syndrome_name(k) for k in catalog().keys()})
    return {
        "state": state,
        "question_box": gr.update(visible=False),
        "feedback_box": gr.update(visible=False),
        "summary_box": gr.update(visible=True),
        "summary": "\n\n".join(lines),
        "per_syndrome": per,
        "calibration": calibration,
        "calibration_plot": plot,
        "missed": missed,
        "csv": str(csv_path),
        **({"progress": progress} if progress else {}),
    }
