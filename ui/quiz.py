"""The Quiz tab: trainees name the syndrome, or the features, of synthetic faces, and see why.

Callbacks are plain functions (tested as such in ``tests/test_ui_quiz.py``) that return a *view*, a
dict of output name -> value; `_wire` turns it into Gradio's outputs and leaves the rest unchanged.
This module holds the layout, the form's choices and the callbacks that start a quiz, take an answer
and move on; the feedback after an answer is built in `ui.quiz_feedback`, the results in
`ui.quiz_results`. Questions, distractors, scoring and storage live in `models.quiz`; faces come from
the phenotype model or the learned diffusion model; saliency from `models.saliency`. Per-user quiz
state is a plain dict in ``gr.State``; results go to the quiz database at ``runtime.paths().db_path``.
Education and research only; not for diagnosis.
"""

from __future__ import annotations

import inspect
import logging
import secrets
import tempfile
from pathlib import Path

import gradio as gr

from models import quiz as quiz_lib
from models import runtime
from models.constants import UNAFFECTED
from models.phenotype.morphology import FEATURES
from models.quiz import faces
from ui import accounts, notice
from ui.priority import FOREGROUND, foreground
from ui.quiz_feedback import (
    FEATURE_COLUMNS,
    MAP_PENDING,
    contrast_table,
    features_table,
    feedback_text,
    saliency_map,
    syndrome_name,
)
from ui.quiz_results import CONFIDENCE_CHOICES, MODE_CHOICES, learner_progress, quiz_store, summary_view
from ui.session import Refusal, SessionFolders, as_text, texts, whole

log = logging.getLogger(__name__)

DEFAULT_SIZE = 256  # pixels
INTENSITY_CHOICES = [
    ("subtle (0.5)", 0.5),
    ("typical (1.0)", 1.0),
    (f"marked (1.3, {notice.EXAGGERATED})", 1.3),
]
DIFFICULTY_CHOICES = [("similar syndromes (harder)", "similar"), ("less similar syndromes (easier)", "dissimilar")]
GENERATOR_CHOICES = [("Phenotype model", "phenotype"), ("Learned diffusion model", "diffusion")]

#: Captions of the missed faces go to the top, never over the SYNTHETIC mark in the bottom-right corner.
MISSED_STYLE = """<style>
#phenoface-quiz-missed .grid-container { grid-template-columns: repeat(auto-fill, minmax(180px, 240px)) !important; }
#phenoface-quiz-missed .caption-label {
  top: var(--block-label-margin); bottom: auto; left: var(--block-label-margin); right: auto;
  max-width: calc(100% - 2 * var(--block-label-margin)); white-space: normal;
}
</style>"""

#: Output names, in the order `build_tab` lists the components.
OUTPUTS = (
    "state", "status", "question_box", "face", "prompt", "syndrome_answer", "feature_answer", "confidence",
    "submit", "feedback_box", "feedback", "features", "contrast", "saliency", "saliency_note", "next",
    "summary_box", "summary", "per_syndrome", "calibration", "calibration_plot", "missed", "csv", "progress",
)  # fmt: skip

#: After a new question, move keyboard focus to it (a screen reader reads it; the next Tab reaches the
#: answers) instead of leaving it on the button, from where the answers were 35 Tab presses away.
FOCUS_QUESTION = """() => {
  const prompt = document.querySelector('#phenoface-quiz-prompt');
  if (!prompt) return;
  prompt.setAttribute('tabindex', '-1');
  prompt.focus({ preventScroll: true });
  prompt.scrollIntoView({ block: 'center' });
}"""


def setup_note(mode: str, generator: str) -> str:
    """What the chosen mode and generator allow, as Markdown (empty when nothing to say)."""
    lines = []
    if generator == "diffusion" and not runtime.generator_available():
        lines.append("The learned diffusion model is not installed on this server; use the phenotype model.")
    if generator == "diffusion" and mode == "features":
        lines.append(
            "Feature questions need the phenotype model: the learned diffusion model draws a face from the "
            "syndrome's name alone and cannot say which features that face shows."
        )
    return "\n\n".join(f"*{line}*" for line in lines)


# --------------------------------------------------------------------------- session folder


_FOLDERS = SessionFolders("quiz-")


def _root() -> Path:
    return _FOLDERS.root


