"""Dress a 3D head for its portrait: hair in a style for the child's age and sex, shoulders in a top, lips.

`dress` turns a head (`models.phenotype.head_model`) into the `Dressing` the renderer
(`models.phenotype.head_render`) draws with it. Everything is drawn from the identity's generator, so
the same child keeps its hairstyle, parting and top from view to view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from . import norms
from .body3d import build_torso, clothing_colour
from .hair3d import HairStyle, choose_style, grow, scalp_weights
from .head_model import HeadModel
from .head_render import Brows, Dressing, vertex_normals


def dress(
    model: HeadModel,
    vertices: np.ndarray,
    age: float,
    sex: str,
    rng: np.random.Generator,
    style: HairStyle | None = None,
    dims: Mapping[str, float] | None = None,
) -> tuple[Dressing, tuple[float, float, float]]:
    """Hair, torso and paint for one head.

    Args:
        model: the head model (for its vertex groups). vertices: (V, 3) the child's head, metres.
        age: years. sex: ``"female"`` or ``"male"``. rng: the identity's generator.
        style: a hairstyle, or None to draw one for the age and sex (`models.phenotype.hair3d.choose_style`).
        dims: the child's morphology (dimension -> SD score or presence, `models.phenotype.sampler`); those of
            `DRESSING_DIMENSIONS` shape the brows, lashes and hairline. None: a typical child.

    Returns:
        (the `Dressing`, the top's sRGB colour).
    """
    v = np.asarray(vertices, np.float64)
    faces = model.faces
    normals = vertex_normals(v, faces)
    skin = np.zeros(len(v), bool)
    skin[np.unique(faces[model.face_region == model.face_regions.index("skin")])] = True
    ears = np.maximum(model.change_region("l-ear-trans-forward"), model.change_region("r-ear-trans-forward"))
    lips = np.maximum(
        model.change_region("mouth-upperlip-volume-incr"), model.change_region("mouth-lowerlip-volume-incr")
    )
    lips = np.clip((lips - 0.12) / 0.3, 0, 1) * skin
    # one stream per part, so that a child keeps its top, brows and parting when its age changes its style
    base = int(rng.integers(2**62))
    part_rng = {k: np.random.default_rng([base, i]) for i, k in enumerate(("style", "torso", "hair", "face", "cloth"))}
    style = style or choose_style(age, sex, part_rng["style"])
    eyes = np.unique(faces[model.face_region == model.face_regions.index("eye_front")])
    dims = dims or {}
    # the hairline moves one SD of the trichion-nasion height per SD score (Farkas 1994, forehead height)
    hairline = float(np.clip(dims.get("hairline_height", 0.0), -4, 4)) * norms.norm("forehead_height", age, sex)[1]
    scalp = scalp_weights(v, skin, ears, float(v[eyes, 2].mean()), hairline_mm=hairline)
    torso = build_torso(v, faces, age, sex, part_rng["torso"])
    brows = model.change_region("eyebrows-trans-up") > 0.5
    brow_z = float(v[brows, 2].mean()) if brows.any() else None
    ear_front = float(v[ears > 0.5, 1].min()) if (ears > 0.5).any() else None
    hair = grow(
        v, normals, faces, scalp, style, part_rng["hair"], shoulders=torso.shoulders, brow_z=brow_z, tuck_y=ear_front
    )
    rng = part_rng["face"]
    cheeks = np.maximum(model.change_region("l-cheek-volume-incr"), model.change_region("r-cheek-volume-incr"))
    blush = (np.clip((cheeks - 0.2) / 0.6, 0, 1) * skin * rng.uniform(0.4, 1.0)).astype(np.float32)
    grown = float(np.clip(age / 14, 0, 1))
    # an infant's brows are sparse and fair, and fill in through childhood (drawn crisply per pixel, full brows
    # on an infant made an age estimator read infants as about 6 years old)
    fill = 0.2 + 0.8 * float(np.clip(age / 8, 0, 1)) ** 1.5
    brows = Brows(
        height=rng.uniform(0.55, 0.72), arch=rng.uniform(0.02, 0.16), peak=rng.uniform(-0.1, 0.35),
        thickness=(rng.uniform(0.07, 0.12) + 0.05 * grown * rng.random()) * (0.7 + 0.3 * fill),
        length=rng.uniform(0.6, 0.9), density=fill * (rng.uniform(0.55, 0.8) + 0.15 * grown),
        lashes=rng.uniform(0.6, 0.95) * (0.6 + 0.4 * fill),
    )  # fmt: skip
    # from puberty brows differ by sex: boys' thicker, lower and straighter, girls' finer and more arched
    # (Farkas 1994, brow measurements by sex; a cue face models read for sex)
    sexed = float(np.clip((age - 9) / 5, 0, 1))
    if sex == "male":
        brows = replace(brows, thickness=brows.thickness * (1 + 0.45 * sexed), arch=brows.arch * (1 - 0.6 * sexed),
                        height=brows.height - 0.06 * sexed, density=min(1.0, brows.density + 0.1 * sexed))  # fmt: skip
    else:
        brows = replace(brows, thickness=brows.thickness * (1 - 0.15 * sexed), arch=brows.arch + 0.05 * sexed,
                        height=brows.height + 0.03 * sexed)  # fmt: skip
    brows = brow_signs(brows, dims)
    dressing = Dressing(
        hair=hair, torso=torso, scalp=hair.scalp, lips=lips.astype(np.float32), blush=blush, brows=brows
    )
    return dressing, clothing_colour(part_rng["cloth"])


#: Morphology dimensions drawn by the dressing (`models.phenotype.morphology.DIMENSIONS`).
DRESSING_DIMENSIONS: frozenset[str] = frozenset(
    {"brow_arch", "brow_thickness", "synophrys", "brow_medial_flare", "lateral_brow_sparse", "lash_length",
     "hairline_height"}
)  # fmt: skip


def brow_signs(brows: Brows, dims: Mapping[str, float]) -> Brows:
    """A child's brows and lashes with the features of its morphology (Elements of Morphology, the eye:
    Hall et al. 2009, AJMG A 149A:93-127): a highly arched brow (HP:0002553) raises its peak, a thick or broad
    brow (HP:0000574, HP:0011229) is taller and denser, synophrys (HP:0000664) joins the brows' heads in the
    midline, medial flaring (HP:0010747) broadens them, a sparse lateral brow (HP:0005338) thins its outer
    third, long eyelashes (HP:0000527) reach further from the lid.

    Args:
        brows: the child's own brows (`Brows`). dims: dimension -> SD score (continuous) or presence 0-1.5.
    """
    arch, thick = float(dims.get("brow_arch", 0.0)), float(dims.get("brow_thickness", 0.0))
    presence = {k: float(np.clip(dims.get(k, 0.0), 0.0, 1.0)) for k in ("synophrys", "brow_medial_flare",
                                                                        "lateral_brow_sparse")}  # fmt: skip
    return replace(
        brows,
        arch=float(np.clip(brows.arch + 0.025 * arch, 0.0, 0.3)),
        thickness=brows.thickness * float(np.clip(1 + 0.15 * thick, 0.5, 2.0)),
        density=float(np.clip(brows.density + 0.05 * thick, 0.1, 1.0)),
        synophrys=presence["synophrys"],
        medial_flare=presence["brow_medial_flare"],
        lateral_sparse=presence["lateral_brow_sparse"],
        lash_length=float(np.clip(dims.get("lash_length", 0.0) / 2.9, -1.0, 1.5)),
    )
