"""The Generate tab: draw synthetic children with a syndrome, each beside a comparison face.

Three generators: the rule-based phenotype model (default; each child beside the same child
without the syndrome, per-feature toggles and an age strip), the learned diffusion model (the
comparison uses the same noise with the "no syndrome" condition: same seed, not the same child)
and, when the operator started the app with ``--external-pipeline DIR``, a local diffusers
pipeline. An average portrait of the syndrome (`models.phenotype.composite`) is made on demand.

Callbacks here are plain functions (tested as such in ``tests/test_ui_generate.py``); they call
``models/`` and turn its ``ValueError`` into ``gr.Error``. No image is built here beyond the
provenance mark. Helpers without components live in `ui.generate_parts`.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import asdict, replace
from pathlib import Path
from typing import NamedTuple

import gradio as gr
import pandas as pd

from models import provenance, runtime
from models.phenotype import synthesizer
from models.phenotype.composite import average_portrait
from models.phenotype.morphology import FEATURES
from models.phenotype.spec import EYE_COLOURS, HAIR_COLOURS, MAX_AGE, MAX_INTENSITY, MIN_AGE, SEXES, VIEWS, RenderSpec
from ui import generate_parts as parts
from ui import notice
from ui.generate_parts import (  # noqa: F401 - FEATURE_COLUMNS, MONK_HEX etc. are part of this module's interface
    DIFFUSION_STEPS,
    EXTERNAL,
    FEATURE_COLUMNS,
    GALLERY_STYLE,
    GENERATOR_NAMES,
    LEARNED,
    MONK_HEX,
    NO_SAME_CHILD,
    NOT_DEPICTED_COLUMNS,
    PHENOTYPE,
    SAME_SEED,
    SECTIONS,
    UNAFFECTED_KEY,
    Drawn,
    attributes,
    catalog,
    feature_choices,
    features_table,
    fresh_section,
    generator_choices,
    generator_note,
    not_depicted_table,
    remove_session_dir,
    save_face,
    skin_tone_html,
    who,
    write_set_zip,
)
from ui.session import safe, whole

log = logging.getLogger(__name__)

MAX_FACES = 8
DEFAULT_SIZE = 256  # pixels
RANDOM = "random"  # eye or hair colour drawn from the identity seed
STRIP_AGES = (1, 4, 8, 12, 16)  # years
AVERAGE_CHILDREN = 12  # default number of children in an average portrait
MAX_AVERAGE_CHILDREN = 24


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


def syndrome_choices() -> list[tuple[str, str]]:
    """Dropdown choices ``(label, key)``, the unaffected entry first.

    Labels read ``"Name (OMIM:xxxxxx)"``, the name as the catalogue gives it.
    """
    choices = []
    for syndrome in catalog().syndromes:
        if syndrome.key == UNAFFECTED_KEY:
            label = "No syndrome (unaffected child)"
        elif syndrome.omim:
            label = f"{syndrome.name} ({syndrome.omim[0]})"
        else:
            label = syndrome.name
        choices.append((label, syndrome.key))
    return choices


def _resolve_syndrome(name: str | None):
    """Catalogue entry for a key, name or OMIM id; ``gr.Error`` if there is none."""
    if not name or not str(name).strip():
        raise gr.Error("Choose a syndrome from the list.")
    try:
        return catalog().get(str(name).strip())
    except (KeyError, ValueError) as err:
        message = str(err).strip("'\"").removesuffix(" (see Catalog.keys())")
        end = "" if message.endswith(("?", ".")) else "."
        raise gr.Error(f"{message}{end} Choose one from the list.") from None


def _validated(spec: RenderSpec) -> RenderSpec:
    try:
        return synthesizer.validate_spec(spec)
    except ValueError as err:
        raise gr.Error(str(err)) from None


def _render_marked(spec: RenderSpec):
    """Validate and render one spec; returns the sample and its image with the SYNTHETIC mark."""
    try:
        sample = synthesizer.render(_validated(spec))
    except ValueError as err:
        raise gr.Error(str(err)) from None
    return sample, provenance.mark_synthetic(sample.image)


def _summary(sample, syndrome, n_present_possible: int) -> str:
    spec = sample.spec
    ids = ", ".join(syndrome.omim) if syndrome.omim else ""
    lines = [
        f"**Face 1**: {who(syndrome)}{f' ({ids})' if ids else ''}; {spec.age:g} years, {spec.sex}, "
        f"Monk skin tone {spec.skin_tone}, {spec.view} view, seed {spec.seed}, intensity {spec.intensity:g}"
        + (f" ({notice.EXAGGERATED})" if spec.intensity > 1 else "")
        + ".",
    ]
    if syndrome.key != UNAFFECTED_KEY:
        lines.append(
            f"This child shows {len(sample.hpo_present)} of the {n_present_possible} features of the syndrome "
            "that we can draw; another child (another seed) may show a different set."
        )
    lines.append(f"HPO release {catalog().hpo_release}.")
    return "\n\n".join(lines)


def _png_info(sample, syndrome, generator: str = GENERATOR_NAMES[PHENOTYPE]) -> dict:
    """PNG text metadata of a phenotype-model face shown or downloaded from the app."""
    spec = sample.spec
    row = attributes(generator, syndrome, spec.age, spec.sex, spec.skin_tone, spec.intensity, spec.seed,
                     sample.hpo_present)  # fmt: skip
    return provenance.png_metadata(
        generator="PhenoFace app, models.phenotype.synthesizer",
        seed=spec.seed,
        spec=asdict(spec),
        hpo_release=str(catalog().hpo_release),
        syndrome=syndrome.name,
        omim=",".join(syndrome.omim),
        hpo_present=";".join(sample.hpo_present),
        hpo_realised=";".join(sample.hpo_realised),
        attributes=row,
        app_notice=notice.NOTICE,
    )


def _draw_phenotype(entry, base: RenderSpec, n_faces: int, shown: Path) -> Drawn:
    """Child ``i`` has identity seed ``base.seed + i``; its pair is the same spec at intensity 0."""
    affected = entry.key != UNAFFECTED_KEY
    caption = who(entry)
    if affected and base.intensity > 1:
        caption += f" ({notice.EXAGGERATED})"
    elif affected and base.intensity == 0:
        caption += f" ({notice.NOT_DRAWN})"
    gallery, first = [], None
    for i in range(n_faces):
        spec = replace(base, seed=base.seed + i)
        sample, image = _render_marked(spec)
        first = first or (sample, image)
        gallery.append((save_face(image, shown / f"{i + 1:02d}.png", _png_info(sample, entry)), f"{i + 1}. {caption}"))
        if affected:
            plain_sample, plain = _render_marked(replace(spec, intensity=0.0))
            path = save_face(plain, shown / f"{i + 1:02d}_without.png", _png_info(plain_sample, entry))
            gallery.append((path, f"{i + 1}. {notice.WITHOUT_SYNDROME}"))
    sample, image = first
    depictable = len({term.renders_as for term in entry.depicted_terms})
    return Drawn(
        gallery=gallery,
        first=(image, _png_info(sample, entry)),
        summary=_summary(sample, entry, depictable),
        features=features_table(sample, entry),
        features_label="**HPO features this child (face 1) shows** "
        "(frequency: how often people with the syndrome have the feature)",
        gallery_note="Each child with the syndrome (left) and the same child without it (right)."
        if affected
        else "Children without a syndrome.",
        realised=sample.hpo_realised,
    )


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
    generator: str | None = PHENOTYPE,
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
        view: ``"frontal"`` or ``"profile"`` (the diffusion models draw frontal faces only).
        session_dir: this session's download folder (``gr.State``), or None to create one.
        generator: `PHENOTYPE`, `LEARNED` or `EXTERNAL`.
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
    generator = generator or PHENOTYPE
    if generator not in GENERATOR_NAMES or (generator == EXTERNAL and runtime.paths().external_pipeline is None):
        raise gr.Error("Choose a generator from the list.")
    if generator == LEARNED and not runtime.generator_available():
        raise gr.Error("The learned diffusion model is not installed on this server; choose the phenotype model.")
    entry = _resolve_syndrome(syndrome)
    seed = whole(seed, "The seed", 0, 2**31 - 1)
    n_faces = whole(n_faces, "The number of faces", 1, MAX_FACES)
    skin_tone = whole(skin_tone, "The skin tone (Monk level)", 1, 10)
    if age is None or intensity is None:
        raise gr.Error("Set an age and a feature intensity.")
    affected = entry.key != UNAFFECTED_KEY
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
    )
    base = _validated(base)

    folder = parts.session_dir(session_dir)
    # gallery faces are served as PNG files that carry the provenance metadata too, so a face saved
    # from the gallery still says it is synthetic (numpy images would be re-encoded without it)
    for section in SECTIONS:
        fresh_section(folder, section)
    shown = folder / SECTIONS[0]
    if generator == PHENOTYPE:
        drawn = _draw_phenotype(entry, base, n_faces, shown)
    else:
        drawn = parts.draw_diffusion(generator, entry, base, n_faces, shown, int(steps))

    image, info = drawn.first
    png = _save_download(image, info, f"phenoface_{entry.key}_seed{seed}_synthetic.png", folder)
    archive = write_set_zip(folder, _archive_name(entry.key, seed))
    phenotype = generator == PHENOTYPE
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
        toggles=_toggles_update(entry, base, drawn.realised, phenotype),
        face={"generator": generator, "spec": asdict(base)},
        toggled=_hidden(),
        strip=_hidden(),
        strip_button=gr.update(interactive=phenotype),
        average=_hidden(),
        tools_note="" if phenotype else NO_SAME_CHILD,
    )


def _hidden() -> dict:
    return gr.update(value=None, visible=False)


def _archive_name(key: str, seed: int) -> str:
    return f"phenoface_{key}_seed{seed}_set.zip"


def _toggles_update(entry, base: RenderSpec, realised: tuple[str, ...], phenotype: bool) -> dict:
    """The feature checkboxes for face 1: the syndrome's drawable features, ticked where drawn."""
    if not phenotype:
        return gr.update(choices=[], value=[], interactive=False, info="Not available: this needs the same child.")
    if entry.key == UNAFFECTED_KEY:
        return gr.update(choices=[], value=[], interactive=False, info="A child without a syndrome has none.")
    if base.intensity == 0:
        return gr.update(
            choices=[], value=[], interactive=False, info="Intensity is 0: no feature is drawn. Raise it and generate."
        )
    return gr.update(
        choices=feature_choices(entry),
        value=list(realised),
        interactive=True,
        info="Ticked: the features drawn on face 1, including some too mild to count as present. "
        "Tick or untick to redraw this child.",
    )


