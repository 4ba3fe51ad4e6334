"""The Generate tab: draw synthetic children with a syndrome, each beside a comparison face.

Three generators: the rule-based phenotype model (default; each child beside the same child
without the syndrome, per-feature toggles and an age strip), the learned diffusion model (the
comparison uses the same noise with the "no syndrome" condition: same seed, not the same child)
and, when the operator started the app with ``--external-pipeline DIR``, a local diffusers
pipeline. An average portrait of the syndrome (`models.phenotype.composite`) is made on demand.

This module holds the layout, the `generate` callback and the skin-tone swatches. Callbacks are
plain functions (tested as such in ``tests/test_ui_generate.py``); they call ``models/`` and turn its
``ValueError`` into ``gr.Error``. No image is built here beyond the provenance mark. The phenotype
path and its tools are in `ui.generate_phenotype`, the diffusion path in `ui.generate_learned`, the
generator choice in `ui.generate_choice`, catalogue text and tables in `ui.generate_tables`, and
session files and the ZIP in `ui.generate_downloads`.
"""

from __future__ import annotations

import functools
from dataclasses import asdict
from typing import NamedTuple

import gradio as gr
import pandas as pd

from models import runtime
from models.faces import APP_ENGINE
from models.phenotype.engine3d import VIEWS_3D
from models.phenotype.spec import (
    ANCESTRIES,
    EYE_COLOURS,
    HAIR_COLOURS,
    MAX_AGE,
    MAX_INTENSITY,
    MIN_AGE,
    SEXES,
    VIEWS,
    RenderSpec,
)
from ui import generate_downloads as downloads
from ui.generate_choice import (
    EXTERNAL,
    GENERATOR_NAMES,
    LEARNED,
    NO_SAME_CHILD,
    PHENOTYPE,
    PHENOTYPE_3D,
    SAME_CHILD,
    generator_choices,
    generator_note,
)
from ui.generate_downloads import (
    SECTIONS,
    archive_name,
    fresh_section,
    remove_session_dir,
    save_download,
    write_set_zip,
)
from ui.generate_learned import DIFFUSION_STEPS, draw_diffusion
from ui.generate_phenotype import (
    AVERAGE_CHILDREN,
    MAX_AVERAGE_CHILDREN,
    STRIP_AGES,
    age_strip,
    average_portraits,
    draw_phenotype,
    toggle_features,
    toggles_update,
    validated,
)
from ui.generate_tables import (
    FEATURE_COLUMNS,
    NOT_DEPICTED_COLUMNS,
    UNAFFECTED,
    not_depicted_table,
    resolve_syndrome,
    syndrome_choices,
)
from ui.priority import foreground
from ui.session import Refusal, number, safe, whole

MAX_FACES = 8
DEFAULT_SIZE = 256  # pixels
RANDOM = "random"  # eye or hair colour drawn from the identity seed

#: Standard hex colours of the Monk Skin Tone scale, levels 1 (lightest) to 10 (darkest)
#: (Monk E. 2019, skintone.google).
MONK_HEX: tuple[str, ...] = (
    "f6ede4", "f3e7db", "f7ead0", "eadaba", "d7bd96", "a07e56", "825c43", "604134", "3a312a", "292420",
)  # fmt: skip

#: Gallery captions go to the top of each face so that they never cover the SYNTHETIC mark in the
#: bottom-right corner (`models.provenance.mark_synthetic`). Injected into the page <head> by the
#: skin-tone strip, so that `build_app()` carries it however it is launched.
GALLERY_STYLE = """<style>
.phenoface-gallery .caption-label {
  top: var(--block-label-margin); bottom: auto; left: var(--block-label-margin); right: auto;
  max-width: calc(100% - 2 * var(--block-label-margin)); white-space: normal;
}
</style>"""


