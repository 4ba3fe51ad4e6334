"""The Explain tab: a saliency map of the syndrome classifier on a drawn face or an uploaded image.

For researchers and trainees. `explain_face` is the callback as a plain function (tested in
``tests/test_ui_explain.py``): it draws a face with the phenotype renderer (saved as a PNG with
its spec, so that `models.saliency.explain` can use the render's region masks and counterfactual)
or reads an upload, runs `models.saliency.explain` and the classifier, and returns an
`ExplainResult`. `explain_outputs` turns that into the values of the tab's components. This module
holds the layout and the callbacks; the words and tables are built in `ui.explain_tables`, the
pictures in `ui.explain_pictures`, and uploads and session folders are handled in `ui.explain_files`.

Privacy: an upload is read into memory and its file is deleted from Gradio's cache before the
callback returns, whatever happens; nothing derived from it is written to disk (its pictures
go to the page as inline data, not as files). Saliency shows what the model uses, not what a
clinician should look for; nothing here is for diagnosis.
"""

from __future__ import annotations

import time
from collections.abc import MutableSet
from dataclasses import replace
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

from models import provenance, runtime
from models.constants import UNAFFECTED
from models.faces import APP_ENGINE, ENGINE_MODULES, FaceRequest, draw_faces, validated
from models.phenotype.catalog import load_catalog
from models.phenotype.spec import MAX_AGE, MIN_AGE, SEXES, RenderSpec
from models.saliency import METHODS, app_settings
from ui import explain_files, notice
from ui.explain_pictures import pictures_html, top_figure
from ui.explain_tables import (
    BASELINE_NAMES,
    HPO_COLUMNS,
    METHOD_NAMES,
    REGION_COLUMNS,
    ExplainResult,
    class_label,
    hpo_table,
    region_table,
    settings_markdown,
    top_table,
)
from ui.generate_tables import syndrome_choices
from ui.priority import foreground
from ui.session import Refusal, number, safe, whole

DRAW, UPLOAD = "draw", "upload"
SOURCES = [("Draw a synthetic face", DRAW), ("Upload an image", UPLOAD)]
PREDICTED = "predicted"  # target value: the classifier's top-1 class
RENDER_SIZE = 256  # pixels

COUNTERFACTUAL_WHY = (
    "The counterfactual is the natural baseline: it is the same child drawn without the syndrome, so it differs "
    "from the face only in what the syndrome changed, and the map credits only those changes."
)
TAB_NOTICE = (
    "The classifier was trained **only on synthetic faces**. Saliency shows what the model uses, "
    "**not** what a clinician should look for. **Not for diagnosis.**"
)
UPLOAD_NOTICE = (
    "**The model was trained only on synthetic faces and has not been validated on real children.** "
    "Its output on a photograph means nothing clinically. Uploads are processed in memory and deleted "
    "from the server right after processing; they are never stored."
)


def target_choices() -> list[tuple[str, str]]:
    """Dropdown choices: the predicted class, then the configured classifier's classes (catalogue when unreadable)."""
    from models.classifier.config import ClassifierConfig

    try:
        classes = ClassifierConfig.load(runtime.paths().classifier_dir).classes
    except (OSError, ValueError, TypeError):
        classes = [key for _, key in syndrome_choices()]
    return [("Predicted syndrome (the classifier's top-1)", PREDICTED)] + [(class_label(c), c) for c in classes]


# --- the callback --------------------------------------------------------------------------------------------


