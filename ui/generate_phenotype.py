"""The Generate tab's phenotype-model path: a set of children drawn by the rule-based renderer, each
beside the same child without the syndrome, and the tools that need "the same child": switching face
1's features on and off, the same child at several ages, and the average portrait of the syndrome.

Faces come from `models.phenotype.synthesizer` and `models.phenotype.composite`, marked SYNTHETIC and
saved with their spec and provenance metadata; a ``ValueError`` from ``models/`` becomes a one-line
``gr.Error``. The tools read face 1 from the tab's ``gr.State`` (``{"generator", "spec"}``).
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

import gradio as gr

from models import provenance
from models.constants import UNAFFECTED
from models.faces import ENGINE_MODULES, Face, FaceRequest, draw_faces
from models.faces import validated as faces_validated
from models.phenotype import engine3d
from models.phenotype.composite import average_portrait
from models.phenotype.morphology import FEATURES
from models.phenotype.spec import RenderSpec
from ui import notice
from ui.generate_choice import GENERATOR_NAMES, NO_SAME_CHILD, PHENOTYPE, PHENOTYPE_3D, SAME_CHILD, Drawn
from ui.generate_downloads import archive_name, attributes, fresh_section, save_face, write_set_zip
from ui.generate_tables import catalog, feature_choices, features_table, resolve_syndrome, who
from ui.session import Refusal, texts, whole

#: the PNGs' "generator" text, per phenotype engine
APP_GENERATOR = {engine: f"PhenoFace app, {module}" for engine, module in ENGINE_MODULES.items()}
STRIP_AGES = (1, 4, 8, 12, 16)  # years
AVERAGE_CHILDREN = 12  # default number of children in an average portrait
MAX_AVERAGE_CHILDREN = 24


def validated(spec: RenderSpec, generator: str = PHENOTYPE) -> RenderSpec:
    """`models.faces.validated` (the engine's own checks), failing with ``gr.Error`` (one line).

    Returns:
        the spec with its values checked and normalised.

    Raises:
        gr.Error: a value out of range or unknown (age, sex, skin tone, colours, view, size, features).
    """
    try:
        return faces_validated(spec, generator)
    except ValueError as err:
        raise Refusal(str(err)) from None


def _draw(spec: RenderSpec, n_faces: int = 1, pair: bool = False, generator: str = PHENOTYPE) -> list[Face]:
    """`models.faces.draw_faces` with a phenotype engine, failing with ``gr.Error`` (one line)."""
    request = FaceRequest(spec=validated(spec, generator), n_faces=n_faces, pair=pair, generator=generator,
                          label=APP_GENERATOR[generator])  # fmt: skip
    try:
        return draw_faces(request)
    except ValueError as err:
        raise Refusal(str(err)) from None


def _summary(sample, syndrome, n_present_possible: int) -> str:
    spec = sample.spec
    ids = ", ".join(syndrome.omim) if syndrome.omim else ""
    lines = [
        f"**Face 1**: {who(syndrome)}{f' ({ids})' if ids else ''}; {spec.age:g} years, {spec.sex}, "
        f"Monk skin tone {spec.skin_tone}, "
        + (f"{spec.ancestry} head shape (MakeHuman's, artistic), " if spec.ancestry else "")
        + f"{spec.view.replace('_', '-')} view, seed {spec.seed}, intensity {spec.intensity:g}"
        + (f" ({notice.EXAGGERATED})" if spec.intensity > 1 else "")
        + ".",
    ]
    if syndrome.key != UNAFFECTED:
        lines.append(
            f"This child shows {len(sample.hpo_present)} of the {n_present_possible} features of the syndrome "
            "that we can draw; another child (another seed) may show a different set."
        )
    lines.append(f"HPO release {catalog().hpo_release}.")
    return "\n\n".join(lines)


def _png_info(face: Face, syndrome, generator: str = GENERATOR_NAMES[PHENOTYPE]) -> dict:
    """PNG text metadata of a phenotype-model face shown or downloaded from the app: its provenance
    (`models.faces`), the row of ``attributes.csv`` and the app's notice."""
    spec = face.spec
    row = attributes(generator, syndrome, spec.age, spec.sex, spec.skin_tone, spec.intensity, spec.seed,
                     face.hpo_present)  # fmt: skip
    return provenance.add_text(face.info, attributes=row, app_notice=notice.NOTICE)


def draw_phenotype(entry, base: RenderSpec, n_faces: int, shown: Path, generator: str = PHENOTYPE) -> Drawn:
    """Draw a set with a phenotype engine (`models.faces.draw_faces`) and save it under `shown`.

    Child ``i`` has identity seed ``base.seed + i``; its pair is the same spec at intensity 0 (no pair for
    a child without a syndrome).

    Args:
        entry: the catalogue entry of the syndrome.
        base: the validated spec of face 1.
        n_faces: number of children.
        shown: the session folder for these faces (PNG files with provenance metadata).
        generator: `PHENOTYPE` (rule-based) or `PHENOTYPE_3D` (the 3D child).

    Returns:
        the `Drawn` set, with the features drawn on face 1 in ``realised``.

    Raises:
        gr.Error: the renderer refuses a spec.
    """
    affected = entry.key != UNAFFECTED
    caption = who(entry)
    if affected and base.intensity > 1:
        caption += f" ({notice.EXAGGERATED})"
    elif affected and base.intensity == 0:
        caption += f" ({notice.NOT_DRAWN})"
    faces = _draw(base, n_faces, pair=True, generator=generator)
    gallery = []
    for face in faces:
        info = _png_info(face, entry, GENERATOR_NAMES[generator])
        name = f"{face.child + 1:02d}{'_without' if face.without else ''}.png"
        label = notice.WITHOUT_SYNDROME if face.without else caption
        gallery.append((save_face(face.image, shown / name, info), f"{face.child + 1}. {label}"))
    first = faces[0]
    sample = first.sample
    depictable = len(feature_choices(entry, generator))
    return Drawn(
        gallery=gallery,
        first=(first.image, _png_info(first, entry, GENERATOR_NAMES[generator])),
        summary=_summary(sample, entry, depictable),
        features=features_table(sample, entry),
        features_label="**HPO features this child (face 1) shows** "
        "(frequency: how often people with the syndrome have the feature)",
        gallery_note="Each child with the syndrome (left) and the same child without it (right)."
        if affected
        else "Children without a syndrome.",
        realised=sample.hpo_realised,
    )


def toggles_update(entry, base: RenderSpec, realised: tuple[str, ...], generator: str) -> dict:
    """The feature checkboxes for face 1: the syndrome's drawable features, ticked where drawn.

    Args:
        entry: the catalogue entry of the syndrome.
        base: the spec of face 1.
        realised: HPO ids of the features drawn on face 1.
        generator: which generator drew the set (only the phenotype engines have a "same child").

    Returns:
        a ``gr.update`` of the checkbox group: disabled, with the reason in ``info``, when there is
        nothing to switch.
    """
    if generator not in SAME_CHILD:
        return gr.update(choices=[], value=[], interactive=False, info="Not available: this needs the same child.")
    if entry.key == UNAFFECTED:
        return gr.update(choices=[], value=[], interactive=False, info="A child without a syndrome has none.")
    if base.intensity == 0:
        return gr.update(
            choices=[], value=[], interactive=False, info="Intensity is 0: no feature is drawn. Raise it and generate."
        )
    return gr.update(
        choices=feature_choices(entry, generator),
        value=list(realised),
        interactive=True,
        info="Ticked: the features drawn on face 1, including some too mild to count as present. "
        "Tick or untick to redraw this child.",
    )


def _engine(face: dict) -> str:
    """The phenotype engine that drew face 1 (the average portrait of a diffusion face uses the rule-based one)."""
    return face.get("generator") if face.get("generator") in SAME_CHILD else PHENOTYPE


def _face_spec(face: dict | None, folder: str | None, what: str) -> tuple[RenderSpec, Path]:
    """Face 1's spec and the session folder from the tab's state; ``gr.Error`` when there is none."""
    if not face or not folder or not Path(folder).is_dir():
        raise Refusal("Click Generate first.")
    if face.get("generator") not in SAME_CHILD and what != "average":
        raise Refusal(NO_SAME_CHILD)
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
    selected = texts(selected, "The features must be a list of HPO ids, e.g. ['HP:0000316'].")
    spec, folder = _face_spec(face, session_dir, "features")
    entry = resolve_syndrome(spec.syndrome)
    generator = _engine(face)
    allowed = {hpo_id for _, hpo_id in feature_choices(entry, generator)}
    other = [f for f in selected or () if f not in allowed]
    if other:
        raise Refusal(f"{other[0]} is not one of the features of {entry.name} that we draw.")
    spec = replace(spec, features=tuple(selected or ()))
    chosen, plain = _draw(spec, generator=generator) + _draw(replace(spec, intensity=0.0), generator=generator)
    sample = chosen.sample
    out = fresh_section(folder, "features")
    gallery = [
        (
            save_face(chosen.image, out / "face1_chosen.png", _png_info(chosen, entry, GENERATOR_NAMES[generator])),
            f"1. {who(entry)}: chosen features",
        ),
        (
            save_face(plain.image, out / "face1_without.png", _png_info(plain, entry, GENERATOR_NAMES[generator])),
            f"1. {notice.WITHOUT_SYNDROME}",
        ),
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
    archive = write_set_zip(folder, archive_name(entry.key, spec.seed))
    return gallery, note, str(archive), {**face, "spec": asdict(spec)}


def age_strip(face: dict | None, session_dir: str | None):
    """The same child (face 1, with any chosen features) at `STRIP_AGES` years.

    Returns:
        gallery items (5, captions with ages) and the ZIP path.

    Raises:
        gr.Error: no face generated yet, or a diffusion model's face.
    """
    spec, folder = _face_spec(face, session_dir, "age strip")
    entry = resolve_syndrome(spec.syndrome)
    out = fresh_section(folder, "age_strip")
    gallery = []
    generator = _engine(face)
    for age in STRIP_AGES:
        (grown,) = _draw(replace(spec, age=float(age)), generator=generator)
        unit = "year" if age == 1 else "years"
        info = _png_info(grown, entry, GENERATOR_NAMES[generator])
        gallery.append((save_face(grown.image, out / f"age{age:02d}.png", info), f"{age} {unit}"))
    return gallery, str(write_set_zip(folder, archive_name(entry.key, spec.seed)))


def average_portraits(face: dict | None, n_children: float, session_dir: str | None):
    """Average portrait of ``n_children`` synthetic children with the syndrome (face 1's age, sex,
    skin tone, colours and intensity; identity seeds from face 1's on), beside the average of the same
    children without it: for the 3D child, their mean 3D shape rendered once (`engine3d.average3d`);
    otherwise their similarity-aligned pixel average (`models.phenotype.composite.average_portrait`).

    Returns:
        gallery items (2, or 1 for children without a syndrome) and the ZIP path.

    Raises:
        gr.Error: no face generated yet, or a bad number of children.
    """
    n = whole(n_children, "The number of children", 2, MAX_AVERAGE_CHILDREN)
    spec, folder = _face_spec(face, session_dir, "average")
    entry = resolve_syndrome(spec.syndrome)
    affected = entry.key != UNAFFECTED
    out = fresh_section(folder, "average")
    generator = _engine(face)
    label = f"{GENERATOR_NAMES[generator]}, average portrait"
    if generator == PHENOTYPE_3D:
        source, method = "models.phenotype.engine3d.average3d", "mean 3D shape, rendered once"
    else:
        source, method = "models.phenotype.composite", "similarity-aligned pixel average"
    gallery = []
    for intensity in (spec.intensity, 0.0) if affected else (0.0,):
        try:
            if generator == PHENOTYPE_3D:
                image = engine3d.average3d(replace(spec, intensity=intensity, features=None), n)
            else:
                image = average_portrait(entry.key, spec.age, spec.sex, spec.skin_tone, n, spec.seed, spec.size,
                                         intensity, eye_colour=spec.eye_colour, hair_colour=spec.hair_colour,
                                         view=spec.view)  # fmt: skip
        except ValueError as err:
            raise Refusal(str(err)) from None
        plain = affected and intensity == 0.0
        if plain:
            caption = f"average of the same {n} synthetic children without the syndrome"
        else:
            caption = f"average of {n} synthetic children {who(entry).removeprefix('a child ')}"
        info = provenance.png_metadata(
            generator=f"PhenoFace app, {source} (average of {n} children)",
            seed=spec.seed, spec=asdict(replace(spec, intensity=intensity, features=None)),
            hpo_release=str(catalog().hpo_release),
            syndrome=entry.name, children=n, method=method,
            attributes=attributes(label, entry, spec.age, spec.sex, spec.skin_tone, intensity, spec.seed),
            app_notice=notice.NOTICE,
        )  # fmt: skip
        name = "average_without.png" if plain else "average.png"
        gallery.append((save_face(provenance.mark_synthetic(image), out / name, info), caption))
    return gallery, str(write_set_zip(folder, archive_name(entry.key, spec.seed)))
