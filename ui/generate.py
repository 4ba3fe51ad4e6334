"""The Generate tab: draw synthetic children with a syndrome, each beside the same child without it.

Callbacks here are plain functions (tested as such in ``tests/test_ui_generate.py``); they call
the phenotype engine in ``models/phenotype`` and turn its ``ValueError`` into ``gr.Error``.
No image is built here beyond the provenance mark.
"""

from __future__ import annotations

import atexit
import functools
import logging
import shutil
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

import gradio as gr
import pandas as pd

from models import provenance
from models.phenotype import catalog as catalog_lib
from models.phenotype import synthesizer
from models.phenotype.morphology import FEATURES
from models.phenotype.spec import EYE_COLOURS, HAIR_COLOURS, MAX_AGE, MAX_INTENSITY, MIN_AGE, SEXES, VIEWS, RenderSpec
from ui import notice

log = logging.getLogger(__name__)

#: Standard hex colours of the Monk Skin Tone scale, levels 1 (lightest) to 10 (darkest)
#: (Monk E. 2019, skintone.google).
MONK_HEX: tuple[str, ...] = (
    "f6ede4", "f3e7db", "f7ead0", "eadaba", "d7bd96", "a07e56", "825c43", "604134", "3a312a", "292420",
)  # fmt: skip

MAX_FACES = 8
DEFAULT_SIZE = 256  # pixels
RANDOM = "random"  # eye or hair colour drawn from the identity seed
UNAFFECTED_KEY = "unaffected"

#: Gallery captions go to the top of each face so that they never cover the SYNTHETIC mark in the
#: bottom-right corner (`models.provenance.mark_synthetic`). Injected into the page <head> by the
#: skin-tone strip, so that `build_app()` carries it however it is launched.
GALLERY_STYLE = """<style>
#phenoface-gallery .caption-label {
  top: var(--block-label-margin); bottom: auto; left: var(--block-label-margin); right: auto;
  max-width: calc(100% - 2 * var(--block-label-margin)); white-space: normal;
}
</style>"""

FEATURE_COLUMNS = ["HPO id", "Feature", "What it means", "Frequency"]
NOT_DEPICTED_COLUMNS = ["HPO id", "Feature", "Why we do not draw it"]


@functools.lru_cache(maxsize=1)
def _catalog():
    """The syndrome catalogue, loaded on first use (never at import)."""
    return catalog_lib.load_catalog()


def syndrome_choices() -> list[tuple[str, str]]:
    """Dropdown choices ``(label, key)``, the unaffected entry first.

    Labels read ``"Name (OMIM:xxxxxx)"``, the name as the catalogue gives it.
    """
    choices = []
    for syndrome in _catalog().syndromes:
        if syndrome.key == UNAFFECTED_KEY:
            label = "No syndrome (unaffected child)"
        elif syndrome.omim:
            label = f"{syndrome.name} ({syndrome.omim[0]})"
        else:
            label = syndrome.name
        choices.append((label, syndrome.key))
    return choices


def skin_tone_html(level: int | float | None = None) -> str:
    """The 10 Monk Skin Tone swatches as an HTML strip, the chosen level outlined.

    Args:
        level: chosen level, 1 to 10, or None for no outline.
    """
    cells = []
    for i, hex_colour in enumerate(MONK_HEX, start=1):
        chosen = level is not None and int(level) == i
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


def _resolve_syndrome(name: str | None):
    """Catalogue entry for a key, name or OMIM id; ``gr.Error`` if there is none."""
    if not name or not str(name).strip():
        raise gr.Error("Choose a syndrome from the list.")
    try:
        return _catalog().get(str(name).strip())
    except (KeyError, ValueError) as err:
        message = str(err).strip("'\"").removesuffix(" (see Catalog.keys())")
        end = "" if message.endswith(("?", ".")) else "."
        raise gr.Error(f"{message}{end} Choose one from the list.") from None


def _whole(value, what: str, low: int, high: int) -> int:
    """``value`` as an int in ``[low, high]``; ``gr.Error`` naming ``what`` otherwise."""
    try:
        number = float(value)
        ok = number == int(number) and low <= number <= high
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise gr.Error(f"{what} must be a whole number from {low} to {high}, got {value!r}.")
    return int(number)


def _render_marked(spec: RenderSpec):
    """Validate and render one spec; returns the sample and its image with the SYNTHETIC mark."""
    try:
        sample = synthesizer.render(synthesizer.validate_spec(spec))
    except ValueError as err:
        raise gr.Error(str(err)) from None
    return sample, provenance.mark_synthetic(sample.image)


def _frequency_text(frequency: float | None) -> str:
    return "not known" if frequency is None else f"{round(100 * frequency)}%"