def remove_session(state: dict | None) -> None:
    """Delete a session's quiz folder (the ``gr.State`` delete callback)."""
    _FOLDERS.remove((state or {}).get("folder"))


# --------------------------------------------------------------------------- faces


def _question_view(state: dict, position: int) -> dict:
    """Draw question ``position`` and show it (answer widgets reset, feedback hidden).

    The state moves on only once the face is drawn, so a failed draw can be retried.
    """
    question: quiz_lib.Question = state["questions"][position]
    try:
        generator = runtime.generator() if question.generator == "diffusion" else None
        face = faces.draw_face(question, state["folder"], state["size"], generator, app_notice=notice.NOTICE)
    except ValueError as err:
        raise Refusal(f"Drawing the face failed: {err}") from None
    state["faces"][position] = face
    state["position"], state["answered"] = position, False
    n = len(state["questions"])
    article = "an" if str(question.age).startswith(("8", "11", "18")) else "a"  # "an 8-year-old", "an 11-year-old"
    child = f"{article} {question.age}-year-old {'girl' if question.sex == 'female' else 'boy'}"
    if question.mode == "syndrome":
        ask = f"Which syndrome does this child ({child}) have?"
        syndrome = gr.update(choices=[(syndrome_name(k), k) for k in question.choices], value=None, visible=True)
        features = gr.update(choices=[], value=[], visible=False)
    else:
        ask = f"Which of these features does this child ({child}) show? Tick all that apply."
        labels = [(f"{FEATURES[f].name} ({f})", f) for f in question.choices]
        syndrome = gr.update(choices=[], value=None, visible=False)
        features = gr.update(choices=labels, value=[], visible=True)
    return {
        "state": state,
        "question_box": gr.update(visible=True),
        "face": face.shown,
        "prompt": f"**Question {question.position + 1} of {n}.** {ask} Then rate how sure you are.",
        "syndrome_answer": syndrome,
        "feature_answer": features,
        "confidence": gr.update(value=None),
        "submit": gr.update(interactive=True),
        "feedback_box": gr.update(visible=False),
        "summary_box": gr.update(visible=False),
    }


# --------------------------------------------------------------------------- callbacks


