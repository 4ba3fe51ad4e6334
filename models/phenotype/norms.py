"""Normal-population craniofacial proportions of children by age and sex.

The table holds mean linear measurements (mm) at ages 0, 1, 3, 6, 10, 14 and 18 years, for girls
and boys, with a coefficient of variation (SD / mean) per measurement. Values between table ages
are linearly interpolated. Landmark abbreviations follow Farkas (eu euryon, zy zygion, n nasion,
gn gnathion, tr trichion, en endocanthion, ex exocanthion, al alare, sn subnasale, ls labiale
superius, sto stomion, li labiale inferius, ch cheilion, sa/sba superaurale/subaurale, v vertex).

Sources: approximate means read from Farkas LG (ed.) 1994, *Anthropometry of the Head and Face*,
2nd ed., Raven Press, New York (North American Caucasian children, tables of head, face, orbits,
nose, lips and ears), and Hall JG, Allanson JE, Gripp KW, Slavotinek AM 2007, *Handbook of Physical
Measurements*, 2nd ed., Oxford University Press (charts of inner canthal, outer canthal and
interpupillary distance, palpebral fissure length, philtrum length, ear length). Newborn values
(age 0) are extrapolated from the 1-year values and the Handbook's neonatal charts; they are
coarse. Coefficients of variation are typical values from the same tables (4 to 9 %).

Limitation, shown to users in the app's About page: these norms come mostly from children of
European ancestry. Facial proportions differ between populations (Farkas LG et al. 2005,
J Craniofac Surg 16:615-646, "International anthropometric study of facial morphology in various
ethnic groups/races"); PhenoFace varies skin tone but not morphology with ancestry, because we hold
no paediatric norms for other populations to do it faithfully.
"""

from __future__ import annotations

import numpy as np

AGES = np.array([0.0, 1.0, 3.0, 6.0, 10.0, 14.0, 18.0], dtype=np.float32)

#: measurement -> (female means, male means, coefficient of variation). Means in mm at `AGES`.
_TABLE: dict[str, tuple[tuple[float, ...], tuple[float, ...], float]] = {
    "head_width": ((104, 124, 133, 138, 142, 145, 147), (106, 127, 137, 142, 146, 150, 153), 0.04),  # eu-eu
    "head_length": ((125, 150, 165, 172, 177, 181, 183), (128, 154, 170, 178, 183, 189, 193), 0.04),  # g-op
    "vertex_gnathion": ((125, 160, 180, 195, 206, 216, 221), (127, 163, 184, 200, 212, 226, 232), 0.04),  # v-gn
    "face_height": ((58, 76, 86, 96, 103, 109, 112), (60, 78, 88, 99, 107, 116, 121), 0.05),  # n-gn
    "face_width": ((78, 93, 101, 107, 115, 122, 124), (80, 95, 104, 110, 119, 127, 133), 0.045),  # zy-zy
    "mandible_width": ((60, 70, 75, 80, 86, 90, 92), (61, 71, 77, 82, 89, 95, 100), 0.06),  # go-go
    "forehead_height": ((32, 40, 46, 51, 54, 56, 57), (33, 41, 47, 52, 55, 58, 60), 0.09),  # tr-n
    "forehead_width": ((70, 84, 92, 97, 101, 104, 106), (72, 86, 94, 99, 104, 108, 111), 0.05),  # ft-ft
    "intercanthal": ((20, 25, 26.5, 28, 29, 30, 31), (20.5, 25.5, 27, 28.5, 30, 31, 32), 0.08),  # en-en
    "biocular": ((60, 70, 75, 79, 83, 86, 87), (61, 71, 76, 80, 84, 88, 90), 0.05),  # ex-ex
    "nose_height": ((26, 32, 36, 41, 45, 49, 50), (27, 33, 37, 42, 47, 52, 54), 0.07),  # n-sn
    "nose_width": ((20, 24, 25.5, 27, 29, 31, 31.5), (21, 25, 26.5, 28, 30, 33, 35), 0.07),  # al-al
    "philtrum": ((8.5, 10.5, 11.5, 12.5, 13.5, 14, 14), (9, 11, 12, 13, 14, 15, 16), 0.12),  # sn-ls
    "upper_vermilion": ((5.0, 5.8, 6.2, 6.8, 7.3, 7.8, 8.0), (5.0, 5.9, 6.3, 6.9, 7.4, 7.9, 8.3), 0.15),  # ls-sto
    "lower_vermilion": ((6.0, 7.2, 7.8, 8.3, 8.8, 9.3, 9.5), (6.0, 7.3, 7.9, 8.5, 9.1, 9.7, 10.2), 0.15),  # sto-li
    "mouth_width": ((28, 32, 36, 40, 44, 48, 49), (28, 33, 37, 41, 45, 50, 53), 0.07),  # ch-ch
    "ear_length": ((38, 45, 50, 54, 57, 59, 60), (40, 46, 52, 56, 59, 62, 64), 0.07),  # sa-sba
    "neck_width": ((48, 56, 62, 68, 75, 84, 88), (49, 58, 64, 70, 78, 92, 104), 0.08),
}

MEASUREMENTS: tuple[str, ...] = tuple(_TABLE)


def norm(name: str, age: float, sex: str) -> tuple[float, float]:
    """Mean and SD of one measurement for a child.

    Args:
        name: a key of `MEASUREMENTS`, e.g. ``"intercanthal"``.
        age: age in years, clipped to 0-18.
        sex: ``"female"`` or ``"male"``.

    Returns:
        (mean, sd) in mm.

    Raises:
        KeyError: unknown measurement.
        ValueError: sex is neither female nor male.
    """
    if sex not in ("female", "male"):
        raise ValueError(f"sex must be 'female' or 'male', not {sex!r}")
    female, male, cv = _TABLE[name]
    means = female if sex == "female" else male
    mean = float(np.interp(np.clip(age, 0.0, 18.0), AGES, np.asarray(means, dtype=np.float32)))
    return mean, mean * cv


def measure(name: str, age: float, sex: str, z: float) -> float:
    """A measurement in mm for a child whose value lies `z` SD from the mean for age and sex."""
    mean, sd = norm(name, age, sex)
    return mean + z * sd
