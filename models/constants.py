"""Names and bands that several packages share, defined once.

Importing this module imports nothing else.
"""

from __future__ import annotations

#: Catalogue key, classifier class and generator condition of a child without a syndrome.
UNAFFECTED = "unaffected"

#: Age bands in years (lower bound inclusive, upper exclusive except 18) used by every per-age
#: figure: infancy, early childhood, school age, adolescence.
AGE_BANDS: tuple[tuple[float, float], ...] = ((0, 2), (2, 6), (6, 12), (12, 18.01))

#: Monk Skin Tone bands: lighter (1-3), medium (4-7), darker (8-10).
SKIN_BANDS: tuple[tuple[int, int], ...] = ((1, 3), (4, 7), (8, 10))


def age_band(age: float | None) -> str:
    """``"0-2"``, ``"2-6"``, ``"6-12"``, ``"12-18"`` (years), or ``"unknown"`` for None or an age outside 0-18."""
    if age is None:
        return "unknown"
    for lo, hi in AGE_BANDS:
        if lo <= age < hi:
            return f"{lo:g}-{min(hi, 18):g}"
    return "unknown"


def skin_band(tone: int | None) -> str:
    """``"MST 1-3"``, ``"MST 4-7"``, ``"MST 8-10"`` or ``"unknown"``."""
    for lo, hi in SKIN_BANDS:
        if tone is not None and lo <= tone <= hi:
            return f"MST {lo}-{hi}"
    return "unknown"
