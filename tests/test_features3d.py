"""Every HPO feature the 3D engine draws moves the head, or the image, the way its definition says.

The frontal features MediaPipe can measure on the image are checked in `tests/test_morphs3d.py` and the
phenotype-check benchmark; the ones judged in profile in the profile-check benchmark. The rest are checked
here on the head's own geometry (anthropometric landmarks, Farkas 1994, found on the mesh by
`engine3d.landmarks_3d`) or, for what is painted (brows, lashes, iris), on the rendered image.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy.spatial import cKDTree

from models.phenotype.engine3d import DRAWN_3D, _groups, landmarks_3d
from models.phenotype.head_model import HeadModel, HeadParams
from models.phenotype.head_render import Brows, Dressing, Look, render_head
from models.phenotype.morphology import CATEGORICAL, DIMENSIONS, FEATURES
from models.phenotype.morphs3d import TYPICAL_SD, displace, head_changes
from models.phenotype.portrait3d import brow_signs

CHILDREN = ((2.0, "female", "asian"), (7.0, "male", "african"), (13.0, "female", "european"))


@pytest.fixture(scope="module")
def model() -> HeadModel:
    return HeadModel.load()


def _head(model: HeadModel, dims: dict[str, float], years: float, sex: str, ancestry: str) -> np.ndarray:
    local, actions = head_changes(dims, None, years, sex)
    return displace(model, model.vertices(HeadParams(years, sex, ancestry, local, actions)), dims).astype(np.float64)


def _lm(model, v):
    return landmarks_3d(model, v, Dressing())


def _pair(model, v, name):
    lm = _lm(model, v)
    return lm[f"{name}_r"], lm[f"{name}_l"]


def fissure_length(model, v):
    lm = _lm(model, v)
    return sum(np.linalg.norm(lm[f"exocanthion_{s}"] - lm[f"endocanthion_{s}"]) for s in "rl")


def _lid_opening(model, v, lateral: bool = False) -> tuple[float, float]:
    """Mean heights of the upper and lower lid margins over the middle (or the lateral third) of each eye."""
    lid = _groups(model)["lid"]
    lm = _lm(model, v)
    up, low = [], []
    for s, sign in (("r", -1), ("l", 1)):
        mine = lid[np.sign(v[lid, 0]) == sign]
        endo, exo = abs(lm[f"endocanthion_{s}"][0]), abs(lm[f"exocanthion_{s}"][0])
        t = (np.abs(v[mine, 0]) - endo) / (exo - endo)
        band = mine[(t > 0.66) & (t < 0.95)] if lateral else mine[(t > 0.35) & (t < 0.65)]
        centre = lm[f"pupil_{s}"][2]
        up += list(v[band[v[band, 2] > centre], 2])
        low += list(v[band[v[band, 2] <= centre], 2])
    return float(np.mean(up)), float(np.mean(low))


def fissure_height(model, v):
    up, low = _lid_opening(model, v)
    return up - low


def lateral_lower_lid(model, v):  # eversion pulls the lateral lower lid down: its margin lower, so minus
    return -_lid_opening(model, v, lateral=True)[1]


def _region_front(model, v, change: str) -> float:
    """Mean anterior projection (-y) of what a local change moves most, relative to the pupils."""
    w = model.change_region(change)
    ids = np.where(w > 0.5)[0]
    pupils = np.mean([p[1] for p in _pair(model, v, "pupil")])
    return float(pupils - v[ids, 1].mean())


def periorbital(model, v):
    return _region_front(model, v, "l-eye-bag-incr") + _region_front(model, v, "r-eye-bag-incr")


def nasal_bridge_width(model, v):
    ids = np.where(model.change_region("nose-width1-incr") > 0.5)[0]
    return float(np.ptp(v[ids, 0]))


def nasal_bridge_height(model, v):  # the nasion's projection in front of the inner canthi
    lm = _lm(model, v)
    return float((lm["endocanthion_r"][1] + lm["endocanthion_l"][1]) / 2 - lm["nasion"][1])


def nasal_tip(model, v):  # pronasale's projection in front of the alae
    lm = _lm(model, v)
    return float((lm["alare_r"][1] + lm["alare_l"][1]) / 2 - lm["pronasale"][1])


def alar_width(model, v):
    lm = _lm(model, v)
    return float(np.linalg.norm(lm["alare_l"] - lm["alare_r"]))


def columella(model, v):  # how far subnasale hangs below the alae
    lm = _lm(model, v)
    return float((lm["alare_r"][2] + lm["alare_l"][2]) / 2 - lm["subnasale"][2])


def _front_skin(model, v):
    g = _groups(model)
    skin = g["skin"]
    return skin[(g["normal_y"][skin] < -0.3) & (v[skin, 1] < np.median(v[skin, 1]))]


def philtrum_groove(model, v):  # how much deeper the midline lies than the philtral columns
    lm = _lm(model, v)
    front = _front_skin(model, v)
    ls, prn = lm["labiale_superius"][2], lm["pronasale"][2]  # (subnasale moves on a smooth philtrum)
    band = front[(v[front, 2] > ls + 0.15 * (prn - ls)) & (v[front, 2] < ls + 0.45 * (prn - ls))]
    mid = band[np.argsort(np.abs(v[band, 0]))[:3]]
    side = band[(np.abs(v[band, 0]) > 0.003) & (np.abs(v[band, 0]) < 0.007)]
    return float(v[mid, 1].mean() - v[side, 1].mean())


def tented_lip(model, v):  # labiale superius above the mouth's corners
    lm = _lm(model, v)
    return float(lm["labiale_superius"][2] - (lm["cheilion_r"][2] + lm["cheilion_l"][2]) / 2)


def cupids_bow(model, v):  # the bow's peaks above its midline notch
    g = _groups(model)
    lm = _lm(model, v)
    front = _front_skin(model, v)
    upper = front[(g["lips"][front] > 0.3) & (v[front, 2] > lm["stomion"][2])]
    peaks = upper[(np.abs(v[upper, 0]) > 0.002) & (np.abs(v[upper, 0]) < 0.007)]
    notch = upper[np.abs(v[upper, 0]) < 0.0012]
    return float(v[peaks, 2].max() - v[notch, 2].max())


def face_depth(model, v):  # flat face +: the nose and chin stand less in front of the cheekbones
    lm = _lm(model, v)
    zyg = (lm["zygion_r"][1] + lm["zygion_l"][1]) / 2
    return -float(zyg - lm["pronasale"][1] + zyg - lm["gnathion"][1])


def _width_at(model, v, z: float) -> float:
    skin = _groups(model)["skin"]
    ear = _groups(model)["ear"]
    band = skin[(np.abs(v[skin, 2] - z) < 0.003) & ~np.isin(skin, ear)]
    front = band[v[band, 1] < np.median(v[band, 1])]
    return float(np.ptp(v[front, 0]))


def triangularity(model, v):  # temples broad, chin narrow
    lm = _lm(model, v)
    eye_z, mouth_z = lm["pupil_r"][2], lm["stomion"][2]
    return _width_at(model, v, eye_z + 0.025) / _width_at(model, v, mouth_z - 0.6 * (mouth_z - lm["gnathion"][2]))


def asymmetry(model, v):  # mean distance of the face to its own mirror image
    front = _front_skin(model, v)
    mirror = v[front] * np.array([-1.0, 1.0, 1.0])
    d, _ = cKDTree(v[front]).query(mirror)
    return float(d.mean())


def forehead(model, v):  # the forehead's most anterior point in front of nasion
    lm = _lm(model, v)
    front = _front_skin(model, v)
    eye_z = lm["pupil_r"][2]
    band = front[(v[front, 2] > eye_z + 0.015) & (v[front, 2] < eye_z + 0.045) & (np.abs(v[front, 0]) < 0.01)]
    return float(lm["nasion"][1] - v[band, 1].min())


def _neck(model, v) -> np.ndarray:
    """Skin below the chin and the ears' lobes (the head model's neck, down to its cut end)."""
    lm = _lm(model, v)
    skin = _groups(model)["skin"]
    return skin[v[skin, 2] < min(lm["gnathion"][2], lm["subaurale_r"][2]) - 0.005]


def neck_length(model, v):  # from gnathion down to where the neck meets the shoulders (the mesh's end)
    lm = _lm(model, v)
    return float(lm["gnathion"][2] - v[_neck(model, v), 2].min())


def neck_width(model, v):  # at half its height
    neck = _neck(model, v)
    z = v[neck, 2]
    band = neck[np.abs(z - (z.min() + 0.5 * np.ptp(z))) < 0.004]
    return float(np.ptp(v[band, 0]))


def head_breadth(model, v):  # euryon to euryon: the vault's greatest breadth, above the ears and the brows
    lm = _lm(model, v)
    g = _groups(model)
    brows = model.change_region("eyebrows-trans-up") > 0.5
    floor = max(lm["superaurale_r"][2], lm["superaurale_l"][2], float(v[brows, 2].mean()))
    vault = g["skin"][(v[g["skin"], 2] > floor) & ~np.isin(g["skin"], g["ear"])]
    return float(2 * np.abs(v[vault, 0]).max())


def eye_depth(model, v):  # the corneas behind the nasion
    lm = _lm(model, v)
    return float(np.mean([p[1] for p in _pair(model, v, "pupil")]) - lm["nasion"][1])


#: dimension -> (index on the head, the feature that raises the dimension moves it this way per +SD)
GEOMETRY: dict[str, Callable] = {
    "fissure_length": fissure_length,
    "fissure_height": fissure_height,
    "lower_lid_eversion": lateral_lower_lid,
    "periorbital_fullness": periorbital,
    "nasal_bridge_width": nasal_bridge_width,
    "nasal_bridge_height": nasal_bridge_height,
    "nasal_tip_projection": nasal_tip,
    "alar_fullness": alar_width,
    "columella_low": columella,
    "philtrum_depth": philtrum_groove,
    "upper_lip_tented": tented_lip,
    "cupids_bow": cupids_bow,
    "face_flatness": face_depth,
    "face_triangular": triangularity,
    "asymmetry": asymmetry,
    "forehead_prominence": forehead,
    "neck_length": neck_length,
    "webbed_neck": neck_width,
    "head_size": head_breadth,
    "eye_depth": eye_depth,
}
_GEOMETRY_FEATURES = [f for f, feat in FEATURES.items() if feat.dimension in GEOMETRY]


@pytest.mark.parametrize("hpo_id", _GEOMETRY_FEATURES, ids=[FEATURES[f].name for f in _GEOMETRY_FEATURES])
def test_each_feature_moves_its_anthropometric_index_the_defined_way(model, hpo_id):
    feature = FEATURES[hpo_id]
    amount = 1.0 if DIMENSIONS[feature.dimension] == CATEGORICAL else TYPICAL_SD * feature.direction
    index = GEOMETRY[feature.dimension]
    for years, sex, ancestry in CHILDREN:
        without = index(model, _head(model, {}, years, sex, ancestry))
        with_it = index(model, _head(model, {feature.dimension: amount}, years, sex, ancestry))
        moved = (with_it - without) * (1 if DIMENSIONS[feature.dimension] == CATEGORICAL else feature.direction)
        assert moved > 0, (hpo_id, years, sex, ancestry, without, with_it)


def test_head_size_scales_the_vault_by_the_spread_of_head_circumference(model):
    """One SD of head size is about 2.8 % of the vault (WHO head circumference-for-age): microcephaly at
    -3 SD leaves a breadth about 8 % smaller, the face below the brows as it was."""
    for years, sex, ancestry in CHILDREN:
        typical = _head(model, {}, years, sex, ancestry)
        small = _head(model, {"head_size": -3.0}, years, sex, ancestry)
        ratio = head_breadth(model, small) / head_breadth(model, typical)
        assert 0.88 < ratio < 0.95, (years, ratio)
        lm0, lm1 = _lm(model, typical), _lm(model, small)
        for name in ("pronasale", "gnathion", "cheilion_r"):
            assert np.linalg.norm(lm0[name] - lm1[name]) < 5e-4, name


def _eye_box(image: np.ndarray, what: str) -> np.ndarray:
    """Dark-pixel fraction of a box of a 512 px frontal portrait of the bare 7-year-old (fixed framing)."""
    boxes = {
        "glabella": np.s_[250:274, 240:272],  # between the brows' heads
        "brows": np.s_[245:274, 160:352],
        "lateral_brows": np.s_[245:274, 160:198],
        "upper_lids": np.s_[268:284, 170:342],
    }
    grey = image[boxes[what]].astype(float).mean(axis=2)
    return float((grey < 0.75 * np.median(image[200:300, 200:312].astype(float).mean(axis=2))).mean())


@pytest.fixture(scope="module")
def portrait(model):
    v = model.vertices(HeadParams(7.0, "male", "european"))

    def draw(brows: Brows, look: Look | None = None) -> np.ndarray:
        return render_head(v, model.faces, model.face_region, "frontal", 512, look or Look(), Dressing(brows=brows))

    return draw


@pytest.mark.parametrize(
    ("dimension", "amount", "box"),
    [
        ("synophrys", 1.0, "glabella"),
        ("brow_medial_flare", 1.0, "brows"),
        ("brow_thickness", TYPICAL_SD, "brows"),
        ("lateral_brow_sparse", 1.0, "lateral_brows"),
        ("lash_length", TYPICAL_SD, "upper_lids"),
    ],
)
def test_brow_and_lash_features_are_drawn_where_they_are_defined(portrait, dimension, amount, box):
    base = Brows()
    before = _eye_box(portrait(base), box)
    after = _eye_box(portrait(brow_signs(base, {dimension: amount})), box)
    sparser = dimension == "lateral_brow_sparse"
    assert (after < before) if sparser else (after > before), (dimension, before, after)


def test_a_highly_arched_brow_raises_its_peak_and_typical_brows_are_unchanged():
    base = Brows()
    assert brow_signs(base, {}) == base
    assert brow_signs(base, {"brow_arch": TYPICAL_SD}).arch > base.arch + 0.05


@pytest.mark.parametrize("sign", range(4))
def test_iris_signs_change_only_the_eyes(portrait, sign):
    signs = [0.0] * 4
    signs[sign] = 1.0
    blue = Look(iris=(0.3, 0.5, 0.7))
    a = portrait(Brows(), blue).astype(int)
    b = portrait(Brows(), Look(iris=blue.iris, iris_signs=tuple(signs))).astype(int)
    changed = np.abs(a - b).max(axis=2) > 12
    assert changed.sum() > 8, changed.sum()
    rows, cols = np.nonzero(changed)  # within the two eyes' openings
    assert rows.min() > 270 and rows.max() < 305 and cols.min() > 170 and cols.max() < 342


def test_a_hairline_feature_moves_the_hairline(model):
    from models.phenotype.portrait3d import dress

    v = model.vertices(HeadParams(7.0, "male", "european"))
    trichion = {}
    for dim in (-TYPICAL_SD, 0.0, TYPICAL_SD):
        dressing, _ = dress(model, v, 7.0, "male", np.random.default_rng(0), dims={"hairline_height": dim})
        trichion[dim] = landmarks_3d(model, v, dressing)["trichion"][2]
    assert trichion[-TYPICAL_SD] < trichion[0.0] < trichion[TYPICAL_SD]


def test_eyelid_coloboma_notches_only_the_lateral_lower_lids(portrait):
    a = portrait(Brows()).astype(int)
    b = portrait(Brows(), Look(lid_coloboma=1.0)).astype(int)
    changed = np.abs(a - b).max(axis=2) > 12
    assert changed.sum() > 8, changed.sum()
    rows, cols = np.nonzero(changed)
    assert rows.min() > 280 and rows.max() < 310  # just below the fissures (the eyes' openings end about 300)
    for half in (cols < 256, cols >= 256):  # one notch in each eye's lateral half, none near the nose
        assert half.sum() > 4 and np.abs(cols[half] - 256).min() > 45, np.abs(cols[half] - 256).min()
    # the lid's pink lining shows where the skin and lashes were
    redder = (b[changed, 0] - b[changed, 2]) - (a[changed, 0] - a[changed, 2])
    assert np.median(redder) > 8, np.median(redder)


def test_uplifted_earlobes_turn_up_and_out_and_nothing_else_moves(model):
    for years, sex, ancestry in CHILDREN:
        typical = _head(model, {}, years, sex, ancestry)
        lifted = _head(model, {"earlobe_uplift": 1.0}, years, sex, ancestry)
        moved = np.linalg.norm(lifted - typical, axis=1) > 1e-5
        ears = {side: model.change_region(f"{side}-ear-trans-forward") > 0.99 for side in "lr"}
        assert not moved[~(ears["l"] | ears["r"])].any()
        for side, sign in (("l", 1), ("r", -1)):
            ear = ears[side]
            low = ear & (typical[:, 2] < np.percentile(typical[ear, 2], 10))  # the lobe's lowest tenth
            lateral = sign * (lifted[low, 0] - typical[low, 0])
            assert lateral.mean() > 1e-3 and (lifted[low, 2] - typical[low, 2]).mean() > 0, (years, side)


def test_every_feature_of_the_table_is_drawn_in_3d():
    assert set(FEATURES) == DRAWN_3D
