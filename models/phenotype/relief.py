"""The frontal portrait's head relief: a height field z(x, y) in pixels, towards the camera.

A rounded cranium and face outline whose half-width per row follows the child's anthropometry
(`Frontal.half_width`), plus windowed Gaussian bumps and ridges for the frontal bosses, brow
ridges, glabella, eye sockets, eyeballs, periorbital fullness, malar region, cheeks, midface,
nasal bridge, tip and alae, philtral columns, lips, mentolabial sulcus and chin. Each feature's
dimension (``fr.d``, in SD of the age- and sex-matched norm) scales its bump, so a syndrome's
facial features show in the shading. `models.phenotype.frontal` lights and paints it.
"""

from __future__ import annotations

import numpy as np

from .face_geometry import Frontal
from .raster import add_gauss, add_ridge


def nasal_tip_y(fr: Frontal) -> float:
    """Row of pronasale (the nasal tip) in pixels; anteverted nares lift it towards subnasale."""
    return fr.y_sn - (0.13 + 0.04 * fr.d["nares_anteversion"]) * fr.nose_h


def malar_y(fr: Frontal) -> float:
    """Row of the malar (cheekbone) prominence in pixels, 12 % of the face height below the eyes."""
    return fr.y_eye + 0.12 * fr.face_h