def start_quiz(
    state: dict | None,
    name: str,
    mode: str,
    syndromes: list[str] | None,
    include_unaffected: bool,
    n_questions: float,
    n_choices: float,
    intensity: float,
    difficulty: str,
    generator: str,
    quiz_seed: str | int | None,
    set_code: str | None = None,
    size: int = DEFAULT_SIZE,
    request: gr.Request | None = None,
) -> dict:
    """Set up a quiz from the form, or from an educator's quiz set, and show its first question.

    Args:
        state: this session's quiz state (``gr.State``), or None.
        name: the learner's name (nothing else about the learner is asked or stored).
        mode: ``"syndrome"`` or ``"features"``.
        syndromes: catalogue keys to draw children from.
        include_unaffected: also draw children without a syndrome (syndrome mode).
        n_questions: 1 to 50; n_choices: 2 to 8.
        intensity: feature intensity, 0.5 subtle, 1 typical, 1.3 marked.
        difficulty: ``"similar"`` or ``"dissimilar"`` distractors.
        generator: ``"phenotype"`` or ``"diffusion"``.
        quiz_seed: whole number to repeat a quiz, or None/empty for a new random one.
        set_code: an educator's quiz set code (accounts on): its settings replace the form's.
        size: face width and height in pixels.
        request: the page's request; with accounts on, the learner is the signed-in account, whatever
            name the form holds.

    Returns:
        the view (output name -> value).

    Raises:
        gr.Error: a one-line message for any bad setting.
    """
    # the raw values (preprocess=False): an API caller may send anything, and each gets one clear sentence
    syndromes = texts(syndromes, "The syndromes must be a list of syndrome names or keys.")
    if include_unaffected not in (None, True, False):
        raise Refusal("Whether to include children without a syndrome must be true or false.")
    for value, what in ((mode, "quiz mode"), (difficulty, "distractor setting"), (generator, "generator")):
        if not isinstance(value, str):
            raise Refusal(f"The {what} must be a word from the list, not {value!r}.")
    if quiz_seed is not None and (isinstance(quiz_seed, bool) or not isinstance(quiz_seed, (str, int, float))):
        raise Refusal(f"The quiz seed must be a whole number, not {quiz_seed!r}.")
    if isinstance(quiz_seed, float) and quiz_seed.is_integer():  # a number field's 3.0
        quiz_seed = int(quiz_seed)
    account = accounts.signed_in(request)
    if set_code is not None and not isinstance(set_code, str):
        raise Refusal(f"The quiz set code must be text, not {set_code!r}.")
    if set_code and set_code.strip():
        if account is None:
            raise Refusal("Quiz sets need a server that runs a class (started with --accounts).")
        return _start_set(state, account, set_code, size)
    try:
        learner = account or quiz_lib.clean_name(name)
    except ValueError as err:
        raise Refusal(str(err)) from None
    if generator == "diffusion" and (mode == "features" or not runtime.generator_available()):
        raise Refusal(setup_note(mode, "diffusion").split("\n\n")[-1].strip("*"))
    keys = list(syndromes or []) + ([UNAFFECTED] if include_unaffected and mode == "syndrome" else [])
    notes = []
    if generator == "diffusion" and mode == "syndrome":
        try:
            pipe = runtime.generator()
        except ValueError as err:
            raise Refusal(f"The learned diffusion model cannot be used: {err}.") from None
        missing = [k for k in keys if k not in pipe.class_names]
        keys = [k for k in keys if k in pipe.class_names]
        if missing:
            notes.append(
                f"The diffusion model was not trained on {', '.join(syndrome_name(k) for k in missing)}; left out."
            )
    seed = secrets.randbelow(2**31) if quiz_seed is None or not str(quiz_seed).strip() else str(quiz_seed).strip()
    settings = quiz_lib.QuizSettings(
        mode=mode, syndromes=tuple(keys), n_questions=n_questions, n_choices=n_choices, intensity=intensity,
        difficulty=difficulty, generator=generator, seed=seed,
    )  # fmt: skip
    try:
        settings = quiz_lib.validate_settings(settings)
        questions = quiz_lib.make_quiz(settings)
    except ValueError as err:
        raise Refusal(str(err)) from None
    quiz_id = None
    try:
        quiz_id = quiz_store().start_quiz(learner, settings, signed_in=account is not None)
    except ValueError as err:
        notes.append(f"**Note:** {err}")
        gr.Warning(str(err))
    return _first_question(state, learner, quiz_id, settings, questions, size, notes)


def _start_set(state: dict | None, learner: str, code: str, size: int) -> dict:
    """A signed-in learner's quiz from an educator's set (the same faces for every learner)."""
    try:
        quiz_id, quiz_set = accounts.store().start_set_quiz(learner, code)
        questions = quiz_lib.make_quiz(quiz_set.settings)
    except Exception as err:  # noqa: BLE001 - the store's refusals become one sentence; others re-raised
        raise accounts.refusal(err) from None
    note = f"Quiz set {as_text(quiz_set.title)} ({quiz_set.purpose}) by {as_text(quiz_set.educator)}."
    return _first_question(state, learner, quiz_id, quiz_set.settings, questions, size, [note])


def _first_question(state, learner, quiz_id, settings, questions, size, notes) -> dict:
    """A fresh session state for a quiz, showing its first question."""
    folder = (state or {}).get("folder")
    if not folder or not Path(folder).is_dir():
        folder = tempfile.mkdtemp(prefix="session-", dir=_root())
    for old in Path(folder).iterdir():
        old.unlink(missing_ok=True)
    state = dict(
        learner=learner, quiz_id=quiz_id, settings=settings, questions=questions, position=0, answered=False,
        records=[], faces={}, folder=folder, size=int(size),
    )  # fmt: skip
    status = (
        f"Quiz for {as_text(learner)}: {len(questions)} questions, seed {settings.seed} "
        "(enter it to repeat this quiz)."
    )
    return {**_question_view(state, 0), "status": "\n\n".join([status, *notes])}


