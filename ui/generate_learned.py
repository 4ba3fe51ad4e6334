"""The Generate tab's diffusion path: sets drawn by the learned PhenoFace diffusion model, or by a
local diffusers pipeline the operator installed (``--external-pipeline``).

Face ``i`` has noise seed ``seed + i``; its comparison face is the same noise without the syndrome
(same seed, not the same child). Each face is upscaled to the display size, marked SYNTHETIC and
saved with its provenance metadata; samples of the learned model pass its memorisation filter. The
pipelines come from ``models/`` (`models.runtime.generator`, `models.generator.external`), whose
``ValueError`` becomes a one-line ``gr.Error``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from models import provenance, runtime
from models.constants import UNAFFECTED
from models.faces import DIFFUSION_SAMPLING, EXTERNAL_SAMPLING, EXTERNAL_TEXT, FaceRequest, draw_faces
from models.faces import LEARNED as FACE_LEARNED
from models.generator.external import load_external
from models.phenotype.spec import RenderSpec
from ui import notice
from ui.generate_choice import EXTERNAL, GENERATOR_NAMES, LEARNED, SAME_SEED, Drawn
from ui.generate_downloads import attributes, save_face
from ui.generate_tables import catalog, catalogue_features_table, terms_table, who
from ui.session import Refusal

DIFFUSION_STEPS = DIFFUSION_SAMPLING.steps
HPO_DRAWN_LABEL = (
    "**HPO features face 1 was drawn with** (chosen for this child by the phenotype engine from the "
    "syndrome's frequencies, and given to the model with the syndrome; the model may draw some of them "
    "faintly or not at all)"
)


def _learned_pipeline(generator: str):
    """``(pipe, label)`` of the learned model or of a PhenoFace external pipeline."""
    if generator == LEARNED:
        if not runtime.generator_available():
            raise Refusal("The learned diffusion model is not installed on this server; choose the phenotype model.")
        try:
            pipe = runtime.generator()
        except ValueError as err:
            raise Refusal(f"The learned diffusion model could not be loaded: {err}.") from None
        return pipe, GENERATOR_NAMES[LEARNED]
    _, pipe = _external()
    return pipe, f"{GENERATOR_NAMES[EXTERNAL]} (PhenoFace pipeline)"


def _draw_learned(entry, base: RenderSpec, n_faces: int, shown: Path, generator: str, steps: int) -> Drawn:
    """Learned model: face ``i`` from noise seed ``base.seed + i``; its comparison is the same noise
    with the ``unaffected`` condition (same seed, not the same child)."""
    pipe, label = _learned_pipeline(generator)
    if entry.key not in pipe.class_names:
        raise Refusal(f"The {label} was not trained on {entry.name}; choose another syndrome or the phenotype model.")
    affected = entry.key != UNAFFECTED
    compare = affected and UNAFFECTED in pipe.class_names
    seeds = [base.seed + i for i in range(n_faces)]
    request = FaceRequest(
        spec=base, n_faces=n_faces, generator=FACE_LEARNED, pipeline=pipe,
        sampling=replace(DIFFUSION_SAMPLING, steps=steps), metadata={"app_notice": notice.NOTICE},
    )  # fmt: skip
    try:
        faces = draw_faces(request)
    except ValueError as err:
        raise Refusal(f"The {label} failed: {err}.") from None
    unaffected = catalog().get(UNAFFECTED)
    gallery, infos = [], []
    for face in faces:
        person = unaffected if face.without else entry
        row = attributes(label, person, base.age, base.sex, base.skin_tone, None, face.seed)
        info = provenance.add_text(face.info, attributes=row)
        path = save_face(face.image, shown / f"{face.child + 1:02d}{'_without' if face.without else ''}.png", info)
        caption = (
            f"{face.child + 1}. without the syndrome: {SAME_SEED}"
            if face.without
            else f"{face.child + 1}. {who(entry)}"
        )
        gallery.append((path, caption))
        infos.append((face.image, info))
    withheld = sum(len(face.withheld) for face in faces)
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
    if pipe.privacy_checker is None:
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
    terms = faces[0].hpo_terms  # only a generator conditioned on HPO features has them
    listed = terms is not None and affected
    return Drawn(
        gallery=gallery,
        first=infos[0],
        summary="\n\n".join(lines),
        features=terms_table(terms, entry) if listed else catalogue_features_table(entry),
        features_label=HPO_DRAWN_LABEL
        if listed
        else catalogue_label(
            entry,
            affected,
            "(HPO; frequency: how often people with the syndrome have the feature). The model has "
            "no list of features per child",
        ),
        gallery_note=f"Each face drawn for the syndrome (left) and the same noise without it (right): {SAME_SEED}."
        if compare
        else "Faces drawn by the learned model.",
    )


def catalogue_label(entry, affected: bool, why: str) -> str:
    """The caption of the catalogue's feature table under faces a learned model drew: `why` says why the
    faces' own features cannot be listed (Markdown)."""
    if not affected:
        return "**Features**: a child without a syndrome has none to list."
    return f"**Features of {entry.name} in the catalogue** {why}: this is the syndrome's list, not what face 1 shows."


