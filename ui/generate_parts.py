"""Helpers of the Generate tab (`ui.generate`): tables, swatches, session files, the ZIP of a set, and
the two diffusion generators (the learned PhenoFace model and an operator's local pipeline).

Nothing here lays out components, and models come from ``models/`` (the operator's pipeline from
`models.generator.external`).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd

from models import provenance, runtime
from models.generator.external import load_external, prompt, run_text_pipeline
from models.phenotype import catalog as catalog_lib
from models.phenotype.morphology import FEATURES
from models.phenotype.spec import RenderSpec
from ui import notice
from ui.session import SessionFolders

#: Standard hex colours of the Monk Skin Tone scale, levels 1 (lightest) to 10 (darkest)
#: (Monk E. 2019, skintone.google).
MONK_HEX: tuple[str, ...] = (
    "f6ede4", "f3e7db", "f7ead0", "eadaba", "d7bd96", "a07e56", "825c43", "604134", "3a312a", "292420",
)  # fmt: skip

UNAFFECTED_KEY = "unaffected"
FEATURE_COLUMNS = ["HPO id", "Feature", "What it means", "Frequency"]
NOT_DEPICTED_COLUMNS = ["HPO id", "Feature", "Why we do not draw it"]
#: Columns of ``attributes.csv`` in the ZIP of a set (the first ones follow the cohort's metadata.csv).
ATTRIBUTE_COLUMNS = [
    "file", "generator", "syndrome", "omim", "age_years", "sex", "skin_tone", "intensity", "seed", "hpo_present",
]  # fmt: skip
#: Sub-folders of a session folder that hold the faces shown, in the order the ZIP lists them.
SECTIONS = ("faces", "features", "age_strip", "average")

#: Gallery captions go to the top of each face so that they never cover the SYNTHETIC mark in the
#: bottom-right corner (`models.provenance.mark_synthetic`). Injected into the page <head> by the
#: skin-tone strip, so that `build_app()` carries it however it is launched.
GALLERY_STYLE = """<style>
.phenoface-gallery .caption-label {
  top: var(--block-label-margin); bottom: auto; left: var(--block-label-margin); right: auto;
  max-width: calc(100% - 2 * var(--block-label-margin)); white-space: normal;
}
</style>"""


@functools.lru_cache(maxsize=1)
def catalog():
    """The syndrome catalogue, loaded on first use (never at import)."""
    return catalog_lib.load_catalog()


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


# --- tables -------------------------------------------------------------------------------------


def frequency_text(frequency: float | None) -> str:
    """``0.75 -> "75%"``, None -> ``"not known"``."""
    return "not known" if frequency is None else f"{round(100 * frequency)}%"


def rendered_frequencies(syndrome) -> dict[str, float | None]:
    """Frequency of each rendered feature (`Term.renders_as`) and term of a syndrome.

    Where several terms render as one feature, the most frequent known one counts.
    """
    frequency: dict[str, float | None] = {}
    for term in syndrome.depicted_terms:
        for hpo_id in {term.hpo_id, term.renders_as}:
            known = [f for f in (frequency.get(hpo_id), term.frequency) if f is not None]
            frequency[hpo_id] = max(known) if known else None
    return frequency


def _feature_row(hpo_id: str, frequency: float | None) -> list[str]:
    feature = FEATURES.get(hpo_id)
    name = feature.name if feature else catalog().term_name(hpo_id)
    return [hpo_id, name, feature.definition if feature else "", frequency_text(frequency)]


def features_table(sample, syndrome) -> pd.DataFrame:
    """The HPO features a rendered child shows, with plain-language definitions.

    Args:
        sample: a `FaceSample`; its ``hpo_present`` terms are listed.
        syndrome: the catalogue entry the child was drawn from (for term frequencies).

    Returns:
        a table with `FEATURE_COLUMNS`, one row per present term, in the order of ``hpo_present``.
    """
    frequency = rendered_frequencies(syndrome)
    rows = [_feature_row(hpo_id, frequency.get(hpo_id)) for hpo_id in sample.hpo_present]
    return pd.DataFrame(rows, columns=FEATURE_COLUMNS)


def catalogue_features_table(syndrome) -> pd.DataFrame:
    """The syndrome's depicted HPO terms from the catalogue, most frequent first (for generators
    that have no list of features per child).

    Returns:
        a table with `FEATURE_COLUMNS`, one row per term; the definition is that of the feature
        the term is drawn as (Elements of Morphology or HPO, see `models.phenotype.morphology`).
    """
    rows = []
    for term in syndrome.depicted_terms:
        row = _feature_row(term.renders_as or term.hpo_id, term.frequency)
        rows.append([term.hpo_id, term.name, row[2], row[3]])
    return pd.DataFrame(rows, columns=FEATURE_COLUMNS)


def not_depicted_table(syndrome) -> pd.DataFrame:
    """The syndrome's terms the renderer does not draw, with the reason for each."""
    rows = [[term.hpo_id, term.name, term.reason or ""] for term in syndrome.not_depicted_terms]
    return pd.DataFrame(rows, columns=NOT_DEPICTED_COLUMNS)


