"""The Class tab: join a class, an educator's classes, quiz sets and dashboard, and a learner's own data.

Shown when the server runs a class (``python app.py --accounts``); every action is taken as the signed-in
account (`ui.accounts`), and the store decides who may do what (`models.quiz.programme`): learners join
classes and see their own data, educators create classes and quiz sets and see their classes' results.
"""

from __future__ import annotations

import functools

import gradio as gr
import pandas as pd

from models import quiz as quiz_lib
from models.quiz import dashboard, xapi
from models.quiz.programme import PURPOSES, export_json
from ui import accounts
from ui.quiz import GENERATOR_CHOICES, INTENSITY_CHOICES
from ui.quiz_feedback import syndrome_name
from ui.quiz_results import MODE_CHOICES
from ui.session import Refusal, SessionFolders, as_text, number, texts, whole

_FOLDERS = SessionFolders("class-")
TABLE_COLUMNS = {"group": "", "answers": "Answers", "right": "Right", "accuracy": "Accuracy",
                 "ci_low": "95 % CI low", "ci_high": "95 % CI high", "credit": "Mean credit"}  # fmt: skip


def _guarded(fn):
    """Store refusals, bad codes and conflicting edits become one sentence; nothing else is swallowed."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Refusal:
            raise
        except Exception as err:  # noqa: BLE001 - accounts.refusal re-raises anything unexpected
            raise accounts.refusal(err) from None

    return wrapper


@_guarded
def join_class(code: str, request: gr.Request) -> str:
    """Join the class with this code as the signed-in learner."""
    title = accounts.store().join_class(_me(request), _text(code, "The class code"))
    return f"You have joined **{as_text(title)}**. Quiz sets your educator shares are taken on the Quiz tab."


@_guarded
def create_class(title: str, request: gr.Request) -> str:
    """A new class taught by the signed-in educator; its code is for the learners."""
    code = accounts.store().create_class(_me(request), _text(title, "The class title"))
    return f"Class **{as_text(title.strip())}** created. Learners join it with the code **{code}**."


@_guarded
def create_set(
    title: str,
    purpose: str,
    mode: str,
    syndromes: list[str] | None,
    n_questions: float,
    n_choices: float,
    difficulty: str,
    intensity: float,
    generator: str,
    request: gr.Request,
) -> str:
    """A quiz set by the signed-in educator: a fixed seed, so every learner sees the same faces. The raw API values
    are checked here (preprocess=False), each wrong one with its own sentence."""
    import secrets

    for value, what, allowed in ((purpose, "purpose", PURPOSES), (mode, "question type", quiz_lib.MODES),
                                 (difficulty, "distractor setting", quiz_lib.DIFFICULTIES),
                                 (generator, "generator", quiz_lib.GENERATORS)):  # fmt: skip
        if not isinstance(value, str) or value not in allowed:
            raise Refusal(f"The {what} must be one of {', '.join(allowed)}, not {value!r}.")
    settings = quiz_lib.QuizSettings(
        mode=mode, syndromes=tuple(texts(syndromes, "The syndromes must be a list of syndrome keys.")),
        n_questions=whole(n_questions, "The number of questions", 1, 50),
        n_choices=whole(n_choices, "The number of choices", 2, 8),
        difficulty=difficulty, generator=generator, intensity=number(intensity, "The intensity", 0.5, 1.5),
        seed=secrets.randbelow(2**31),
    )  # fmt: skip
    quiz_set = accounts.store().create_set(_me(request), _text(title, "The title"), settings, purpose)
    return (
        f"Quiz set **{as_text(quiz_set.title)}** ({quiz_set.purpose}, {quiz_set.settings.n_questions} questions) "
        f"created. Learners enter the code **{quiz_set.code}** on the Quiz tab and all get the same faces."
    )


@_guarded
def show_dashboard(
    class_code: str | None, set_code: str | None, learner: str | None, folder: str | None, request: gr.Request
):
    """The signed-in educator's class results (or one learner's): the figure, the tables and files to download."""
    educator = _me(request)
    rows = accounts.store().class_answers(educator, class_code or None, set_code or None, learner or None)
    records = [r for r, _ in rows]
    if not records:
        raise Refusal("No answers yet from the learners of this class (or set).")
    names = {r.syndrome: syndrome_name(r.syndrome) for r in records}
    out = _FOLDERS.get(folder)
    png = dashboard.save_png(
        dashboard.figure(records, names, title=class_code or "your classes"), out / "dashboard.png"
    )
    per_syndrome = dashboard.accuracy_table(records, "syndrome", names)
    per_learner = dashboard.accuracy_table(records, "learner")
    files = [
        png,
        dashboard.save_csv(per_syndrome, out / "per_syndrome.csv"),
        dashboard.save_csv(per_learner, out / "per_learner.csv"),
        dashboard.save_csv(dashboard.calibration_table(records), out / "calibration.csv"),
        xapi.write_statements(xapi.statements(rows, request_home(request)), out / "xapi_statements.json"),
    ]
    confused = dashboard.most_confused(records)
    n_learners = len({r.learner for r in records})
    summary = f"{len(records)} answers from {n_learners} learner{'s' if n_learners != 1 else ''}."
    if confused:
        summary += " Most often confused: " + "; ".join(
            f"{syndrome_name(a)} taken for {syndrome_name(b)} ({n}x)" for a, b, n in confused
        ) + "."  # fmt: skip
    return str(png), _shown(per_syndrome), _shown(per_learner), summary, [str(f) for f in files], str(out)


@_guarded
def export_my_data(password: str, folder: str | None, request: gr.Request):
    """The signed-in learner's own data as a JSON file to download (their password confirms it)."""
    me = _me(request)
    data = accounts.store().export_learner(me, password if isinstance(password, str) else "")
    out = _FOLDERS.get(folder)
    path = export_json(data, out / "phenoface_my_data.json")
    return str(path), f"{len(data['answers'])} answers exported.", str(out)