def submit_answer(
    state: dict | None, syndrome_answer: str | None, feature_answer: list[str] | None, confidence: float | None
) -> dict:
    """Check an answer, store it and show the feedback.

    Args:
        state: the quiz state.
        syndrome_answer: the catalogue key chosen (syndrome mode).
        feature_answer: the HPO ids ticked (feature mode).
        confidence: 1 (guessing) to 5 (certain); required.

    Returns:
        the view (output name -> value).

    Raises:
        gr.Error: no quiz, already answered, no answer or no confidence.
    """
    if not state or not state.get("questions"):
        raise Refusal("Start a quiz first.")
    if state["answered"]:
        raise Refusal("You have answered this question; press Next.")
    if confidence in (None, ""):
        raise Refusal("Rate how sure you are, from 1 (guessing) to 5 (certain), before you submit.")
    confidence = whole(confidence, "Your confidence", 1, 5)
    if syndrome_answer is not None and not isinstance(syndrome_answer, str):
        raise Refusal(f"The answer must be one of the syndromes offered, not {syndrome_answer!r}.")
    feature_answer = texts(feature_answer, "The features ticked must be a list of HPO ids.")
    question: quiz_lib.Question = state["questions"][state["position"]]
    answer = syndrome_answer if question.mode == "syndrome" else list(feature_answer or [])
    try:
        correct = quiz_lib.check_answer(question, answer)
        record = quiz_lib.make_record(question, answer, correct, int(confidence), state["learner"], state["quiz_id"])
    except ValueError as err:
        raise Refusal(str(err)) from None
    note = ""
    if state["quiz_id"] is not None:
        try:
            quiz_store().add_answer(record)
        except ValueError as err:
            state["quiz_id"], note = None, f"\n\n**Note:** {err}"
            gr.Warning(str(err))
    state["records"].append(record)
    state["answered"] = True
    face = state["faces"][state["position"]]
    last = state["position"] + 1 == len(state["questions"])
    return {
        "state": state,
        "submit": gr.update(interactive=False),
        "feedback_box": gr.update(visible=True),
        "feedback": feedback_text(question, record, face) + note,
        "features": features_table(face.present),
        "contrast": gr.update(value=contrast_table(question, record), visible=question.mode == "syndrome"),
        "saliency": None,
        "saliency_note": MAP_PENDING,
        "next": gr.update(value="See your results" if last else "Next question"),
    }


def show_map(state: dict | None) -> dict:
    """The classifier's saliency map of the question just answered (runs after `submit_answer`).

    The feedback is shown first and the map follows: on two cores a map takes about a second alone and
    far longer while many learners answer at once, and an answer should not wait for it. The map is an
    extra: it starts once no face a user is waiting for is being drawn (`ui.priority`). When the
    learner has already moved on, nothing changes.

    Returns:
        the view (output name -> value): ``saliency`` (336, 336, 3) uint8 marked SYNTHETIC, or None with
        the reason in ``saliency_note``.

    Raises:
        gr.Error: no quiz.
    """
    if not state or not state.get("questions"):
        raise Refusal("Start a quiz first.")
    position = state["position"]
    if not state["answered"] or state.get("mapped") == position:
        return {}
    FOREGROUND.wait_idle()  # faces other users are waiting for first (`ui.priority`)
    overlay, saliency_note = saliency_map(state["questions"][position], state["faces"][position])
    if state["position"] != position:  # the learner moved on while the map was drawn
        return {}
    state["mapped"] = position
    return {"saliency": overlay, "saliency_note": saliency_note}


def next_question(state: dict | None) -> dict:
    """Show the next question, or the results after the last one.

    Raises:
        gr.Error: no quiz, or the current question is not answered yet.
    """
    if not state or not state.get("questions"):
        raise Refusal("Start a quiz first.")
    if not state["answered"]:
        raise Refusal("Answer this question first (choose, rate your confidence, then Submit).")
    if state["position"] + 1 < len(state["questions"]):
        return _question_view(state, state["position"] + 1)
    return summary_view(state)


# --------------------------------------------------------------------------- layout


def _signed_in_name(request: gr.Request) -> str:
    return accounts.signed_in(request) or ""


def _wire(fn, names: tuple[str, ...] = OUTPUTS, **fixed):
    """Wrap a view-returning callback: outputs in `names` order (default `OUTPUTS`; unchanged ones skipped)
    and no stack trace. A callback with a ``request`` parameter gets Gradio's request (who is signed in) as
    a keyword."""
    wants_request = "request" in inspect.signature(fn).parameters

    # not functools.wraps: Gradio reads the wrapped signature and would pass the fixed keywords' defaults too
    def wrapper(*args):
        kwargs = dict(fixed)
        if wants_request:
            *args, kwargs["request"] = args
        try:
            view = fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception:  # noqa: BLE001 - logged in full on the server, summarised to the user
            log.exception("quiz callback failed")
            raise Refusal("The quiz hit an unexpected problem; please try again or start a new quiz.") from None
        return tuple(view.get(name, gr.skip()) for name in names)

    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    if wants_request:  # Gradio passes its request where the signature names a gr.Request, after the inputs
        params = [p for n, p in inspect.signature(fn).parameters.items() if n not in fixed and n != "request"]
        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        params = [p.replace(kind=kind) for p in params]
        params.append(inspect.Parameter("request", kind, default=None, annotation=gr.Request))
        wrapper.__signature__ = inspect.Signature(params)
        wrapper.__annotations__ = {"request": gr.Request}
    return wrapper