def _save_download(image, info: dict, name: str, folder: Path) -> Path:
    """Write the first face as a PNG with provenance metadata, replacing the session's last one."""
    for old in folder.glob("*.png"):
        old.unlink(missing_ok=True)
    return provenance.save_png(image, folder / name, info)


def _face_spec(face: dict | None, folder: str | None, what: str) -> tuple[RenderSpec, Path]:
    """Face 1's spec and the session folder from the tab's state; ``gr.Error`` when there is none."""
    if not face or not folder or not Path(folder).is_dir():
        raise gr.Error("Click Generate first.")
    if face.get("generator") != PHENOTYPE and what != "average":
        raise gr.Error(NO_SAME_CHILD)
    spec = dict(face["spec"])
    if spec.get("features") is not None:
        spec["features"] = tuple(spec["features"])
    return RenderSpec(**spec), Path(folder)


def toggle_features(selected: list[str] | None, face: dict | None, session_dir: str | None):
    """Redraw face 1 with exactly the ticked features, beside the same child without the syndrome.

    Args:
        selected: HPO ids of the features to draw (the renderer refuses contradictory pairs, such as
            hypertelorism with hypotelorism, with a one-line message).
        face: the tab's face-1 state from `generate`.
        session_dir: the session folder.

    Returns:
        gallery items (2), a Markdown note on what is drawn and present, the ZIP path, and the
        updated face state (later age strips use these features).

    Raises:
        gr.Error: no face generated yet, a diffusion model's face, or contradictory features.
    """
    spec, folder = _face_spec(face, session_dir, "features")
    entry = _resolve_syndrome(spec.syndrome)
    allowed = {hpo_id for _, hpo_id in feature_choices(entry)}
    other = [f for f in selected or () if f not in allowed]
    if other:
        raise gr.Error(f"{other[0]} is not one of the features of {entry.name} that we draw.")
    spec = replace(spec, features=tuple(selected or ()))
    sample, image = _render_marked(spec)
    plain_sample, plain = _render_marked(replace(spec, intensity=0.0))
    out = fresh_section(folder, "features")
    gallery = [
        (save_face(image, out / "face1_chosen.png", _png_info(sample, entry)), f"1. {who(entry)}: chosen features"),
        (save_face(plain, out / "face1_without.png", _png_info(plain_sample, entry)), f"1. {notice.WITHOUT_SYNDROME}"),
    ]
    if not spec.features:
        note = "No feature ticked: face 1 is drawn without any of the syndrome's features."
    else:
        mild = [f for f in sample.hpo_realised if f not in sample.hpo_present]
        note = (
            f"Face 1 drawn with {len(sample.hpo_realised)} feature(s); "
            f"{len(sample.hpo_present)} pass their definition's threshold."
        )
        if mild:
            names = ", ".join(f"{FEATURES[f].name} ({f})" for f in mild)
            note += f" Too mild on this child to count as present: {names}."
    archive = write_set_zip(folder, _archive_name(entry.key, spec.seed))
    return gallery, note, str(archive), {**face, "spec": asdict(spec)}