def _draw_external_text(pipe, entry, base: RenderSpec, n_faces: int, shown: Path) -> Drawn:
    """A text-to-image pipeline, prompted in words; comparison: same seed, prompt without the syndrome."""
    affected = entry.key != UNAFFECTED
    folder_name = Path(runtime.paths().external_pipeline).name
    label = f"{GENERATOR_NAMES[EXTERNAL]} ({folder_name})"
    request = FaceRequest(
        spec=base, n_faces=n_faces, generator=EXTERNAL_TEXT, pipeline=pipe, sampling=EXTERNAL_SAMPLING,
        label=f"{label}, {type(pipe).__name__}", metadata={"app_notice": notice.NOTICE},
    )  # fmt: skip
    try:
        faces = draw_faces(request)
    except ValueError as err:
        raise Refusal(f"{err}.") from None
    gallery, infos = [], []
    for face in faces:
        person = catalog().get(UNAFFECTED) if face.without else entry
        row = attributes(label, person, base.age, base.sex, base.skin_tone, None, face.seed)
        info = provenance.add_text(face.info, attributes=row)
        suffix = "_without" if face.without else ""
        caption = f"without the syndrome: {SAME_SEED}" if face.without else f"prompted: {who(entry)}"
        gallery.append(
            (save_face(face.image, shown / f"{face.child + 1:02d}{suffix}.png", info), f"{face.child + 1}. {caption}")
        )
        infos.append((face.image, info))
    texts = [faces[0].info["prompt"]] + ([faces[1].info["prompt"]] if affected else [])
    lines = [
        f'**Face 1** ({label}), prompt: "{texts[0]}"; seed {base.seed}.',
        "This pipeline was installed by the operator of this server. It was not trained by PhenoFace, its faces "
        "are not checked against any training images, and they may not show the syndrome's features at all.",
    ]
    if affected:
        lines.append(f'Each right-hand face uses the same seed with the prompt "{texts[1]}": {SAME_SEED}.')
    return Drawn(
        gallery=gallery,
        first=infos[0],
        summary="\n\n".join(lines),
        features=catalogue_features_table(entry),
        features_label=catalogue_label(entry, affected, "(HPO). The pipeline was not told these features"),
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
        kind, pipe = _external()
        if kind != "phenoface":
            return _draw_external_text(pipe, entry, base, n_faces, shown)
    return _draw_learned(entry, base, n_faces, shown, generator, steps)


def _external():
    try:
        return load_external(runtime.paths().external_pipeline)
    except ValueError as err:
        raise Refusal(f"{str(err)[:1].upper()}{str(err)[1:]}.") from None