def build_tab(demo: gr.Blocks, render_size: int = DEFAULT_SIZE) -> None:
    """Lay out the Quiz tab inside ``demo`` and wire its events.

    Args:
        demo: the enclosing Blocks (unused: the tab needs no page-level events).
        render_size: face width and height in pixels (128 to 512).
    """
    options = [(syndrome_name(k), k) for k in quiz_lib.default_syndromes()]
    signing_in = accounts.enabled()
    # fmt: off
    with gr.Tab("Quiz"):
        state = gr.State(None, delete_callback=remove_session)
        gr.Markdown(
            "Test yourself on synthetic faces: name the syndrome, or the features a face shows. After each answer "
            "you see the answer, the features on the face with their definitions, what tells the syndrome apart "
            "from your answer, and where the classifier looked. *Practice for learning, not a clinical skill test.*"
        )
        with gr.Row(equal_height=True):
            if signing_in:  # the signed-in account's name, filled in when the page opens
                name = gr.Textbox(label="Signed in as", interactive=False, scale=1)
            else:
                name = gr.Textbox(label="Your name", max_length=60, scale=1,
                                  info="A first name or nickname; nothing else is asked or stored.")
            progress = gr.Markdown(scale=2, latex_delimiters=[])  # shows a learner name: never maths
        with gr.Row():
            mode = gr.Radio(MODE_CHOICES, value="syndrome", label="Question type")
            intensity = gr.Radio(INTENSITY_CHOICES, value=1.0, label="Feature intensity")
            difficulty = gr.Radio(DIFFICULTY_CHOICES, value="similar", label="Wrong choices drawn from")
            generator = gr.Radio(GENERATOR_CHOICES, value="phenotype", label="Faces drawn by")
        with gr.Accordion(f"Syndromes to include (all {len(options)} with drawn features)", open=False):
            syndromes = gr.CheckboxGroup(options, value=[k for _, k in options], show_label=False)
            with gr.Row():
                all_button = gr.Button("Select all", size="sm")
                none_button = gr.Button("Clear", size="sm")
        with gr.Row(equal_height=True):
            unaffected = gr.Checkbox(True, label="Also children without a syndrome (name-the-syndrome questions)")
            n_questions = gr.Slider(1, 50, value=10, step=1, label="Questions")
            n_choices = gr.Slider(2, 8, value=4, step=1, label="Choices per question")
            seed = gr.Textbox(label="Quiz seed (optional)", placeholder="empty: a new quiz",
                              info="Enter a quiz's seed to repeat it.")
        set_code = gr.Textbox(label="Quiz set code (optional)", max_length=12, visible=signing_in,
                              placeholder="e.g. K7QM2X",
                              info="A code from your educator: everyone gets the same faces, and the settings "
                                   "above are the set's.")
        note = gr.Markdown(setup_note("syndrome", "diffusion") if not runtime.generator_available() else "")
        start = gr.Button("Start quiz", variant="primary")
        status = gr.Markdown(latex_delimiters=[])
        with gr.Row(visible=False) as question_box:
            face = gr.Image(label="Synthetic face", type="filepath", format="png", height=380, interactive=False,
                            scale=1, elem_id="phenoface-quiz-face")
            with gr.Column(scale=1):
                prompt = gr.Markdown(elem_id="phenoface-quiz-prompt")
                syndrome_answer = gr.Radio([], label="Your answer", elem_id="phenoface-quiz-answer")
                feature_answer = gr.CheckboxGroup([], label="Features this face shows", visible=False)
                confidence = gr.Radio(CONFIDENCE_CHOICES, label="How sure are you? (required)",
                                      elem_id="phenoface-quiz-confidence")  # fmt: skip
                submit = gr.Button("Submit answer", variant="primary")
        with gr.Column(visible=False) as feedback_box:
            with gr.Row():
                with gr.Column(scale=3):
                    feedback = gr.Markdown()
                    features = gr.Dataframe(headers=FEATURE_COLUMNS, label="HPO features this face shows",
                                            interactive=False, wrap=True, column_widths=["15%", "25%", "60%"])
                with gr.Column(scale=2):
                    saliency = gr.Image(label="Classifier saliency (synthetic face)", height=336, interactive=False,
                                        elem_id="phenoface-quiz-saliency")
                    saliency_note = gr.Markdown()
            contrast = gr.Dataframe(label="What tells them apart (frequency: how often children with the syndrome "
                                    "have the feature, from HPO annotations)", interactive=False, wrap=True,
                                    column_widths=["25%", "35%", "20%", "20%"])
            next_button = gr.Button("Next question", variant="primary")
        with gr.Column(visible=False) as summary_box:
            summary = gr.Markdown(latex_delimiters=[])
            with gr.Row():
                per_syndrome = gr.Dataframe(label="Accuracy per syndrome", interactive=False)
                with gr.Column():
                    calibration = gr.Dataframe(label="Confidence against accuracy", interactive=False)
                    calibration_plot = gr.BarPlot(x="Confidence", y="Accuracy", y_lim=[0, 1], height=220, sort=None,
                                                  label="Fraction right at each confidence level")
            gr.Markdown("**Faces you missed** (with what you answered)")
            missed = gr.Gallery(label="Faces you missed", show_label=False, columns=5, height="auto", format="png",
                                preview=False, object_fit="contain", elem_id="phenoface-quiz-missed")
            gr.HTML("", head=MISSED_STYLE, padding=False)
            csv_button = gr.DownloadButton("Download results (CSV)")
    components = dict(
        state=state, status=status, question_box=question_box, face=face, prompt=prompt,
        syndrome_answer=syndrome_answer, feature_answer=feature_answer, confidence=confidence, submit=submit,
        feedback_box=feedback_box, feedback=feedback, features=features, contrast=contrast, saliency=saliency,
        saliency_note=saliency_note, next=next_button, summary_box=summary_box, summary=summary,
        per_syndrome=per_syndrome, calibration=calibration, calibration_plot=calibration_plot, missed=missed,
        csv=csv_button, progress=progress,
    )
    # fmt: on
    outputs = [components[n] for n in OUTPUTS]
    setup = [state, name, mode, syndromes, unaffected, n_questions, n_choices, intensity, difficulty, generator, seed,
             set_code]  # fmt: skip
    # preprocess=False: the callbacks check every value themselves (one clear sentence for a wrong-typed API value)
    started = _wire(foreground(start_quiz), size=render_size)
    start.click(started, setup, outputs, api_name="quiz_start", preprocess=False).then(
        None, None, None, js=FOCUS_QUESTION, api_name=False
    )
    answer = [state, syndrome_answer, feature_answer, confidence]
    # the map follows the feedback in an event of its own, one map at a time across all learners: the
    # classifier's gradients take both cores, and faces must go on being drawn for other users meanwhile
    # its outputs are the map and its note alone, so that only they show the map's progress: the learner can
    # read the feedback and go on meanwhile
    map_names = ("saliency", "saliency_note")
    submit.click(_wire(submit_answer), answer, outputs, api_name="quiz_answer", preprocess=False).success(
        _wire(show_map, names=map_names), [state], [components[n] for n in map_names], api_name="quiz_map",
        concurrency_id="saliency", concurrency_limit=1,
    )  # fmt: skip
    next_button.click(_wire(foreground(next_question)), [state], outputs, api_name="quiz_next").then(
        None, None, None, js=FOCUS_QUESTION, api_name=False
    )
    if signing_in:
        demo.load(_signed_in_name, None, name, api_name=False).then(learner_progress, name, progress, api_name=False)
    name.submit(learner_progress, name, progress, api_name="quiz_progress")
    name.blur(learner_progress, name, progress, api_name=False)
    for control in (mode, generator):
        control.change(setup_note, [mode, generator], note, api_name=False, queue=False)
    all_button.click(lambda: [k for _, k in options], None, syndromes, api_name=False, queue=False)
    none_button.click(lambda: [], None, syndromes, api_name=False, queue=False)