def _sentence(err: Exception) -> str:
    """A model-side ValueError as one line for the page."""
    text = str(err).strip().strip("'\"")
    if text.startswith("could not read the image"):
        return "Could not read the file as an image: it may be truncated or not an image. Upload a PNG or JPEG."
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def _draw(syndrome, age, sex, skin_tone, seed, folder: Path, pair: bool = True):
    """Draw (`models.faces.draw_faces`), mark and save one face; returns the PNG path, the spec, the
    catalogue entry, the baseline (the same child without the syndrome, marked; None unless `pair`) and the
    engine's sample (its masks and HPO terms, so the explanation need not draw the face again)."""
    seed = whole(seed, "The seed", 0, 2**31 - 1)
    skin_tone = whole(skin_tone, "The skin tone (Monk level)", 1, 10)
    if age is None:
        raise Refusal("Set an age.")
    age = number(age, "The age", 0, 18, " years")  # "five" crashed the drawing with a generic message
    for value, what in ((syndrome, "syndrome"), (sex, "sex")):
        if not isinstance(value, str) or not value.strip():
            raise Refusal(f"Choose a {what} from the list (got {value!r}).")
    spec = RenderSpec(syndrome=syndrome, age=age, sex=sex, skin_tone=skin_tone, seed=seed)
    try:
        spec = validated(replace(spec, size=RENDER_SIZE), APP_ENGINE)
        entry = load_catalog().get(spec.syndrome)
    except ValueError as err:
        raise Refusal(_sentence(err)) from None
    request = FaceRequest(
        spec=spec,
        generator=APP_ENGINE,
        label=f"PhenoFace app (Explain), {ENGINE_MODULES[APP_ENGINE]}",
        metadata={"app_notice": notice.NOTICE},
        pair=pair,
        masks=True,  # its regions break the map down
    )
    # the face and, for the counterfactual baseline, the same child without the syndrome (itself, for a child
    # without one), both marked, so that the mark cancels in the difference
    faces = draw_faces(request)
    path = faces[0].save(folder / "face.png")
    return path, faces[0].spec, entry, faces[-1].image if pair else None, faces[0].sample


def explain_face(
    source: str,
    syndrome: str | None,
    age: float | None,
    sex: str,
    skin_tone: float | None,
    seed: float | None,
    upload,
    method: str,
    target: str | None,
    subtract_unaffected: bool,
    baseline: str,
    research_mode: bool,
    session_dir: str | None = None,
    uploads: MutableSet[str] | None = None,
) -> tuple[ExplainResult, str | None]:
    """Explain the classifier on a drawn face or an upload.

    Args:
        source: `DRAW` or `UPLOAD`.
        syndrome: catalogue key, name or OMIM id of the face to draw.
        age: years, 0 to 18 (drawn face).
        sex: ``"female"`` or ``"male"`` (drawn face).
        skin_tone: Monk Skin Tone level, 1 to 10 (drawn face).
        seed: identity seed, a whole number >= 0 (drawn face).
        upload: path of the uploaded image, or Gradio's file payload; read, then deleted, when
            `source` is `UPLOAD`.
        method: one of `models.saliency.METHODS`, run with `models.saliency.app_settings`.
        target: a classifier class, or `PREDICTED` (or None) for the top-1.
        subtract_unaffected: explain ``logit[target] - logit["unaffected"]``.
        baseline: ``"black"``, ``"blurred"`` or ``"counterfactual"`` (drawn faces only).
        research_mode: show probabilities for an upload.
        session_dir: this session's folder of drawn faces (``gr.State``), or None to create one.
        uploads: the paths the server received through its upload route (``Blocks.upload_file_set``);
            only those are read (`ui.explain_files.take_upload`). None outside a server.

    Returns:
        the `ExplainResult` and the session folder (None when nothing was drawn).

    Raises:
        gr.Error: bad input, no classifier, no face or several faces, or an unreadable file.
    """
    data = explain_files.take_upload(upload, uploads) if source == UPLOAD else None  # deleted first, whatever follows
    if source not in (DRAW, UPLOAD):
        raise Refusal("Choose whether to draw a synthetic face or upload an image.")
    if not isinstance(method, str) or method not in METHODS:
        raise Refusal(f"Unknown method {method!r}; choose one from the list.")
    if not isinstance(baseline, str) or baseline not in BASELINE_NAMES:
        raise Refusal(f"Unknown baseline {baseline!r}; one of {', '.join(BASELINE_NAMES)}.")
    for value, what in ((subtract_unaffected, "Subtract the unaffected logit"), (research_mode, "Research mode")):
        if not isinstance(value, bool):  # a checkbox: "yes" or None read as a choice made is not one
            raise Refusal(f"{what} must be true or false, not {value!r}.")
    if target is not None and not isinstance(target, str):
        raise Refusal(f"The class to explain must be one from the list, not {target!r}.")
    if baseline == "counterfactual" and source == UPLOAD:
        raise Refusal("The counterfactual baseline exists only for faces drawn here; choose black or blurred.")
    try:
        model = runtime.classifier()
    except (ValueError, OSError) as err:
        raise Refusal(_sentence(err)) from None
    spec = entry = cf = sample = None
    folder = None
    if source == DRAW:
        folder = explain_files.session_dir(session_dir)
        image, spec, entry, cf, sample = _draw(
            syndrome, age, sex, skin_tone, seed, folder, pair=baseline == "counterfactual"
        )
    else:
        image = data
    start = time.perf_counter()
    from models.saliency import explain

    try:
        result = explain(
            model,
            image,
            method,
            target=None if target in (None, "", PREDICTED) else target,
            contrast="unaffected" if subtract_unaffected else None,
            baseline=baseline,
            baseline_image=cf if baseline == "counterfactual" else None,
            sample=sample,
            **app_settings(method),
        )
    except ValueError as err:
        raise Refusal(_sentence(err)) from None
    seconds = time.perf_counter() - start
    synthetic = source == DRAW
    show = synthetic or bool(research_mode)
    overlay, crop = result.overlay, _upscale(result.crop, result.overlay.shape[0])
    if synthetic:
        overlay, crop = provenance.mark_synthetic(overlay), provenance.mark_synthetic(crop)
    chosen = target not in (None, "", PREDICTED)
    settings = settings_markdown(result, method, spec, entry, show, seconds, target_chosen=chosen)
    if result.warnings:
        settings = "\n\n".join(f"**Note:** {w}" for w in result.warnings) + "\n\n" + settings
    return (
        ExplainResult(
            overlay=overlay,
            crop=crop,
            synthetic=synthetic,
            settings=settings,
            regions=region_table(result.regions),
            hpo=hpo_table(result.hpo_present),
            top=top_table(model, result.crop, show),
            show_probabilities=show,
        ),
        str(folder) if folder else session_dir,
    )