@_guarded
def delete_my_data(password: str, confirm: bool, request: gr.Request) -> str:
    """Delete the signed-in learner's account and answers, after their password and a tick."""
    if confirm is not True:
        raise Refusal("Tick the box to confirm that your account and answers should be deleted.")
    n = accounts.store().delete_learner(_me(request), password if isinstance(password, str) else "")
    return f"Your account and {n} answers are deleted. Close this page; signing in again will not work."


def request_home(request: gr.Request | None) -> str:
    """The server's address as the learners reach it, for xAPI account home pages."""
    url = getattr(request, "url", None)
    return f"{url.scheme}://{url.netloc}" if url is not None else "http://127.0.0.1:7860"


def _me(request: gr.Request) -> str:
    name = accounts.signed_in(request)
    if name is None:
        raise Refusal("Classes need a server that runs them (started with --accounts).")
    return name


def _text(value, what: str) -> str:
    if value is not None and not isinstance(value, str):
        raise Refusal(f"{what} must be text, not {value!r}.")
    if not value or not value.strip():
        raise Refusal(f"{what} must be filled in.")
    return value


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    shown = table.rename(columns=TABLE_COLUMNS)
    for column in ("Accuracy", "95 % CI low", "95 % CI high", "Mean credit"):
        shown[column] = (shown[column] * 100).round(0)
    return shown


