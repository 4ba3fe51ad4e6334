"""Calibrate the 3D head's morphology dimensions in SD units of the normal population for age and sex.

    python -m models.phenotype.calibrate3d --out assets/phenotype/calibration_3d.json

For every dimension with a linear measurement in the norms table (`models.phenotype.norms`: Farkas
1994; Hall et al. 2007), this measures on the 3D head (`engine3d.landmarks_3d`, in mm) how far one
unit of the dimension's local changes (`morphs3d.DIMENSION_CHANGES` at +TYPICAL_SD) moves the
measurement, at each age of the norms table, for girls and boys (European ancestry, mean body build:
the norms are mostly of children of European ancestry). `morphs3d.head_changes` then turns a child's SD
score into the amount that moves the measurement by that many SD for its age and sex, and adds the
amount that brings the neutral head to the norm's mean (clipped to `MAX_OFFSET` units: MakeHuman's
targets are shaped for moderate amounts). The file records the neutral head before and after that
correction, in SD of the norm, so that what could not be corrected is on record.

Deterministic and quick (a few seconds): no rendering, only the head model's vertices.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.files import write_text

from . import morphs3d, norms
from .engine3d import landmarks_3d
from .head_model import HeadModel, HeadParams
from .head_render import Dressing

#: Dimension -> (norms measurement, the two landmarks of `engine3d.landmarks_3d` it is measured between).
#: Not the philtrum: where the columella meets the lip, the rule for subnasale jumps between neighbouring
#: vertices as the lip moves, so one SD measured 0.45 to 2 SD; it keeps 1 / TYPICAL_SD of its changes per SD.
#: Widths are measured across (x), heights and lengths up and down (z), as on a frontal photograph:
#: the lips' and nose's depth would otherwise count towards their heights.
CALIBRATED: dict[str, tuple[str, str, str]] = {  # eye spacing and telecanthus both on the inner canthi
    "interpupillary": ("intercanthal", "endocanthion_l", "endocanthion_r"),
    "intercanthal": ("intercanthal", "endocanthion_l", "endocanthion_r"),
    "alar_width": ("nose_width", "alare_l", "alare_r"),
    "nose_length": ("nose_height", "nasion", "subnasale"),
    "upper_lip_height": ("upper_vermilion", "labiale_superius", "stomion"),
    "lower_lip_height": ("lower_vermilion", "stomion", "labiale_inferius"),
    "mouth_width": ("mouth_width", "cheilion_l", "cheilion_r"),
    "face_length": ("face_height", "nasion", "gnathion"),
    "face_roundness": ("face_width", "zygion_l", "zygion_r"),
    "ear_length": ("ear_length", "superaurale_l", "subaurale_l"),
}
_WIDTHS = {"intercanthal", "nose_width", "mouth_width", "face_width"}
#: Dimensions whose neutral head is brought to the norm's mean: those measured between landmarks the head's
#: geometry fixes well (canthi, alae, cheilia, zygia, the ear's ends). MakeHuman's child has inner canthi 2 to 4
#: SD apart and short fissures: the telecanthus dimension (the inner canthi alone) corrects it, not the eyes'
#: spacing, which would narrow the outer canthi too (already 1 SD narrow). Nasion, subnasale and the lips' borders
#: are found by rules on a smooth child's profile and land a few mm off; correcting to them lengthened young
#: faces by 3 SD and an age estimator read the children as older (benchmarks.realism: Spearman 0.64 -> 0.47).
MEAN_CORRECTED = {"intercanthal", "alar_width", "mouth_width", "face_roundness", "ear_length"}
#: Largest mean correction, in units of a dimension's changes.
MAX_OFFSET = 1.6
SEXES = ("female", "male")


def _measure(model: HeadModel, years: float, sex: str, local: dict[str, float]) -> dict[str, float]:
    v = model.vertices(HeadParams(years, sex, "european", local))
    points = landmarks_3d(model, v, Dressing())
    axis = {dim: 0 if name in _WIDTHS else 2 for dim, (name, _, _) in CALIBRATED.items()}  # x across, z up
    return {
        dim: 1000.0 * abs(float(points[a][axis[dim]] - points[b][axis[dim]])) for dim, (_, a, b) in CALIBRATED.items()
    }


def _units(dim: str, amount: float) -> dict[str, float]:
    return {name: a * amount for name, a in morphs3d.DIMENSION_CHANGES[dim].items()}


def calibrate(model: HeadModel) -> dict:
    """The calibration table (see the module docstring) as a JSON-ready dict.

    Returns:
        {"ages": [years], "dimensions": {dim: {"measurement", "landmarks", "mm_per_unit": {sex: [mm]},
        "offset_units": {sex: [units]}}}, "neutral_sd": {dim: {sex: {"before": [SD], "after": [SD]}}},
        "one_sd_moves": {dim: {sex: [SD]}}}, one entry per age of `norms.AGES`.
    """
    ages = [float(a) for a in norms.AGES]
    dims: dict[str, dict] = {}
    before: dict[str, dict] = {d: {} for d in CALIBRATED}
    for dim, (name, a, b) in CALIBRATED.items():
        dims[dim] = {"measurement": name, "landmarks": [a, b], "mm_per_unit": {}, "offset_units": {}}
    for sex in SEXES:
        for dim in CALIBRATED:
            dims[dim]["mm_per_unit"][sex], dims[dim]["offset_units"][sex] = [], []
            before[dim][sex] = []
        for age in ages:
            neutral = _measure(model, age, sex, {})
            for dim, (name, _, _) in CALIBRATED.items():
                moved = _measure(model, age, sex, _units(dim, 1.0))[dim] - neutral[dim]
                mean, sd = norms.norm(name, age, sex)
                offset = float(np.clip((mean - neutral[dim]) / moved, -MAX_OFFSET, MAX_OFFSET))
                offset = offset if dim in MEAN_CORRECTED else 0.0
                dims[dim]["mm_per_unit"][sex].append(round(moved, 4))
                dims[dim]["offset_units"][sex].append(round(offset, 4))
                before[dim][sex].append(round((neutral[dim] - mean) / sd, 3))
    table = {"ages": ages, "dimensions": dims}
    neutral_sd: dict[str, dict] = {d: {} for d in CALIBRATED}
    one_sd: dict[str, dict] = {d: {} for d in CALIBRATED}
    for sex in SEXES:
        after = {d: [] for d in CALIBRATED}
        moves = {d: [] for d in CALIBRATED}
        for age in ages:
            # each dimension checked alone: at 0 SD (the corrected neutral head) and at +1 SD
            for dim, (name, _, _) in CALIBRATED.items():
                mean, sd = norms.norm(name, age, sex)
                at = [morphs3d.dimension_amount(dim, z, age, sex, table) for z in (0.0, 1.0)]
                m0, m1 = (_measure(model, age, sex, _units(dim, u))[dim] for u in at)
                after[dim].append(round((m0 - mean) / sd, 3))
                moves[dim].append(round((m1 - m0) / sd, 3))
        for dim in CALIBRATED:
            neutral_sd[dim][sex] = {"before": before[dim][sex], "after": after[dim]}
            one_sd[dim][sex] = moves[dim]
    return {**table, "neutral_sd": neutral_sd, "one_sd_moves": one_sd}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.phenotype.calibrate3d", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=morphs3d.CALIBRATION_PATH,
                   help="where to write the table (default: the one the engine reads)")  # fmt: skip
    args = p.parse_args(argv)
    table = calibrate(HeadModel.load())
    table = {
        "about": "Written by python -m models.phenotype.calibrate3d; see its docstring. Norms: Farkas 1994; "
        "Hall et al. 2007 (models.phenotype.norms). Measured on the head model, European ancestry, mean build.",
        **table,
    }
    write_text(args.out, json.dumps(table, indent=1) + "\n")
    for dim, by_sex in table["neutral_sd"].items():
        print(f"{dim:18s} neutral head, SD from the norm's mean (girls): before {by_sex['female']['before']}")
        print(f"{'':18s} after {by_sex['female']['after']}; +1 SD moves {table['one_sd_moves'][dim]['female']}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