def feature_choices(syndrome) -> list[tuple[str, str]]:
    """Checkbox choices ``(label, HPO id)`` of the features the renderer draws for a syndrome.

    One per rendered feature, most frequent first; labels read ``"HP:0000316 Hypertelorism (45%)"``.
    """
    frequency = rendered_frequencies(syndrome)
    ids = dict.fromkeys(term.renders_as for term in syndrome.depicted_terms if term.renders_as in FEATURES)
    return [(f"{i} {FEATURES[i].name} ({frequency_text(frequency.get(i))})", i) for i in ids]


# --- session folders and files --------------------------------------------------------------------


_FOLDERS = SessionFolders("phenoface-downloads-")


def downloads_root() -> Path:
    """This process's folder of per-session download folders, removed when the process exits."""
    return _FOLDERS.root


def session_dir(current: str | None) -> Path:
    """This session's folder for downloads, created on first use."""
    return _FOLDERS.get(current)


def remove_session_dir(path: str | None) -> None:
    """Delete a session's download folder (the ``gr.State`` delete callback)."""
    _FOLDERS.remove(path)


def fresh_section(folder: Path, section: str) -> Path:
    """Empty (create) the session's sub-folder for one section of faces; returns it."""
    path = folder / section
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    return path


def attributes(generator: str, syndrome, age, sex, skin_tone, intensity, seed, hpo_present=()) -> dict:
    """One row of ``attributes.csv`` (without ``file``), stored as JSON in each PNG of a set."""
    return {
        "generator": generator,
        "syndrome": syndrome.key,
        "omim": ";".join(syndrome.omim),
        "age_years": f"{float(age):g}",
        "sex": sex,
        "skin_tone": int(skin_tone),
        "intensity": "" if intensity is None else f"{float(intensity):g}",
        "seed": "" if seed is None else int(seed),
        "hpo_present": ";".join(hpo_present),
    }


def save_face(image: np.ndarray, path: Path, info: dict) -> str:
    """Write one marked face as a PNG with its provenance metadata, atomically; returns its path."""
    provenance.save_png(image, path, info)
    return str(path)