def skin_tone_html(level: int | float | None = None) -> str:
    """The 10 Monk Skin Tone swatches as an HTML strip, the chosen level outlined.

    Args:
        level: chosen level, 1 to 10, or None for no outline.
    """
    cells = []
    for i, hex_colour in enumerate(MONK_HEX, start=1):
        chosen = isinstance(level, (int, float)) and not isinstance(level, bool) and level == i
        outline = "outline:3px solid #2563eb;outline-offset:2px;" if chosen else ""
        cells.append(
            f'<div style="display:inline-block;text-align:center;margin:0 3px;font-size:12px">'
            f'<div title="Monk {i} (#{hex_colour})" style="width:30px;height:30px;border-radius:4px;'
            f'background:#{hex_colour};border:1px solid #999;{outline}"></div>{i}</div>'
        )
    return (
        '<div aria-label="Monk Skin Tone scale, 1 lightest to 10 darkest">'
        + "".join(cells)
        + '<div style="font-size:11px;color:#666">Monk Skin Tone scale (Monk 2019), 1 lightest to 10 darkest</div>'
        "</div>"
    )


class GenerateResult(NamedTuple):
    """What `generate` returns, one field per output component, in `build_tab`'s order."""

    gallery: list  # [(PNG path, caption), ...]
    summary: str  # Markdown
    features: pd.DataFrame  # FEATURE_COLUMNS
    not_depicted: pd.DataFrame  # NOT_DEPICTED_COLUMNS
    download: str  # PNG of face 1
    session_dir: str  # gr.State
    archive: str  # ZIP of every face shown
    gallery_note: str  # Markdown above the gallery
    features_label: str  # Markdown above the features table
    toggles: dict  # gr.update of the feature checkboxes
    face: dict  # gr.State: {"generator", "spec"} of face 1
    toggled: dict  # gr.update: emptied and hidden
    strip: dict  # gr.update: emptied and hidden
    strip_button: dict  # gr.update
    average: dict  # gr.update: emptied and hidden
    tools_note: str  # Markdown: why toggles and the age strip are unavailable, if they are


