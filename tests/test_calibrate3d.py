"""The 3D head's dimensions are calibrated in SD units of the norms for age and sex (models.phenotype.calibrate3d)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from models.phenotype import calibrate3d, morphs3d
from models.phenotype.head_model import HeadModel


@pytest.fixture(scope="module")
def table():
    return calibrate3d.calibrate(HeadModel.load())


def test_the_committed_table_is_what_the_script_computes(table):
    committed = json.loads(morphs3d.CALIBRATION_PATH.read_text())
    assert committed["ages"] == table["ages"]
    for dim, entry in table["dimensions"].items():
        for key in ("mm_per_unit", "offset_units"):
            for sex in calibrate3d.SEXES:
                assert committed["dimensions"][dim][key][sex] == pytest.approx(entry[key][sex], abs=2e-3), (dim, key)


@pytest.mark.parametrize("dim", sorted(calibrate3d.CALIBRATED))
def test_one_sd_moves_its_measurement_about_one_sd_of_the_norm(table, dim):
    for sex in calibrate3d.SEXES:
        moves = np.array(table["one_sd_moves"][dim][sex])
        assert 0.6 < np.median(moves) < 1.4, (dim, sex, moves)


@pytest.mark.parametrize("dim", sorted(calibrate3d.MEAN_CORRECTED))
def test_the_neutral_head_sits_near_the_norms_mean_where_it_is_corrected(table, dim):
    for sex in calibrate3d.SEXES:
        after = np.abs(table["neutral_sd"][dim][sex]["after"])
        before = np.abs(table["neutral_sd"][dim][sex]["before"])
        assert after.max() < 1.5 and after.mean() <= before.mean(), (dim, sex, after)


def test_without_age_and_sex_a_dimension_moves_a_fixed_share_per_sd():
    local, _ = morphs3d.head_changes({"mouth_width": morphs3d.TYPICAL_SD})
    assert local["mouth-scale-horiz-incr"] == pytest.approx(1.0)
    at_8, _ = morphs3d.head_changes({"mouth_width": 2.0}, age=8.0, sex="female")
    at_8_neutral, _ = morphs3d.head_changes({}, age=8.0, sex="female")
    # 2 SD of an 8-year-old girl's mouth width (Farkas: 42 mm, CV 7 %) over what one unit moves it
    entry = morphs3d.calibration()["dimensions"]["mouth_width"]
    per_unit = np.interp(8.0, morphs3d.calibration()["ages"], entry["mm_per_unit"]["female"])
    step = at_8["mouth-scale-horiz-incr"] - at_8_neutral["mouth-scale-horiz-incr"]
    assert step == pytest.approx(2.0 * 42.0 * 0.07 / per_unit, rel=0.02)


def test_offsets_made_for_an_adults_face_are_scaled_to_the_childs():
    # MakeHuman's local changes move the same millimetres at every age, so an identity change or an uncalibrated
    # feature moved a newborn's face (0.57 of an adult's) nearly twice as much, relative to its size: infants
    # came out creased and distorted
    assert morphs3d.face_scale(0.0, "female") == pytest.approx(0.57, abs=0.02)
    assert morphs3d.face_scale(18.0, "male") == 1.0 and morphs3d.face_scale(None, None) == 1.0
    identity = {"nose-hump-incr": 0.4}
    dims = {"cheek_fullness": 2.0, "mouth_width": 2.0}  # uncalibrated, calibrated against Farkas's norms
    newborn, _ = morphs3d.head_changes(dims, identity, 0.0, "female")
    adult, _ = morphs3d.head_changes(dims, identity, 18.0, "female")
    scale = morphs3d.face_scale(0.0, "female")
    assert newborn["nose-hump-incr"] == pytest.approx(0.4 * scale) and adult["nose-hump-incr"] == pytest.approx(0.4)
    cheek = next(iter(morphs3d.DIMENSION_CHANGES["cheek_fullness"]))
    assert newborn[cheek] == pytest.approx(adult[cheek] * scale)
    mouth = "mouth-scale-horiz-incr"
    unscaled = (
        morphs3d.dimension_amount("mouth_width", 2.0, 0.0, "female") * morphs3d.DIMENSION_CHANGES["mouth_width"][mouth]
    )
    assert newborn[mouth] == pytest.approx(unscaled)  # calibrated in millimetres for the age already