def age_strip(face: dict | None, session_dir: str | None):
    """The same child (face 1, with any chosen features) at `STRIP_AGES` years.

    Returns:
        gallery items (5, captions with ages) and the ZIP path.

    Raises:
        gr.Error: no face generated yet, or a diffusion model's face.
    """
    spec, folder = _face_spec(face, session_dir, "age strip")
    entry = _resolve_syndrome(spec.syndrome)
    out = fresh_section(folder, "age_strip")
    gallery = []
    for age in STRIP_AGES:
        sample, image = _render_marked(replace(spec, age=float(age)))
        unit = "year" if age == 1 else "years"
        gallery.append((save_face(image, out / f"age{age:02d}.png", _png_info(sample, entry)), f"{age} {unit}"))
    return gallery, str(write_set_zip(folder, _archive_name(entry.key, spec.seed)))


def average_portraits(face: dict | None, n_children: float, session_dir: str | None):
    """Average portrait of ``n_children`` synthetic children with the syndrome (face 1's age, sex,
    skin tone, colours and intensity; identity seeds from face 1's on), beside the average of the same
    children without it (`models.phenotype.composite.average_portrait`).

    Returns:
        gallery items (2, or 1 for children without a syndrome) and the ZIP path.

    Raises:
        gr.Error: no face generated yet, or a bad number of children.
    """
    spec, folder = _face_spec(face, session_dir, "average")
    n = whole(n_children, "The number of children", 2, MAX_AVERAGE_CHILDREN)
    entry = _resolve_syndrome(spec.syndrome)
    affected = entry.key != UNAFFECTED_KEY
    out = fresh_section(folder, "average")
    label = f"{GENERATOR_NAMES[PHENOTYPE]}, average portrait"
    gallery = []
    for intensity in (spec.intensity, 0.0) if affected else (0.0,):
        try:
            image = average_portrait(entry.key, spec.age, spec.sex, spec.skin_tone, n, spec.seed, spec.size,
                                     intensity, eye_colour=spec.eye_colour, hair_colour=spec.hair_colour,
                                     view=spec.view)  # fmt: skip
        except ValueError as err:
            raise gr.Error(str(err)) from None
        plain = affected and intensity == 0.0
        if plain:
            caption = f"average of the same {n} synthetic children without the syndrome"
        else:
            caption = f"average of {n} synthetic children {who(entry).removeprefix('a child ')}"
        info = provenance.png_metadata(
            generator=f"PhenoFace app, models.phenotype.composite (average of {n} renders)",
            seed=spec.seed, spec=asdict(replace(spec, intensity=intensity)), hpo_release=str(catalog().hpo_release),
            syndrome=entry.name, children=n, method="similarity-aligned pixel average",
            attributes=attributes(label, entry, spec.age, spec.sex, spec.skin_tone, intensity, spec.seed),
            app_notice=notice.NOTICE,
        )  # fmt: skip
        name = "average_without.png" if plain else "average.png"
        gallery.append((save_face(provenance.mark_synthetic(image), out / name, info), caption))
    return gallery, str(write_set_zip(folder, _archive_name(entry.key, spec.seed)))


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
    "without the syndrome. What stays sharp is what the children share. Same age, sex and skin tone as face 1."
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
    default = next((key for _, key in choices if key != UNAFFECTED_KEY), UNAFFECTED_KEY)
    colour = [("chosen by the seed", RANDOM)]
    gallery_style = dict(object_fit="contain", height="auto", allow_preview=True, format="png", show_label=False)
    with gr.Tab("Generate"):
        session_dir = gr.State(None, delete_callback=remove_session_dir)
        face = gr.State(None)
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
                generator = gr.Radio(generator_choices(), value=PHENOTYPE, label="Generator")
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
                    list(VIEWS), value=VIEWS[0], label="View", info="The diffusion models draw frontal faces only."
                )
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

    callback = _safe(functools.partial(generate, size=render_size))
    inputs = [syndrome, age, sex, skin_tone, eye, hair, intensity, n_faces, seed, view, session_dir, generator]
    outputs = [gallery, summary, features, not_depicted, download, session_dir, archive, gallery_note, features_label,
               toggles, face, toggled, strip, strip_button, average, tools_note]  # fmt: skip
    button.click(callback, inputs, outputs, api_name="generate")
    generator.change(generator_note, generator, generator_info, api_name="generator_note", queue=False)
    skin_tone.change(skin_tone_html, skin_tone, skin_strip, api_name="skin_tone_swatches", queue=False)
    toggles.input(
        _safe(_reveal(toggle_features)), [toggles, face, session_dir], [toggled, toggled_note, archive, face],
        api_name="toggle_features", trigger_mode="always_last",
        concurrency_limit=1,  # two switches at once would rebuild the same session folder together
    )  # fmt: skip
    strip_button.click(_safe(_reveal(age_strip)), [face, session_dir], [strip, archive], api_name="age_strip")
    average_button.click(
        _safe(_reveal(average_portraits)), [face, n_average, session_dir], [average, archive],
        api_name="average_portrait",
    )  # fmt: skip
    if generate_on_load:
        demo.load(callback, inputs, outputs, api_name="generate_example")