def generate(
    syndrome: str,
    age: float,
    sex: str,
    skin_tone: float,
    eye_colour: str,
    hair_colour: str,
    intensity: float,
    n_faces: float,
    seed: float | None,
    view: str,
    session_dir: str | None = None,
    generator: str | None = APP_ENGINE,
    ancestry: str | None = RANDOM,
    size: int = DEFAULT_SIZE,
    steps: int = DIFFUSION_STEPS,
) -> GenerateResult:
    """Draw ``n_faces`` children with a syndrome, each beside a comparison face.

    Phenotype model: child ``i`` has identity seed ``seed + i``; its pair is the same child at
    intensity 0. Diffusion models: face ``i`` has noise seed ``seed + i``; its pair is the same seed
    without the syndrome (not the same child).

    Args:
        syndrome: catalogue key, name or OMIM id (``"unaffected"`` draws single faces, no pairs).
        age: years, 0 to 18.
        sex: ``"female"`` or ``"male"``.
        skin_tone: Monk Skin Tone level, 1 to 10.
        eye_colour: one of `EYE_COLOURS` or ``"random"`` (drawn from the seed); phenotype model only.
        hair_colour: one of `HAIR_COLOURS` or ``"random"``; phenotype model only.
        intensity: 0 to 1.5; above 1 is exaggerated for teaching; phenotype model only.
        n_faces: number of children, 1 to `MAX_FACES`.
        seed: identity (or noise) seed of the first child, a whole number >= 0.
        view: ``"frontal"``, ``"profile"`` or, for the 3D child, ``"three_quarter"`` (the diffusion models
            draw frontal faces only).
        session_dir: this session's download folder (``gr.State``), or None to create one.
        generator: `PHENOTYPE`, `PHENOTYPE_3D`, `LEARNED` or `EXTERNAL` (default: the app's engine,
            `models.faces.APP_ENGINE`).
        ancestry: for the 3D child, one of `ANCESTRIES` (MakeHuman's artistic head shapes) or ``"random"``
            (drawn from the seed); the other generators ignore it.
        size: image width and height in pixels (diffusion outputs are upsampled to it).
        steps: sampler steps of the learned model.

    Returns:
        `GenerateResult`: gallery items ``[(PNG path, caption), ...]`` (2 per child, or 1 if
        unaffected), a Markdown summary, the features table (`FEATURE_COLUMNS`; face 1's features, or
        the syndrome's catalogue list for diffusion models), the not-depicted terms
        (`NOT_DEPICTED_COLUMNS`), the PNG of face 1 and the ZIP of the set (both with metadata), the
        session folder, and updates for the feature toggles, the age strip and the average portrait.

    Raises:
        gr.Error: on any invalid input, or an unavailable generator, with a one-line message.
    """
    generator = generator or APP_ENGINE
    if (
        not isinstance(generator, str)
        or generator not in GENERATOR_NAMES
        or (generator == EXTERNAL and runtime.paths().external_pipeline is None)
    ):
        raise Refusal("Choose a generator from the list.")
    if generator == LEARNED and not runtime.generator_available():
        raise Refusal("The learned diffusion model is not installed on this server; choose the phenotype model.")
    entry = resolve_syndrome(syndrome)
    seed = whole(seed, "The seed", 0, 2**31 - 1)
    n_faces = whole(n_faces, "The number of faces", 1, MAX_FACES)
    skin_tone = whole(skin_tone, "The skin tone (Monk level)", 1, 10)
    age = number(age, "The age", 0, 18, " years")
    intensity = number(intensity, "The feature intensity", 0, 1.5)
    for value, what, allowed in (
        (sex, "The sex", SEXES),
        (view, "The view", VIEWS_3D if generator == PHENOTYPE_3D else VIEWS),
        (ancestry, "The ancestry", (None, RANDOM, *ANCESTRIES)),
        (eye_colour, "The eye colour", (None, RANDOM, *EYE_COLOURS)),
        (hair_colour, "The hair colour", (None, RANDOM, *HAIR_COLOURS)),
    ):
        if not isinstance(value, (str, type(None))) or value not in allowed:
            if value == "three_quarter":
                raise Refusal("The three-quarter view needs the phenotype model's 3D child.")
            raise Refusal(f"{what} must be one of {', '.join(a for a in allowed if a)}, not {value!r}.")
    affected = entry.key != UNAFFECTED
    base = RenderSpec(
        syndrome=entry.key,
        age=float(age),
        sex=sex,
        skin_tone=skin_tone,
        eye_colour=None if eye_colour in (None, RANDOM) else eye_colour,
        hair_colour=None if hair_colour in (None, RANDOM) else hair_colour,
        seed=seed,
        intensity=float(intensity) if affected else 0.0,
        view=view,
        size=size,
        ancestry=None if ancestry in (None, RANDOM) or generator != PHENOTYPE_3D else ancestry,
    )
    base = validated(base, generator if generator in SAME_CHILD else PHENOTYPE)

    folder = downloads.session_dir(session_dir)
    # gallery faces are served as PNG files that carry the provenance metadata too, so a face saved
    # from the gallery still says it is synthetic (numpy images would be re-encoded without it)
    for section in SECTIONS:
        fresh_section(folder, section)
    shown = folder / SECTIONS[0]
    if generator in SAME_CHILD:
        drawn = draw_phenotype(entry, base, n_faces, shown, generator)
    else:
        drawn = draw_diffusion(generator, entry, base, n_faces, shown, int(steps))

    image, info = drawn.first
    png = save_download(image, info, f"phenoface_{entry.key}_seed{seed}_synthetic.png", folder)
    archive = write_set_zip(folder, archive_name(entry.key, seed))
    phenotype = generator in SAME_CHILD
    return GenerateResult(
        gallery=drawn.gallery,
        summary=drawn.summary,
        features=drawn.features,
        not_depicted=not_depicted_table(entry),
        download=str(png),
        session_dir=str(folder),
        archive=str(archive),
        gallery_note=drawn.gallery_note,
        features_label=drawn.features_label,
        toggles=toggles_update(entry, base, drawn.realised, generator),
        face={"generator": generator, "spec": asdict(base)},
        toggled=_hidden(),
        strip=_hidden(),
        strip_button=gr.update(interactive=phenotype),
        average=_hidden(),
        tools_note="" if phenotype else NO_SAME_CHILD,
    )


def _hidden() -> dict:
    return gr.update(value=None, visible=False)