def features_table(sample, syndrome) -> pd.DataFrame:
    """The HPO features a rendered child shows, with plain-language definitions.

    Args:
        sample: a `FaceSample`; its ``hpo_present`` terms are listed.
        syndrome: the catalogue entry the child was drawn from (for term frequencies).

    Returns:
        a table with `FEATURE_COLUMNS`, one row per present term, in the order of ``hpo_present``.
    """
    # A rendered feature may stand for a more specific term of the syndrome (`Term.renders_as`).
    # Where several terms render as one feature, the most frequent known one is shown.
    frequency: dict[str, float | None] = {}
    for term in syndrome.depicted_terms:
        for hpo_id in {term.hpo_id, term.renders_as}:
            known = [f for f in (frequency.get(hpo_id), term.frequency) if f is not None]
            frequency[hpo_id] = max(known) if known else None
    rows = []
    for hpo_id in sample.hpo_present:
        feature = FEATURES.get(hpo_id)
        name = feature.name if feature else _catalog().term_name(hpo_id)
        definition = feature.definition if feature else ""
        rows.append([hpo_id, name, definition, _frequency_text(frequency.get(hpo_id))])
    return pd.DataFrame(rows, columns=FEATURE_COLUMNS)


def not_depicted_table(syndrome) -> pd.DataFrame:
    """The syndrome's terms the renderer does not draw, with the reason for each."""
    rows = [[term.hpo_id, term.name, term.reason or ""] for term in syndrome.not_depicted_terms]
    return pd.DataFrame(rows, columns=NOT_DEPICTED_COLUMNS)