def head_relief(fr: Frontal, rows: np.ndarray, dx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The head's height field and its coverage.

    Args:
        fr: the child's `Frontal` geometry (S x S pixels, ``fr.ppm`` pixels per millimetre).
        rows: (S,) float32 row indices 0..S-1.
        dx: (S, S) float32 horizontal offset of each pixel from the facial midline ``fr.cx``, in pixels.

    Returns:
        z (S, S) float32 height in pixels, and head_a (S, S) float32 head coverage in [0, 1].
    """
    S, d, cx = fr.S, fr.d, fr.cx
    hw = fr.half_width(rows)
    hw_safe = np.maximum(hw, 1e-3)[:, None]
    u = dx / hw_safe
    inside = 1 - u * u
    flat = 0.55 - 0.05 * d["face_flatness"]
    z = hw_safe * 0.8 * np.power(np.clip(inside, 0, 1), flat)
    head_a = (np.clip((hw[:, None] - np.abs(dx)) + 0.5, 0, 1) * (hw[:, None] > 0.01 * S)).astype(np.float32)

    mm = fr.ppm
    prj = 1 - 0.1 * d["face_flatness"]
    eye_l, eye_r = fr.eye_points(+1), fr.eye_points(-1)
    # forehead, frontal bosses, brow ridge
    fore_y = fr.y_n - 0.55 * (fr.y_n - fr.y_tr)
    for side in (-1, 1):
        add_gauss(
            z,
            cx + side * 0.45 * fr.fore_hw,
            fore_y,
            0.3 * fr.fore_hw,
            0.3 * fr.fore_hw,
            (1.5 + 1.6 * d["frontal_bossing"]) * mm,
        )
        add_ridge(
            z,
            (cx + side * 0.16 * fr.face_hw, fr.y_brow + 1.5 * mm),
            (cx + side * 0.62 * fr.face_hw, fr.y_brow),
            3.2 * mm,
            1.8 * mm * prj,
            1.0 * mm * prj,
        )
    # prominent forehead: the whole forehead, midline included, comes forward
    add_gauss(z, cx, fore_y, 0.7 * fr.fore_hw, 0.45 * (fr.y_n - fr.y_tr), 1.2 * d["forehead_prominence"] * mm)
    # one soft glabella between the brow ridges: two ridges meeting in the midline read as a bar
    add_gauss(
        z,
        cx,
        fr.y_brow + 0.4 * (fr.y_eye - fr.y_brow),
        0.25 * fr.face_hw,
        0.7 * (fr.y_eye - fr.y_brow),
        1.0 * mm * prj,
    )
    for side, (up, _lo, pupil) in ((1, eye_l), (-1, eye_r)):
        ec = (up[0] + up[-1]) / 2
        L = fr.pfl
        add_gauss(z, ec[0] + side * 0.08 * L, ec[1] - 0.1 * L, 0.58 * L, 0.5 * L, -(7.0 + 1.4 * d["eye_depth"]) * mm)
        add_gauss(z, pupil[0], pupil[1] + 0.05 * L, 0.36 * L, 0.22 * L, 2.6 * mm)
        full = max(d["periorbital_fullness"], 0) * 0.55 + 0.3
        add_gauss(z, ec[0], ec[1] + 0.4 * L, 0.55 * L, 0.2 * L, full * mm)
        add_gauss(z, ec[0] + side * 0.1 * L, ec[1] - 0.45 * L, 0.55 * L, 0.2 * L, (full - 0.1) * mm)
    # malar region, midface, cheeks
    y_zy = malar_y(fr)
    baby = float(np.interp(fr.age, [0, 2, 8], [1.6, 1.0, 0.0]))
    for side in (-1, 1):
        add_gauss(
            z,
            cx + side * 0.58 * fr.face_hw,
            y_zy,
            0.24 * fr.face_hw,
            0.2 * fr.face_hw,
            (2.4 + 1.1 * d["malar_prominence"]) * mm * prj,
        )
        add_gauss(
            z,
            cx + side * 0.56 * fr.face_hw,
            (fr.y_sn + fr.y_sto) / 2,
            0.28 * fr.face_hw,
            0.26 * fr.face_hw,
            (1.6 + 1.3 * d["cheek_fullness"] + baby) * mm,
        )
    add_gauss(
        z,
        cx,
        (fr.y_eye + fr.y_sn) / 2 + 0.1 * fr.nose_h,
        0.45 * fr.face_hw,
        0.35 * fr.nose_h,
        (1.4 * d["midface_projection"]) * mm,
    )
    # nose: bridge ridge, tip, alae, columella
    bridge_age = float(np.interp(fr.age, [0, 3, 12], [0.7, 0.85, 1.0]))
    bridge_h = max((4.0 + 1.5 * d["nasal_bridge_height"]) * bridge_age, 0.5) * mm * prj
    bridge_w = (0.26 + 0.045 * d["nasal_bridge_width"]) * fr.nose_hw * 2
    tip_y = nasal_tip_y(fr)
    tip_h = (0.38 * fr.nose_h / mm + 3.0) * mm * prj * (0.8 + 0.2 * bridge_age)
    glabella_y = fr.y_brow + 0.35 * (fr.y_eye - fr.y_brow)
    add_ridge(z, (cx, glabella_y), (cx, fr.y_n), bridge_w * 1.3, 0.6 * mm * prj, 0.5 * bridge_h)
    add_ridge(z, (cx, fr.y_n + 0.08 * fr.nose_h), (cx, tip_y - 0.12 * fr.nose_h), bridge_w, bridge_h, tip_h * 0.8)
    tip_h *= 1 + 0.1 * d["nasal_tip_projection"]
    tip_w = (0.3 + 0.045 * d["nasal_tip_width"]) * fr.nose_hw
    add_gauss(z, cx, tip_y, tip_w, 0.16 * fr.nose_h, tip_h * 0.45)
    for side in (-1, 1):
        add_gauss(
            z,
            cx + side * 0.7 * fr.nose_hw,
            fr.y_sn - 0.1 * fr.nose_h,
            0.3 * fr.nose_hw,
            0.15 * fr.nose_h,
            0.7 * tip_h * max(1 + 0.15 * d["alar_fullness"], 0.3),
        )
        add_gauss(
            z,
            cx + side * 1.04 * fr.nose_hw,
            fr.y_sn - 0.1 * fr.nose_h,
            0.16 * fr.nose_hw,
            0.2 * fr.nose_h,
            -0.3 * tip_h,
        )  # alar crease
    # philtral columns, lips, mentolabial sulcus, chin
    pdepth = max(0.7 + 0.35 * d["philtrum_depth"], 0.0) * mm
    for side in (-1, 1):
        add_ridge(
            z,
            (cx + side * 0.17 * fr.mouth_hw, fr.y_sn + 0.1 * (fr.y_ls - fr.y_sn)),
            (cx + side * 0.23 * fr.mouth_hw, fr.y_ls),
            0.06 * fr.mouth_hw,
            pdepth * 0.6,
            pdepth,
        )
    add_gauss(z, cx, (fr.y_sn + fr.y_ls) / 2, 0.6 * fr.mouth_hw, 0.8 * (fr.y_ls - fr.y_sn), 1.5 * mm * prj)
    add_gauss(z, cx, fr.y_ls + 0.5 * fr.uv, 0.62 * fr.mouth_hw, 0.7 * fr.uv, 2.2 * mm)
    add_gauss(z, cx, fr.y_sto + 0.5 * fr.lv, 0.58 * fr.mouth_hw, 0.7 * fr.lv, 2.6 * mm)
    lower = fr.y_gn - fr.y_li
    add_gauss(z, cx, fr.y_li + 0.32 * lower, 0.5 * fr.mouth_hw, 0.14 * lower, -1.3 * mm)
    add_gauss(
        z, cx, fr.y_gn - 0.3 * lower, 0.45 * fr.mand_hw, 0.25 * lower, (2.6 + 0.9 * d["mandible_length"]) * mm * prj
    )
    return z, head_a