def _upscale(image: np.ndarray, size: int) -> np.ndarray:
    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BICUBIC))


def explain_outputs(*args, uploads: MutableSet[str] | None = None):
    """`explain_face` as the tab's event handler: returns the component values, in `build_tab`'s order."""
    source = args[0]
    result, session_dir = explain_face(*args, uploads=uploads)
    return (
        pictures_html(result, session_dir),
        result.settings + ("" if result.synthetic else "\n\n" + UPLOAD_NOTICE),
        result.regions,
        gr.update(value=result.hpo, visible=result.synthetic),  # HPO terms are known only for drawn faces
        gr.update(value=top_figure(result.top), visible=True)
        if result.show_probabilities
        else gr.update(visible=False),
        "" if result.show_probabilities else RANKING_HIDDEN,
        None if source == UPLOAD else gr.update(),  # the upload is gone from the server: clear it
        session_dir,
    )


_safe = safe("The explanation failed unexpectedly; please try another image or method.")

#: Shown instead of the ranking for an upload outside research mode: a ranked list of syndromes for a
#: photograph of a child could be read as a diagnosis.
RANKING_HIDDEN = (
    "**The classifier's ranking is hidden for uploaded images.** The model was trained only on synthetic faces "
    "and has not been validated on real children; a list of syndromes for a photograph of a child could be "
    "mistaken for a diagnosis. Researchers can tick research mode to see it."
)


def on_source_change(source: str, baseline: str):
    """Show the inputs of the chosen source; uploads cannot use the counterfactual baseline."""
    drawn = source == DRAW
    choices = [(v, k) for k, v in BASELINE_NAMES.items() if drawn or k != "counterfactual"]
    value = baseline if drawn or baseline != "counterfactual" else "blurred"
    return gr.update(visible=drawn), gr.update(visible=not drawn), gr.update(choices=choices, value=value)