def write_set_zip(folder: Path, name: str) -> Path:
    """Zip every face shown in a session (its `SECTIONS` sub-folders) with ``attributes.csv``.

    Each PNG keeps its provenance metadata; the CSV has one row per PNG (`ATTRIBUTE_COLUMNS`,
    read from the PNG's ``attributes`` text chunk). Older ZIPs in `folder` are removed; the new
    one is written atomically.

    Args:
        folder: the session folder.
        name: file name of the ZIP.

    Returns:
        the ZIP's path.
    """
    for old in folder.glob("*.zip"):
        old.unlink(missing_ok=True)
    rows, members = [], []
    for section in SECTIONS:
        for png in sorted((folder / section).glob("*.png")):
            meta = provenance.read_png_metadata(png)
            arcname = f"{section}/{png.name}"
            rows.append({"file": arcname, **json.loads(meta.get("attributes", "{}"))})
            members.append((png, arcname))
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=ATTRIBUTE_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = folder / name
    with provenance.atomic_output(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for png, arcname in members:
            archive.write(png, arcname, compress_type=zipfile.ZIP_STORED)  # PNGs are compressed already
        archive.writestr("attributes.csv", table.getvalue())
        archive.writestr("NOTICE.txt", f"PhenoFace. {notice.NOTICE}\n{provenance.NOTICE}.\n")
    return path


# --- generators ----------------------------------------------------------------------------------

PHENOTYPE, LEARNED, EXTERNAL = "phenotype", "learned", "external"
GENERATOR_NAMES = {PHENOTYPE: "phenotype model", LEARNED: "learned diffusion model", EXTERNAL: "external pipeline"}
DIFFUSION_STEPS, DIFFUSION_GUIDANCE, DIFFUSION_SAMPLER = 25, 4.0, "dpm++"
EXTERNAL_STEPS, EXTERNAL_GUIDANCE = 25, 7.5
SAME_SEED = "same seed, not the same child"
NO_SAME_CHILD = (
    "Feature switches and the age strip need the phenotype model: a diffusion model has no notion of "
    "'the same child', so it cannot switch one feature or age one child."
)


@dataclass
class Drawn:
    """Faces drawn by one generator, before they are packed into a `GenerateResult`."""

    gallery: list
    first: tuple  # (marked image (H, W, 3) uint8, PNG info) of face 1
    summary: str
    features: pd.DataFrame
    features_label: str
    gallery_note: str
    realised: tuple[str, ...] = ()  # features drawn on face 1 (phenotype model only)


def who(syndrome) -> str:
    """Person-first phrase for a child drawn from a catalogue entry (see `ui.notice`)."""
    return notice.UNAFFECTED if syndrome.key == UNAFFECTED_KEY else notice.with_syndrome(syndrome.name)


def generator_choices() -> list[tuple[str, str]]:
    """Radio choices ``(label, value)`` of the generators this server offers.

    The external pipeline is listed only when the operator configured one (``--external-pipeline``);
    the learned model is always listed, marked "(not installed)" when it is missing.
    """
    learned = "Learned diffusion model" + ("" if runtime.generator_available() else " (not installed)")
    choices = [("Phenotype model (rule-based)", PHENOTYPE), (learned, LEARNED)]
    external = runtime.paths().external_pipeline
    if external is not None:
        choices.append((f"External local pipeline ({Path(external).name})", EXTERNAL))
    return choices


def generator_note(choice: str | None) -> str:
    """Markdown under the generator choice: what the chosen generator does and cannot do."""
    if choice == LEARNED:
        if not runtime.generator_available():
            return "**The learned diffusion model is not installed on this server.** Use the phenotype model."
        return (
            "The learned model draws small frontal faces (profile is not available) from syndrome, age, sex "
            "and skin tone; eye and hair colour and intensity apply to the phenotype model only. " + NO_SAME_CHILD
        )
    if choice == EXTERNAL:
        return (
            "A local diffusion pipeline installed by the operator of this server, asked in words "
            '(e.g. "portrait photograph of a 6-year-old girl with Williams syndrome"). Its faces are not '
            "checked against any training images and may not match the syndrome. " + NO_SAME_CHILD
        )
    return ""


def _learned_pipeline(generator: str):
    """``(pipe, privacy index, label)`` of the learned model or of a PhenoFace external pipeline."""
    if generator == LEARNED:
        if not runtime.generator_available():
            raise gr.Error("The learned diffusion model is not installed on this server; choose the phenotype model.")
        try:
            pipe, index = runtime.generator()
        except ValueError as err:
            raise gr.Error(f"The learned diffusion model could not be loaded: {err}.") from None
        return pipe, index, GENERATOR_NAMES[LEARNED]
    _, pipe, index = _external()
    return pipe, index, f"{GENERATOR_NAMES[EXTERNAL]} (PhenoFace pipeline)"


def _draw_learned(entry, base: RenderSpec, n_faces: int, shown: Path, generator: str, steps: int) -> Drawn:
    """Learned model: face ``i`` from noise seed ``base.seed + i``; its comparison is the same noise
    with the ``unaffected`` condition (same seed, not the same child)."""
    from models.generator import sample as gen

    pipe, index, label = _learned_pipeline(generator)
    if entry.key not in pipe.class_names:
        raise gr.Error(f"The {label} was not trained on {entry.name}; choose another syndrome or the phenotype model.")
    affected = entry.key != UNAFFECTED_KEY
    compare = affected and UNAFFECTED_KEY in pipe.class_names
    seeds = [base.seed + i for i in range(n_faces)]
    classes = [entry.key] * n_faces + ([UNAFFECTED_KEY] * n_faces if compare else [])
    try:
        all_seeds = seeds * (2 if compare else 1)
        samples = gen.generate(pipe, index, classes, base.age, base.sex, base.skin_tone, all_seeds, steps,
                               DIFFUSION_GUIDANCE, DIFFUSION_SAMPLER)  # fmt: skip
    except ValueError as err:
        raise gr.Error(f"The {label} failed: {err}.") from None
    unaffected = catalog().get(UNAFFECTED_KEY)
    gallery, infos = [], []
    for j, s in enumerate(samples):
        i, plain = j % n_faces, j >= n_faces
        person = unaffected if plain else entry
        info = {
            **gen.provenance(pipe, s, steps, DIFFUSION_GUIDANCE, DIFFUSION_SAMPLER, index is not None),
            "syndrome": person.name,
            "attributes": attributes(label, person, base.age, base.sex, base.skin_tone, None, s.seed),
            "app_notice": notice.NOTICE,
        }
        image = provenance.mark_synthetic(gen.upscale(s.image, base.size))
        path = save_face(image, shown / f"{i + 1:02d}{'_without' if plain else ''}.png", info)
        caption = f"{i + 1}. without the syndrome: {SAME_SEED}" if plain else f"{i + 1}. {who(entry)}"
        gallery.append((path, caption))
        infos.append((image, info))
    if compare:  # pairs side by side, like the phenotype model's
        order = [k for i in range(n_faces) for k in (i, i + n_faces)]
        gallery, infos = [gallery[k] for k in order], [infos[k] for k in order]
    withheld = sum(len(s.withheld) for s in samples)
    resolution = pipe.unet.config.sample_size
    lines = [
        f"**Face 1** ({label}): drawn for {who(entry)}; {base.age:g} years, {base.sex}, "
        f"Monk skin tone {base.skin_tone}, noise seed {seeds[0]}.",
        f"The model draws {resolution} px faces; they are shown enlarged to {base.size} px (Lanczos filter), "
        "which adds no detail.",
    ]
    if compare:
        lines.append(
            'The model has no notion of "the same child": each right-hand face uses the same noise (the same '
            'seed) with the condition "no syndrome", so it shows another child.'
        )
    if index is None:
        lines.append("This model has no privacy index: its samples were not checked against its training images.")
    elif withheld:
        were = (
            "sample too close to a training image was"
            if withheld == 1
            else "samples too close to a training image were"
        )
        lines.append(f"{withheld} {were} withheld and redrawn.")
    else:
        lines.append("Every sample passed the memorisation filter (none was too close to a training image).")
    ignored = ["eye and hair colour", "intensity"] + (
        ["the profile view (frontal only)"] if base.view != "frontal" else []
    )
    lines.append(f"Not used by this model: {', '.join(ignored)}.")
    return Drawn(
        gallery=gallery,
        first=infos[0],
        summary="\n\n".join(lines),
        features=catalogue_features_table(entry),
        features_label=f"**Features of {entry.name} in the catalogue** (HPO; frequency: how often people with "
        "the syndrome have the feature). The model has no list of features per child: this is the syndrome's "
        "list, not what face 1 shows."
        if affected
        else "**Features**: a child without a syndrome has none to list.",
        gallery_note=f"Each face drawn for the syndrome (left) and the same noise without it (right): {SAME_SEED}."
        if compare
        else "Faces drawn by the learned model.",
    )


def _draw_external_text(pipe, entry, base: RenderSpec, n_faces: int, shown: Path) -> Drawn:
    """A text-to-image pipeline, prompted in words; comparison: same seed, prompt without the syndrome."""
    from models.generator.sample import upscale

    affected = entry.key != UNAFFECTED_KEY
    folder_name = Path(runtime.paths().external_pipeline).name
    label = f"{GENERATOR_NAMES[EXTERNAL]} ({folder_name})"
    texts = [(prompt(base.age, base.sex, base.skin_tone, entry.name if affected else None), entry, "")]
    if affected:
        texts.append((prompt(base.age, base.sex, base.skin_tone, None), catalog().get(UNAFFECTED_KEY), "_without"))
    gallery, infos = [], []
    for i in range(n_faces):
        for text, person, suffix in texts:
            try:
                raw = run_text_pipeline(pipe, text, base.seed + i, EXTERNAL_STEPS, EXTERNAL_GUIDANCE)
            except ValueError as err:
                raise gr.Error(f"{err}.") from None
            image = provenance.mark_synthetic(upscale(raw, base.size))
            info = provenance.png_metadata(
                generator=f"{label}, {type(pipe).__name__}", seed=base.seed + i, prompt=text,
                sampler=f"{EXTERNAL_STEPS} steps, guidance {EXTERNAL_GUIDANCE}", syndrome=person.name,
                attributes=attributes(label, person, base.age, base.sex, base.skin_tone, None, base.seed + i),
                memorisation_filter="not applied (external pipeline)", app_notice=notice.NOTICE,
            )  # fmt: skip
            caption = f"{i + 1}. without the syndrome: {SAME_SEED}" if suffix else f"{i + 1}. prompted: {who(entry)}"
            gallery.append((save_face(image, shown / f"{i + 1:02d}{suffix}.png", info), caption))
            infos.append((image, info))
    lines = [
        f'**Face 1** ({label}), prompt: "{texts[0][0]}"; seed {base.seed}.',
        "This pipeline was installed by the operator of this server. It was not trained by PhenoFace, its faces "
        "are not checked against any training images, and they may not show the syndrome's features at all.",
    ]
    if affected:
        lines.append(f'Each right-hand face uses the same seed with the prompt "{texts[1][0]}": {SAME_SEED}.')
    return Drawn(
        gallery=gallery,
        first=infos[0],
        summary="\n\n".join(lines),
        features=catalogue_features_table(entry),
        features_label=f"**Features of {entry.name} in the catalogue** (HPO). The pipeline was not told these "
        "features: this is the syndrome's list, not what face 1 shows."
        if affected
        else "**Features**: a child without a syndrome has none to list.",
        gallery_note=f"Left: prompted with the syndrome; right: same seed, prompt without it ({SAME_SEED})."
        if affected
        else "Faces drawn by the external pipeline.",
    )


def draw_diffusion(generator: str, entry, base: RenderSpec, n_faces: int, shown: Path, steps: int) -> Drawn:
    """Draw a set with the learned model (`LEARNED`) or the operator's pipeline (`EXTERNAL`).

    Args:
        generator: `LEARNED` or `EXTERNAL`.
        entry: the catalogue entry of the syndrome.
        base: the validated spec of face 1 (its age, sex, skin tone, seed and size are used).
        n_faces: number of faces; face ``i`` has noise seed ``base.seed + i``.
        shown: the session folder for these faces (PNG files with provenance metadata).
        steps: sampler steps of a PhenoFace pipeline.

    Raises:
        gr.Error: the generator is missing, fails to load, or does not know the syndrome.
    """
    if generator == EXTERNAL:
        kind, pipe, _ = _external()
        if kind != "phenoface":
            return _draw_external_text(pipe, entry, base, n_faces, shown)
    return _draw_learned(entry, base, n_faces, shown, generator, steps)


def _external():
    try:
        return load_external(runtime.paths().external_pipeline)
    except ValueError as err:
        raise gr.Error(f"{str(err)[:1].upper()}{str(err)[1:]}.") from None