@functools.lru_cache(maxsize=1)
def _downloads_root() -> Path:
    """This process's folder of per-session download folders, removed when the process exits."""
    root = Path(tempfile.mkdtemp(prefix="phenoface-downloads-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def _session_dir(current: str | None) -> Path:
    """This session's folder for downloads, created on first use."""
    if current and Path(current).is_dir():
        return Path(current)
    return Path(tempfile.mkdtemp(prefix="session-", dir=_downloads_root()))


def remove_session_dir(path: str | None) -> None:
    """Delete a session's download folder (the ``gr.State`` delete callback)."""
    if path and Path(path).parent == _downloads_root():
        shutil.rmtree(path, ignore_errors=True)


def _summary(sample, syndrome, n_present_possible: int) -> str:
    spec = sample.spec
    who = notice.UNAFFECTED if syndrome.key == UNAFFECTED_KEY else notice.with_syndrome(syndrome.name)
    ids = ", ".join(syndrome.omim) if syndrome.omim else ""
    lines = [
        f"**Face 1**: {who}{f' ({ids})' if ids else ''}; {spec.age:g} years, {spec.sex}, "
        f"Monk skin tone {spec.skin_tone}, {spec.view} view, seed {spec.seed}, intensity {spec.intensity:g}"
        + (f" ({notice.EXAGGERATED})" if spec.intensity > 1 else "")
        + ".",
    ]
    if syndrome.key != UNAFFECTED_KEY:
        lines.append(
            f"This child shows {len(sample.hpo_present)} of the {n_present_possible} features of the syndrome "
            "that we can draw; another child (another seed) may show a different set."
        )
    lines.append(f"HPO release {_catalog().hpo_release}.")
    return "\n\n".join(lines)


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
    size: int = DEFAULT_SIZE,
):
    """Draw ``n_faces`` children with a syndrome, each beside the same child without it.

    Child ``i`` has identity seed ``seed + i``; its pair is the same spec at intensity 0.

    Args:
        syndrome: catalogue key, name or OMIM id (``"unaffected"`` draws single faces, no pairs).
        age: years, 0 to 18.
        sex: ``"female"`` or ``"male"``.
        skin_tone: Monk Skin Tone level, 1 to 10.
        eye_colour: one of `EYE_COLOURS` or ``"random"`` (drawn from the seed).
        hair_colour: one of `HAIR_COLOURS` or ``"random"``.
        intensity: 0 to 1.5; above 1 is exaggerated for teaching.
        n_faces: number of children, 1 to `MAX_FACES`.
        seed: identity seed of the first child, a whole number >= 0.
        view: ``"frontal"`` or ``"profile"``.
        session_dir: this session's download folder (``gr.State``), or None to create one.
        size: image width and height in pixels.

    Returns:
        gallery items ``[(image (H, W, 3) uint8, caption), ...]`` (2 per child, or 1 if unaffected),
        a Markdown summary of the first child, its features table (`FEATURE_COLUMNS`), the
        syndrome's not-depicted terms (`NOT_DEPICTED_COLUMNS`), the path of the first face as a
        PNG with metadata, and the session folder.

    Raises:
        gr.Error: on any invalid input, with a one-line message.
    """
    entry = _resolve_syndrome(syndrome)
    seed = _whole(seed, "The seed", 0, 2**31 - 1)
    n_faces = _whole(n_faces, "The number of faces", 1, MAX_FACES)
    skin_tone = _whole(skin_tone, "The skin tone (Monk level)", 1, 10)
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
    caption = notice.with_syndrome(entry.name) if affected else notice.UNAFFECTED
    if affected and base.intensity > 1:
        caption += f" ({notice.EXAGGERATED})"
    elif affected and base.intensity == 0:
        caption += f" ({notice.NOT_DRAWN})"

    folder = _session_dir(session_dir)
    # gallery faces are served as PNG files that carry the provenance metadata too, so a face saved
    # from the gallery still says it is synthetic (numpy images would be re-encoded without it)
    shown = folder / "gallery"
    shutil.rmtree(shown, ignore_errors=True)
    shown.mkdir()
    gallery, first = [], None
    for i in range(n_faces):
        spec = replace(base, seed=base.seed + i)
        sample, image = _render_marked(spec)
        first = first or (sample, image)
        gallery.append((_save_shown(image, sample, entry, shown / f"{i + 1}.png"), f"{i + 1}. {caption}"))
        if affected:
            plain_sample, plain = _render_marked(replace(spec, intensity=0.0))
            path = _save_shown(plain, plain_sample, entry, shown / f"{i + 1}_without.png")
            gallery.append((path, f"{i + 1}. {notice.WITHOUT_SYNDROME}"))

    sample, image = first
    depictable = len({term.renders_as for term in entry.depicted_terms})
    png = _save_download(image, sample, entry, folder)
    return (
        gallery,
        _summary(sample, entry, depictable),
        features_table(sample, entry),
        not_depicted_table(entry),
        str(png),
        str(folder),
    )


def _save_shown(image, sample, syndrome, path: Path) -> str:
    """Write one gallery face as a PNG with provenance metadata; returns its path."""
    provenance.save_png(image, path, _png_info(sample, syndrome))
    return str(path)


def _save_download(image, sample, syndrome, folder: Path) -> Path:
    """Write the first face as a PNG with provenance metadata, replacing the session's last one."""
    for old in folder.glob("*.png"):
        old.unlink(missing_ok=True)
    path = folder / f"phenoface_{syndrome.key}_seed{sample.spec.seed}_synthetic.png"
    provenance.save_png(image, path, _png_info(sample, syndrome))
    return path


def _png_info(sample, syndrome) -> dict:
    """PNG text metadata of a face shown or downloaded from the app."""
    spec = sample.spec
    return provenance.png_metadata(
        generator="PhenoFace app, models.phenotype.synthesizer",
        seed=spec.seed,
        spec=asdict(spec),
        hpo_release=str(_catalog().hpo_release),
        syndrome=syndrome.name,
        omim=",".join(syndrome.omim),
        hpo_present=";".join(sample.hpo_present),
        app_notice=notice.NOTICE,
    )


def _safe(fn):
    """Wrap a callback so that an unexpected error shows a message, not a stack trace."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception:  # noqa: BLE001 - logged in full on the server, summarised to the user
            log.exception("generate failed")
            raise gr.Error("Drawing the faces failed unexpectedly; please try other settings.") from None

    return wrapper


def build_tab(demo: gr.Blocks, render_size: int = DEFAULT_SIZE, generate_on_load: bool = True) -> None:
    """Lay out the Generate tab inside ``demo`` and wire its events.

    Args:
        demo: the enclosing Blocks (for the on-load example).
        render_size: image width and height in pixels (128 to 512).
        generate_on_load: draw one example when the page opens.
    """
    choices = syndrome_choices()
    default = next((key for _, key in choices if key != UNAFFECTED_KEY), UNAFFECTED_KEY)
    colour = [("chosen by the seed", RANDOM)]
    with gr.Tab("Generate"):
        session_dir = gr.State(None, delete_callback=remove_session_dir)
        with gr.Row():
            with gr.Column(scale=1, min_width=320):
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
                view = gr.Radio(list(VIEWS), value=VIEWS[0], label="View")
                button = gr.Button("Generate", variant="primary")
            with gr.Column(scale=2):
                gr.Markdown("Each child with the syndrome (left) and the same child without it (right).")
                gallery = gr.Gallery(
                    label="Faces", show_label=False,
                    columns=2, object_fit="contain", height="auto", allow_preview=True, elem_id="phenoface-gallery",
                    format="png",
                )  # fmt: skip
                summary = gr.Markdown()
                features = gr.Dataframe(
                    headers=FEATURE_COLUMNS, interactive=False, wrap=True, column_widths=["15%", "22%", "48%", "15%"],
                    label="HPO features this child (face 1) shows "
                    "(frequency: how often people with the syndrome have the feature)",
                )  # fmt: skip
                not_depicted = gr.Dataframe(
                    headers=NOT_DEPICTED_COLUMNS, label="Features of the syndrome we cannot depict in a face",
                    interactive=False, wrap=True, column_widths=["15%", "25%", "60%"],
                )  # fmt: skip
                download = gr.DownloadButton("Download PNG (face 1)")

    callback = _safe(functools.partial(generate, size=render_size))
    inputs = [syndrome, age, sex, skin_tone, eye, hair, intensity, n_faces, seed, view, session_dir]
    outputs = [gallery, summary, features, not_depicted, download, session_dir]
    button.click(callback, inputs, outputs, api_name="generate")
    skin_tone.change(skin_tone_html, skin_tone, skin_strip, api_name="skin_tone_swatches", queue=False)
    if generate_on_load:
        demo.load(callback, inputs, outputs, api_name="generate_example")