def build_tab(demo: gr.Blocks) -> None:
    """Lay out the Explain tab inside ``demo`` and wire its events.

    Args:
        demo: the enclosing Blocks, whose ``upload_file_set`` lists the files its upload route received.
    """
    choices = syndrome_choices()
    default = next((key for _, key in choices if key != UNAFFECTED), UNAFFECTED)
    with gr.Tab("Explain"):
        session_dir = gr.State(None, delete_callback=explain_files.remove_session_dir)
        gr.Markdown(
            "### Which parts of a face does the syndrome classifier use?\n" + TAB_NOTICE + " A face drawn here is "
            "marked SYNTHETIC; an uploaded image is explained in memory and deleted from the server right after "
            "processing; it is never stored."
        )
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                source = gr.Radio(SOURCES, value=DRAW, label="Face to explain")
                with gr.Group(visible=True) as draw_group:
                    syndrome = gr.Dropdown(
                        choices, value=default, label="Syndrome: Name (OMIM:xxxxx)", filterable=True
                    )
                    age = gr.Slider(MIN_AGE, MAX_AGE, value=5, step=0.5, label="Age (years)")
                    sex = gr.Radio(list(SEXES), value=SEXES[0], label="Sex")
                    skin_tone = gr.Slider(1, 10, value=4, step=1, label="Skin tone (Monk Skin Tone scale level)")
                    seed = gr.Number(0, label="Seed", precision=0, minimum=0)
                with gr.Group(visible=False) as upload_group:
                    upload = gr.Image(
                        type="filepath", sources=["upload"],
                        label="Image (explained as soon as it is uploaded, then deleted)",
                    )  # fmt: skip
                    research = gr.Checkbox(False, label="Research mode: show probabilities for this image")
                method = gr.Dropdown([(v, k) for k, v in METHOD_NAMES.items()], value=METHODS[0], label="Method")
                target = gr.Dropdown(target_choices(), value=PREDICTED, label="Class to explain", filterable=True)
                contrast = gr.Checkbox(
                    True, label="Subtract the unaffected logit",
                    info="The map then shows what makes the face look syndromic, not what makes it a face.",
                )  # fmt: skip
                baseline = gr.Radio(
                    [(v, k) for k, v in BASELINE_NAMES.items()], value="counterfactual", label="Baseline",
                    info="Used by Integrated Gradients and SmoothGrad. " + COUNTERFACTUAL_WHY,
                )  # fmt: skip
                button = gr.Button("Explain", variant="primary")
            with gr.Column(scale=2):
                pictures = gr.HTML()
                settings = gr.Markdown()
                with gr.Row():
                    regions = gr.Dataframe(
                        headers=REGION_COLUMNS, interactive=False, column_widths=["40%", "30%", "30%"],
                        label="Where the map is: share of the positive attribution per region, and that share "
                        "divided by the region's share of the area (above 1: denser than average)",
                    )  # fmt: skip
                    hpo = gr.Dataframe(
                        headers=HPO_COLUMNS, interactive=False, wrap=True, label="HPO features this drawn face shows"
                    )
                top_plot = gr.HTML(visible=False)
                ranking = gr.Markdown()

    source.change(on_source_change, [source, baseline], [draw_group, upload_group, baseline], queue=False)
    inputs = [
        source, syndrome, age, sex, skin_tone, seed, upload, method, target, contrast, baseline, research, session_dir,
    ]  # fmt: skip
    outputs = [pictures, settings, regions, hpo, top_plot, ranking, upload, session_dir]

    def on_explain(*args):
        # only files this app received through Gradio's upload route may be read (and deleted)
        return explain_outputs(*args, uploads=demo.upload_file_set)

    on_explain.__name__ = "explain_outputs"  # the upload event's API name, as before
    # preprocess=False: the callback gets the upload's file payload and reports unreadable files itself;
    # one explanation at a time, since attribution hooks the one shared classifier
    # progress, and an error, show on the message box alone: Gradio otherwise stamps "Error" on every output
    shown_on = {"show_progress_on": settings}
    explained = _safe(foreground(on_explain))
    button.click(explained, inputs, outputs, api_name="explain", preprocess=False, concurrency_limit=1, **shown_on)
    # an upload is explained (and so deleted) as soon as it arrives, so no file waits on the server for a
    # click that may never come
    upload.upload(explained, inputs, outputs, preprocess=False, concurrency_limit=1, **shown_on)