def build_tab(demo: gr.Blocks) -> None:
    """Lay out the Class tab (only when the server runs with accounts)."""
    del demo
    if not accounts.enabled():
        return
    options = [(syndrome_name(k), k) for k in quiz_lib.default_syndromes()]
    # fmt: off
    with gr.Tab("Class"):
        folder = gr.State(None, delete_callback=_FOLDERS.remove)
        gr.Markdown("Learners join their class here; educators create classes and quiz sets and see how the class "
                    "is doing. Percentages in the tables; intervals are 95 % Wilson intervals.")
        with gr.Accordion("Join a class", open=True):
            with gr.Row(equal_height=True):
                join_code = gr.Textbox(label="Class code", max_length=12, placeholder="e.g. 4KX9PQ")
                join_button = gr.Button("Join")
            join_note = gr.Markdown()
        with gr.Accordion("Educators: create a class", open=False):
            with gr.Row(equal_height=True):
                class_title = gr.Textbox(label="Class title", max_length=80)
                class_button = gr.Button("Create class")
            class_note = gr.Markdown()
        with gr.Accordion("Educators: create a quiz set", open=False):
            with gr.Row():
                set_title = gr.Textbox(label="Title", max_length=80)
                purpose = gr.Radio(list(PURPOSES), value="practice", label="Purpose")
                mode = gr.Radio(MODE_CHOICES, value="syndrome", label="Question type")
            syndromes = gr.CheckboxGroup(options, value=[k for _, k in options][:6], label="Syndromes")
            with gr.Row():
                n_questions = gr.Slider(1, 50, value=10, step=1, label="Questions")
                n_choices = gr.Slider(2, 8, value=4, step=1, label="Choices per question")
                difficulty = gr.Radio([("Similar syndromes", "similar"), ("Dissimilar syndromes", "dissimilar")],
                                      value="similar", label="Wrong choices drawn from")
            with gr.Row():
                intensity = gr.Radio(INTENSITY_CHOICES, value=1.0, label="Feature intensity")
                generator = gr.Radio(GENERATOR_CHOICES, value="phenotype", label="Faces drawn by")
            set_button = gr.Button("Create quiz set")
            set_note = gr.Markdown()
        with gr.Accordion("Educators: dashboard", open=False):
            with gr.Row(equal_height=True):
                dash_class = gr.Textbox(label="Class code (empty: all your classes)", max_length=12)
                dash_set = gr.Textbox(label="Quiz set code (empty: every quiz)", max_length=12)
                dash_learner = gr.Textbox(label="Learner (empty: the whole class)", max_length=60)
                dash_button = gr.Button("Show results", variant="primary")
            dash_summary = gr.Markdown()
            dash_image = gr.Image(label="Class results (synthetic faces, education only)", interactive=False,
                                  type="filepath", format="png")
            with gr.Row():
                dash_syndromes = gr.Dataframe(label="Per syndrome (%)", interactive=False)
                dash_learners = gr.Dataframe(label="Per learner (%)", interactive=False)
            dash_files = gr.File(label="Download: PNG, CSV tables, xAPI statements", file_count="multiple",
                                 interactive=False)
        with gr.Accordion("Your data", open=False):
            gr.Markdown("Stored about you: your display name, a hash of your password, your classes and your "
                        "answers (an educator's also their classes and quiz sets). Nothing else. Download it, or "
                        "delete it all: deleting an educator's account removes their classes and sets, while "
                        "learners keep their own answers.")
            password = gr.Textbox(label="Your password (to confirm)", type="password", max_length=256)
            with gr.Row():
                export_button = gr.Button("Download my data (JSON)")
                delete_confirm = gr.Checkbox(False, label="Yes, delete my account and answers")
                delete_button = gr.Button("Delete my data", variant="stop")
            export_file = gr.File(label="Your data", interactive=False)
            data_note = gr.Markdown()
    # fmt: on
    join_button.click(join_class, join_code, join_note, api_name="class_join")
    class_button.click(create_class, class_title, class_note, api_name="class_create")
    set_button.click(
        create_set, [set_title, purpose, mode, syndromes, n_questions, n_choices, difficulty, intensity, generator],
        set_note,
        api_name="class_create_set",
        preprocess=False,  # create_set checks every raw value itself: one clear sentence for a wrong-typed one
    )  # fmt: skip
    dash_button.click(
        show_dashboard, [dash_class, dash_set, dash_learner, folder],
        [dash_image, dash_syndromes, dash_learners, dash_summary, dash_files, folder], api_name="class_dashboard",
    )  # fmt: skip
    export_button.click(export_my_data, [password, folder], [export_file, data_note, folder], api_name="my_data")
    delete_button.click(delete_my_data, [password, delete_confirm], data_note, api_name="delete_my_data")