_safe = safe("Drawing the faces failed unexpectedly; please try other settings.")


def _reveal(fn):
    """Wrap a callback whose first output is a gallery: show that gallery (it starts hidden)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        first, *rest = fn(*args, **kwargs)
        return (gr.update(value=first, visible=True), *rest)

    return wrapper


AVERAGE_TEXT = (
    "The average of many synthetic children with the syndrome, each first aligned to the group's mean "
    "landmarks (the composite-face method of dysmorphology research), beside the average of the same children "
    "without the syndrome. What stays sharp is what the children share. Same age, sex and skin tone as face 1. "
    "For the 3D child it is the children's mean 3D shape, rendered once as one face."
)


def build_tab(demo: gr.Blocks, render_size: int = DEFAULT_SIZE, generate_on_load: bool = True) -> None:
    """Lay out the Generate tab inside ``demo`` and wire its events.

    The generator choice lists the learned model (marked "not installed" when missing) and, only
    when the operator set ``--external-pipeline`` (`models.runtime.paths`), the external pipeline;
    no path can be entered on the page.

    Args:
        demo: the enclosing Blocks (for the on-load example).
        render_size: image width and height in pixels (128 to 512).
        generate_on_load: draw one example when the page opens.
    """
    choices = syndrome_choices()
    default = next((key for _, key in choices if key != UNAFFECTED), UNAFFECTED)
    colour = [("chosen by the seed", RANDOM)]
    gallery_style = dict(object_fit="contain", height="auto", allow_preview=True, format="png", show_label=False)
    with gr.Tab("Generate"):
        session_dir = gr.State(None, delete_callback=remove_session_dir)
        face = gr.State(None)
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                # the app's engine (the one the classifier knows) is the default, so that Explain reads the same kind
                generator = gr.Radio(generator_choices(), value=APP_ENGINE, label="Generator")
                generator_info = gr.Markdown()
                syndrome = gr.Dropdown(
                    choices, value=default, label="Syndrome: Name (OMIM:xxxxx)", filterable=True,
                    allow_custom_value=True, info="Type to search by name, or enter an OMIM or ORPHA id.",
                )  # fmt: skip
                age = gr.Slider(MIN_AGE, MAX_AGE, value=5, step=0.5, label="Age (years)")
                sex = gr.Radio(list(SEXES), value=SEXES[0], label="Sex")
                with gr.Group():
                    skin_tone = gr.Slider(1, 10, value=3, step=1, label="Skin tone (Monk Skin Tone scale level)")
                    skin_strip = gr.HTML(skin_tone_html(3), padding=True, head=GALLERY_STYLE)
                with gr.Row():
                    eye = gr.Dropdown(colour + list(EYE_COLOURS), value=RANDOM, label="Eye colour")
                    hair = gr.Dropdown(colour + list(HAIR_COLOURS), value=RANDOM, label="Hair colour")
                intensity = gr.Slider(
                    0, MAX_INTENSITY, value=1.0, step=0.05, label="Feature intensity",
                    info="0 = the same child without the syndrome, 1 = typical, above 1 = exaggerated for teaching.",
                )  # fmt: skip
                with gr.Row():
                    n_faces = gr.Slider(1, MAX_FACES, value=2, step=1, label="Number of faces")
                    seed = gr.Number(0, label="Seed", precision=0, minimum=0)
                view = gr.Radio(
                    [(v.replace("_", "-"), v) for v in VIEWS_3D], value=VIEWS[0], label="View",
                    info="Three-quarter: the 3D child only. The diffusion models draw frontal faces only.",
                )  # fmt: skip
                ancestry = gr.Dropdown(
                    [("chosen by the seed", RANDOM)] + [(a, a) for a in ANCESTRIES], value=RANDOM,
                    label="Head shape by ancestry (3D child only)",
                    info="MakeHuman's African, Asian and European head shapes are artistic, not anthropometric norms.",
                )  # fmt: skip
                button = gr.Button("Generate", variant="primary")
            with gr.Column(scale=2):
                gallery_note = gr.Markdown(
                    "Each child with the syndrome (left) and the same child without it (right)."
                )
                gallery = gr.Gallery(
                    label="Faces", columns=2, elem_id="phenoface-gallery", elem_classes="phenoface-gallery",
                    **gallery_style,
                )  # fmt: skip
                summary = gr.Markdown()
                with gr.Row():
                    download = gr.DownloadButton("Download PNG (face 1)")
                    archive = gr.DownloadButton("Download ZIP (all faces shown, with attributes.csv)")
                features_label = gr.Markdown()
                features = gr.Dataframe(
                    headers=FEATURE_COLUMNS, interactive=False, wrap=True, column_widths=["15%", "22%", "48%", "15%"],
                    show_label=False,
                )  # fmt: skip
                not_depicted = gr.Dataframe(
                    headers=NOT_DEPICTED_COLUMNS, label="Features of the syndrome we cannot depict in a face",
                    interactive=False, wrap=True, column_widths=["15%", "25%", "60%"],
                )  # fmt: skip
                tools_note = gr.Markdown()
                with gr.Accordion("Switch face 1's features on and off", open=True):
                    toggles = gr.CheckboxGroup(label="Features of the syndrome we can draw (HPO id, name, frequency)")
                    toggled = gr.Gallery(label="Face 1, chosen features", columns=2, elem_classes="phenoface-gallery",
                                         visible=False, **gallery_style)  # fmt: skip
                    toggled_note = gr.Markdown()
                with gr.Accordion("The same child growing up", open=True):
                    strip_button = gr.Button(f"Show face 1 at {', '.join(map(str, STRIP_AGES))} years", size="md")
                    strip_style = {**gallery_style, "height": 210}  # one row of small faces
                    strip = gr.Gallery(label="Face 1 by age", columns=len(STRIP_AGES), visible=False,
                                       elem_classes="phenoface-gallery", **strip_style)  # fmt: skip
                with gr.Accordion("Average portrait of the syndrome", open=True):
                    gr.Markdown(AVERAGE_TEXT)
                    with gr.Row(equal_height=True):
                        n_average = gr.Slider(2, MAX_AVERAGE_CHILDREN, value=AVERAGE_CHILDREN, step=1,
                                              label="Children averaged", scale=2)  # fmt: skip
                        average_button = gr.Button("Make the average portrait", size="md", scale=1)
                    average = gr.Gallery(label="Average portraits", columns=2, elem_classes="phenoface-gallery",
                                         visible=False, **gallery_style)  # fmt: skip

    callback = _safe(foreground(functools.partial(generate, size=render_size)))
    inputs = [syndrome, age, sex, skin_tone, eye, hair, intensity, n_faces, seed, view, session_dir, generator,
              ancestry]  # fmt: skip
    outputs = [gallery, summary, features, not_depicted, download, session_dir, archive, gallery_note, features_label,
               toggles, face, toggled, strip, strip_button, average, tools_note]  # fmt: skip
    # preprocess=False: the callbacks check every value themselves, so a wrong-typed API value (age "five",
    # seed NaN) gets one clear sentence instead of Gradio's message-less error
    button.click(callback, inputs, outputs, api_name="generate", preprocess=False)
    generator.change(generator_note, generator, generator_info, api_name="generator_note", queue=False)
    skin_tone.change(
        skin_tone_html, skin_tone, skin_strip, api_name="skin_tone_swatches", queue=False, preprocess=False
    )
    toggles.input(
        _safe(foreground(_reveal(toggle_features))), [toggles, face, session_dir],
        [toggled, toggled_note, archive, face],
        api_name="toggle_features", trigger_mode="always_last", preprocess=False,
        concurrency_limit=1,  # two switches at once would rebuild the same session folder together
    )  # fmt: skip
    strip_button.click(
        _safe(foreground(_reveal(age_strip))), [face, session_dir], [strip, archive], api_name="age_strip"
    )
    average_button.click(
        _safe(foreground(_reveal(average_portraits))), [face, n_average, session_dir], [average, archive],
        api_name="average_portrait", preprocess=False,
    )  # fmt: skip
    if generate_on_load:
        demo.load(callback, inputs, outputs, api_name="generate_example", preprocess=False)
