"""Profile portrait renderer: the child's right side, facing the image's right.

The profile shows what a frontal view hides: ear position and rotation, nasal bridge height,
midface projection, chin and head shape. The skin is one height field z(x, y) in pixels (towards
the camera, i.e. the child's right): every image row is a transverse section of the head from the
occiput to the sagittal profile (forehead, glabella, nasion, nasal dorsum, pronasale, columella,
subnasale, lips, chin), half an ellipse behind the ear and a superellipse in front, as wide as the
frontal silhouette (`face_geometry.Frontal.half_width`) at that row. A cranium made this way is an
exact ellipsoid. The nose is a wedge on that section, the mandible ends at a soft jaw line and the
neck is a second row-wise solid; the two merge by a smooth maximum, so no seam or crease shows.
Per-row widths and the envelope's front are smoothed along y so that the cheek shades without
horizontal bands. Eye (lids, lashes, foreshortened iris, cornea) is painted here; ear, hair and
shirt are layers from `profile_parts`, all shaded with the frontal renderer's lighting
(`shading.shade`, without cast shadows) and metered to match the frontal view's skin brightness. Vertical levels
and widths come from the same anthropometry as the frontal view, so both views of one child agree.
"""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.ndimage import gaussian_filter1d, maximum_filter1d

from .appearance import Appearance
from .face_geometry import Frontal
from .norms import measure
from .profile_parts import Skull, ear_layer, hair_layer, shirt_layer
from .raster import add_gauss, add_ridge, grid, over, polyline, soft_polygon, srgb_to_linear, value_noise
from .shading import apply_roll, backdrop, shade, tone_curve


def _smax(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Smooth maximum of two height fields (same shape); blends where they differ by less than k px."""
    h = np.clip(0.5 + 0.5 * (a - b) / k, 0, 1)
    return b + (a - b) * h + k * h * (1 - h)


def _curve(knots) -> PchipInterpolator:
    """Monotone cubic x(y) through (y, x) knots (px); knots closer than 0.3 px in y are dropped."""
    k = np.array(sorted(knots))
    keep = np.concatenate([[True], np.diff(k[:, 0]) > 0.3])
    return PchipInterpolator(k[keep, 0], k[keep, 1], extrapolate=True)


def _smooth01(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0, 1)
    return t * t * (3 - 2 * t)


def render_profile(dims, age: float, sex: str, size: int, app: Appearance, rng: np.random.Generator):
    """Draw the right profile of a child.

    Args:
        dims: morphology dimension -> SD score (continuous) or amount >= 0 (categorical).
        age: years. sex: ``"female"``/``"male"``. size: image side S in pixels.
        app: `Appearance` (colours, light, roll). rng: noise generator seeded from the identity seed.

    Returns:
        image (S, S, 3) uint8 RGB, landmarks name -> (2,) float32 px (x, y), masks region -> (S, S) bool.
    """
    fr = Frontal(dims, age, sex, size, app)
    d, S, mm = dims, size, fr.ppm
    Y, X = grid(S)
    shape = (S, S)
    rows = np.arange(S, dtype=np.float32)
    nh = fr.nose_h
    # ------------------------------------------------------------ sagittal profile (px)
    flat = 1 - 0.12 * d["face_flatness"]
    head_len = measure("head_length", age, sex, 0.9 * d["head_size"] - 1.0 * d["cephalic_index"]) * mm
    x_n = 0.6 * S  # nasion; the face looks to the right
    nose_proj = (0.36 * nh / mm + 2.5) * mm * flat * float(np.interp(age, [0, 4, 14], [0.75, 0.88, 1.0]))
    bridge = (1.5 + 1.5 * d["nasal_bridge_height"]) * mm * float(np.interp(age, [0, 3, 12], [0.6, 0.8, 1.0]))
    mid = 1.9 * d["midface_projection"] * mm
    chin = (1.0 + 2.8 * d["mandible_length"]) * mm * flat
    boss = 1.6 * d["frontal_bossing"] * mm
    ant = d["nares_anteversion"]
    tip_up = (0.1 + 0.05 * ant) * nh
    colum = 1.0 * max(d["columella_low"], 0) * mm
    mouth_open = max(d["open_mouth"], 0.6 * d["protruding_tongue"])
    gap = (0.3 + 0.35 * min(mouth_open, 1.5)) * fr.uv if mouth_open >= 0.3 else 0.0
    y_li, y_gn = fr.y_li + gap, fr.y_gn + 0.8 * gap
    # cranium: a superellipse (length from the cephalic index) whose front meets the forehead
    a = 0.5 * head_len
    c_y = fr.y_n - 0.38 * (fr.y_n - fr.y_v)
    b = c_y - fr.y_v
    p_back = 2.0 + 0.5 * max(d["cephalic_index"], 0)  # brachycephaly flattens the occiput
    y_fh = fr.y_tr + 0.45 * (fr.y_brow - fr.y_tr)
    x_fh = x_n + (1.6 * mm + boss) * flat
    c_x = x_fh - a * np.sqrt(max(1 - ((y_fh - c_y) / b) ** 2, 0.05)) - 0.6 * boss

    sk = Skull(c_x, c_y, a, b, p_back)
    ell = sk.x_at

    x_sn = x_n + 0.25 * nose_proj + mid
    x_ls = x_n + 0.3 * nose_proj + mid + 0.08 * fr.uv
    x_li = x_n + 0.26 * nose_proj + 0.45 * mid + 0.12 * fr.lv - 0.2 * gap
    x_pg = x_n + 0.08 * nose_proj + chin
    x_me = x_pg - 5 * mm
    x_tip = x_n + nose_proj + mid
    y_tip = fr.y_sn - tip_up
    front = [(fr.y_v + f * (y_fh - fr.y_v), float(ell(fr.y_v + f * (y_fh - fr.y_v)))) for f in (0.02, 0.3, 0.6, 0.8)]
    front += [
        (fr.y_tr, float(ell(fr.y_tr)) + 0.5 * boss),
        (y_fh, x_fh),
        (fr.y_brow + 0.35 * (fr.y_n - fr.y_brow), x_n + 2.4 * mm * flat + 0.2 * boss),
        (fr.y_n, x_n + min(bridge - 1.5 * mm, 0.8 * mm)),
        (fr.y_n + 0.45 * nh, x_n + 0.45 * nose_proj + 0.55 * bridge + 0.5 * mid),
        (y_tip - 0.12 * nh, x_tip - 0.06 * nose_proj),
        (y_tip, x_tip),
        (y_tip + 0.07 * nh, x_tip - 0.08 * nose_proj),
        (fr.y_sn - 0.02 * nh + 0.7 * colum, x_n + 0.5 * nose_proj + mid),
        (fr.y_sn + 0.6 * colum, x_sn),
        (fr.y_sn + 0.55 * (fr.y_ls - fr.y_sn), x_sn - 0.03 * nose_proj),
        (fr.y_ls + 0.45 * fr.uv, x_ls),
        (fr.y_sto - 0.05 * fr.uv, x_ls - 0.35 * fr.uv),
        (fr.y_sto + 0.5 * gap, x_ls - 0.35 * fr.uv - 1.5 * gap),
        (fr.y_sto + gap + 0.05 * fr.lv, x_li - 0.4 * fr.lv),
        (y_li - 0.4 * fr.lv, x_li),
        (y_li + 0.35 * (y_gn - y_li), x_n + 0.03 * nose_proj + 0.5 * chin),
        (y_gn - 0.3 * (y_gn - y_li), x_pg),
        (y_gn - 0.08 * (y_gn - y_li), x_pg - 2 * mm),
        (y_gn, x_me),
    ]
    prof = _curve(front)
    # the face without the nose: a plane under the dorsum, joined softly to the profile
    y0, y1 = fr.y_n - 0.05 * nh, fr.y_sn + 0.3 * (fr.y_ls - fr.y_sn)
    t = np.clip((rows - y0) / (y1 - y0), 0, 1)
    plane = prof(y0) + (prof(y1) - prof(y0)) * t - 0.2 * nose_proj * np.sin(np.pi * t)
    xf_full = prof(np.clip(rows, fr.y_v, y_gn))
    xf = np.where((rows > y0) & (rows < y1), np.minimum(xf_full, plane + 0.5 * mm), xf_full)
    xf = cv2.GaussianBlur(xf.reshape(-1, 1).astype(np.float32), (1, 0), 1.5).ravel()
    xf = np.minimum(xf, xf_full)

    # ------------------------------------------------------------ skin height field: head + neck
    hw = fr.half_width(np.minimum(rows, fr.y_sto))
    t = _smooth01((rows - fr.y_sto) / (y_gn - fr.y_sto))
    hw = hw + (0.92 * fr.mand_hw - hw) * t  # the lower face narrows to the mandible's body
    # one smooth taper from the cheekbones to the mandible: the frontal half-width has slope changes
    # at the mouth and chin that would shade as horizontal bands across the cheek
    lower = _smooth01((rows - fr.y_eye) / (0.25 * (fr.y_gn - fr.y_eye)))
    hw = (
        gaussian_filter1d(hw, 4 * mm, mode="nearest") * (1 - lower)
        + gaussian_filter1d(hw, 14 * mm, mode="nearest") * lower
    )
    xb = gaussian_filter1d(ell(np.minimum(rows, c_y + 0.6 * b), back=True), 4 * mm, mode="nearest")
    # front band of fixed depth (so the profile's hollows do not echo across the cheek), flat middle, round back
    band = 0.24 * head_len
    xm = np.maximum(c_x, xb + 1)
    p = 2.1 * (1 + 0.1 * d["face_flatness"])  # superellipse exponent of the transverse section
    # the envelope's front follows a smooth upper hull of the profile: per-row jumps of the lips and chin
    # would otherwise shift the whole band and stripe the cheek; the profile itself is cut in by `cut`
    xs = gaussian_filter1d(maximum_filter1d(xf, max(int(12 * mm), 1), mode="nearest"), 5 * mm, mode="nearest")
    uf = np.clip((X - (xs - band)[:, None]) / band, 0, 1)  # smooth envelope; hollows cut in only near the edge
    cut = _smooth01((xf[:, None] - X) / (5 * mm))
    ub = np.clip((xm[:, None] - X) / np.maximum(xm - xb, 1)[:, None], 0, 1)
    z_head = hw[:, None] * np.power(1 - np.power(uf, p), 1 / p) * np.sqrt(1 - ub * ub) * np.sqrt(cut)
    z_head *= (rows >= fr.y_v)[:, None]
    baby = float(np.interp(age, [0, 2, 8], [1.0, 0.6, 0.0]))
    # neck: a row-wise solid, leaning forward from the shoulders; its top-front is the under-chin
    web = min(max(d["webbed_neck"], 0), 1.5) * (d["webbed_neck"] >= 0.3)
    y_sh = fr.y_gn + (0.05 + 0.06 * min(age, 14) / 14) * S
    x_th = x_n - 0.1 * head_len
    y_th = y_gn + 0.22 * (x_me - x_th) * (1 - 0.3 * baby)
    nf = _curve(
        [
            (fr.y_sto, x_me - 6 * mm),
            (y_gn + 0.3, x_me - 1.0 * mm),
            (y_gn + 0.45 * (y_th - y_gn), x_th + 0.5 * (x_me - x_th)),
            (y_th, x_th + 2 * mm),
            (y_sh, x_th - 0.04 * head_len),
            (S + 5, x_th - 0.06 * head_len),
        ]
    )
    nb = _curve(
        [
            (c_y + 0.5 * b, x_th - 0.6 * head_len),
            (y_sh - 0.05 * S, x_th - (0.53 + 0.05 * web) * head_len),
            (S + 5, x_th - (0.56 + 0.15 * web) * head_len),
        ]
    )
    # jaw line: from menton back to gonion and on to the occiput; the mandible rolls off above it
    y_go = fr.y_sto + 0.45 * (fr.y_gn - fr.y_sto) + 0.5 * gap
    x_go = c_x + 0.02 * head_len
    x_oc = float(ell(c_y + 0.75 * b, back=True))
    jaw_x = [x_oc - 2 * mm, float(nb(y_go)) + 3 * mm, x_go, x_me, x_me + 30 * mm]
    jaw_y = [y_go + 6 * mm, y_go + 4 * mm, y_go, y_gn + 0.5 * mm, y_gn + 0.5 * mm]
    y_jaw = np.interp(X[0], jaw_x, jaw_y).astype(np.float32)
    fall = _smooth01((y_jaw[None, :] - Y) / ((18 + 4 * baby) * mm) + 0.5)
    y_ntop = c_y + 0.5 * b
    x_nf, x_nb = nf(np.maximum(rows, fr.y_sto)), nb(np.maximum(rows, y_ntop))
    t = np.clip((rows - y_gn) / (y_sh - y_gn), 0, 1)
    n_hw = fr.neck_hw * (1.05 + 0.25 * web * t) + max(0.85 * fr.mand_hw - fr.neck_hw, 0) * (1 - _smooth01(t))
    depth = float(nf(y_sh) - nb(y_sh))
    un = np.clip((X - (x_nf - 0.35 * depth)[:, None]) / (0.35 * depth), 0, 1)
    ub = np.clip(((x_nb + 0.4 * depth)[:, None] - X) / (0.4 * depth), 0, 1)
    z_neck = (n_hw * _smooth01((rows - y_ntop) / (0.08 * S)))[:, None] * np.sqrt((1 - un**2.2) * (1 - ub * ub))
    # the mandible's lower border rolls into the neck; near it the neck never stands proud of the jaw
    # (that would light a bright rim along the jaw line)
    z_neck -= np.maximum(z_neck - z_head, 0) * _smooth01((y_jaw[None, :] - Y) / ((10 + 3 * baby) * mm) + 1.5)
    z = z_neck + (z_head - z_neck) * fall
    # outline: head polygon (profile, jaw, occiput, vault) united with the neck, concave corners filleted
    ys = np.linspace(fr.y_v, y_gn, 90)
    vault = np.linspace(c_y + 0.75 * b, fr.y_v, 40)
    head_poly = np.concatenate(
        [
            np.stack([prof(ys), ys], 1),
            np.stack([jaw_x[3:0:-1], jaw_y[3:0:-1]], 1),
            np.stack([ell(vault, back=True), vault], 1),
        ]
    )
    ns = np.linspace(y_ntop, S + 4, 60)
    neck_poly = np.concatenate(
        [np.stack([nb(ns), ns], 1), np.stack([nf(np.maximum(ns[::-1], fr.y_sto)), ns[::-1]], 1)]
    )
    skin_a = np.maximum(soft_polygon(shape, head_poly), soft_polygon(shape, neck_poly))
    fil = cv2.GaussianBlur(skin_a, (0, 0), 0.012 * S)
    skin_a = np.maximum(skin_a, np.clip((fil - 0.5) * 3 + 0.5, 0, 1) * (Y > fr.y_gn - 0.05 * S))
    # nose wedge, alae, facial relief
    wn = (
        np.interp(
            rows,
            [fr.y_n - 0.2 * nh, fr.y_n + 0.3 * nh, y_tip - 0.1 * nh, fr.y_sn + 0.05 * nh, fr.y_sn + 0.2 * nh],
            [0, 0.45, 0.6, 0.5, 0],
        )
        * fr.nose_hw
    )
    nw = (slice(max(int(fr.y_n - 0.2 * nh), 0), int(fr.y_sn + 0.2 * nh) + 2), slice(int(x_n - 0.3 * head_len), S))
    wn_, tn = wn[nw[0], None], np.clip(xf_full[nw[0], None] - X[nw], 0, None)  # the nose, in its window
    z[nw] = _smax(z[nw], wn_ * (1 - np.exp(-1.8 * tn / np.maximum(wn_, 0.5))) * (tn > 0), 1.5 * mm)
    ala_x, ala_y = x_n + 0.42 * nose_proj + mid, fr.y_sn - (0.12 + 0.03 * ant) * nh - 0.5 * colum
    add_gauss(z, ala_x, ala_y, 0.33 * fr.nose_hw, 0.16 * nh, 0.35 * fr.nose_hw)
    L = fr.pfl
    eye_x = x_n - (6.5 + 1.2 * d["eye_depth"]) * mm - 0.4 * bridge  # corneal apex
    add_gauss(z, eye_x - 0.25 * L, fr.y_eye - 0.05 * L, 0.55 * L, 0.5 * L, -(3.5 + 1.2 * d["eye_depth"]) * mm)
    add_gauss(z, eye_x - 0.3 * L, fr.y_eye, 0.35 * L, 0.3 * L, 2.6 * mm)
    add_ridge(
        z,
        (eye_x + 0.1 * L, fr.y_brow + 0.1 * L),
        (eye_x - 0.9 * L, fr.y_brow + 0.05 * L),
        0.18 * L,
        1.5 * mm,
        0.8 * mm,
    )
    malar = (1.8 + 1.0 * d["malar_prominence"] + 0.8 * d["cheek_fullness"] + 2.0 * baby) * mm
    add_gauss(z, eye_x - 0.2 * head_len, fr.y_eye + 0.2 * fr.face_h, 0.1 * head_len, 0.12 * fr.face_h, malar)
    add_gauss(z, eye_x - 1.1 * L, fr.y_brow, 0.4 * L, 0.6 * L, -1.5 * mm)  # temple
    if web:
        add_ridge(z, (x_oc + 0.2 * a, fr.y_sto), (x_oc - 0.1 * a, y_sh), 0.08 * a, 3 * web * mm, 5 * web * mm)
    # tongue: an ellipsoid resting between the lips
    tongue = np.zeros(shape, np.float32)
    if d["protruding_tongue"] >= 0.3:
        t_len = (0.5 + 0.6 * min(d["protruding_tongue"], 1.5)) * fr.lv + 3 * mm
        tcx, tcy = x_li - 0.5 * fr.lv + 0.5 * t_len, fr.y_sto + 0.55 * gap
        tongue = soft_polygon(
            shape,
            cv2.ellipse2Poly((int(tcx * 4), int(tcy * 4)), (int(t_len * 2), int(gap * 2.2)), -8, 0, 360, 15) / 4.0,
            blur=0.5,
        )
        z = np.maximum(z, tongue * (0.45 * fr.mouth_hw))
        skin_a = np.maximum(skin_a, tongue)

    # ------------------------------------------------------------ skin albedo: lips, nostril, eye, brow
    skin = srgb_to_linear(app.skin) * np.array([1.07, 0.97, 0.95], np.float32)
    albedo = np.empty((S, S, 3), np.float32)
    albedo[:] = skin
    albedo *= (1 + value_noise(shape, 24, rng) * 0.025)[..., None]
    x_ch = x_ls - 0.55 * fr.mouth_hw  # cheilion seen from the side
    up_lip = np.array(
        [
            [x_ch, fr.y_sto + 0.3 * gap],
            [x_ls - 0.5 * fr.uv, fr.y_ls - 0.1 * fr.uv],
            [x_ls + 1.0, fr.y_ls + 0.45 * fr.uv],
            [x_ls + 1.0, fr.y_sto],
            [x_ch, fr.y_sto + 0.4 * gap],
        ]
    )
    lo_lip = np.array(
        [
            [x_ch, fr.y_sto + 0.5 * gap],
            [x_li + 1.0, fr.y_sto + gap],
            [x_li + 1.0, y_li],
            [x_li - 0.6 * fr.lv, y_li + 0.15 * fr.lv],
            [x_ch, fr.y_sto + 0.6 * gap + 0.2 * fr.lv],
        ]
    )
    lips = np.maximum(soft_polygon(shape, up_lip, 0.6), soft_polygon(shape, lo_lip, 0.6)) * skin_a
    over(albedo, skin * np.array([0.72, 0.36, 0.37], np.float32) * (1 + 0.3 * skin.mean()), lips * 0.9)
    over(albedo, skin * np.array([0.85, 0.42, 0.45], np.float32) + 0.03, tongue)
    if gap > 0:
        cav = soft_polygon(
            shape,
            np.array(
                [
                    [x_ch + 0.1 * fr.mouth_hw, fr.y_sto + 0.45 * gap],
                    [x_ls - 0.2 * fr.uv, fr.y_sto],
                    [x_li - 0.3 * fr.lv, fr.y_sto + gap],
                ]
            ),
            0.5,
        )
        over(albedo, np.array([0.06, 0.012, 0.012], np.float32), cav * (1 - tongue))
    # nostril: a dark crescent between ala and columella; anteverted nares turn it to the camera
    nost = np.array(
        [
            [ala_x - 0.05 * fr.nose_hw, fr.y_sn - 0.03 * nh],
            [ala_x + 0.3 * fr.nose_hw, ala_y + (0.02 - 0.05 * max(ant, 0)) * nh],
            [x_tip - 0.18 * nose_proj, y_tip + (0.06 - 0.015 * max(ant, 0)) * nh],
            [ala_x + 0.35 * fr.nose_hw, fr.y_sn - 0.02 * nh + 0.5 * colum],
        ]
    )
    nost_a = soft_polygon(shape, nost, 0.7 + 0.2 * max(ant, 0))
    over(albedo, skin * 0.12, nost_a * float(np.clip(0.75 + 0.12 * ant, 0.4, 0.95)))
    # eye from the side: fissure wedge from the lateral canthus to the cornea, iris a narrow ellipse
    op = L * 0.36 * (1 - 0.15 * max(d["ptosis"], 0))
    ex_c = np.array([eye_x - 0.62 * L, fr.y_eye + 0.02 * L])
    tt = np.linspace(0, 1, 12)[:, None]
    lid_up = (
        ex_c + tt * np.array([0.62 * L, -0.02 * L]) + np.c_[0.0 * tt, -op * 0.75 * np.sin(np.pi * tt**1.6 / 2 + 0.15)]
    )
    lid_lo = ex_c + tt * np.array([0.55 * L, 0.0]) + np.c_[0.0 * tt, op * 0.28 * np.sin(np.pi * tt**1.3 / 2)]
    fis = soft_polygon(shape, np.concatenate([lid_up, [[eye_x + 0.02 * L, fr.y_eye]], lid_lo[::-1]]), 0.4)
    shade_fis = np.clip((X - ex_c[0]) / (0.6 * L), 0, 1)
    over(
        albedo,
        srgb_to_linear(np.array([0.86, 0.83, 0.8], np.float32))[None, None] * (0.45 + 0.55 * shade_fis)[..., None],
        fis,
    )
    iris_c = (eye_x - 0.1 * L, fr.y_eye - 0.06 * L)
    iris = (
        soft_polygon(
            shape,
            cv2.ellipse2Poly(
                (int(iris_c[0] * 8), int(iris_c[1] * 8)), (int(0.07 * L * 8), int(fr.iris_r * 8)), 4, 0, 360, 15
            )
            / 8.0,
            0.3,
        )
        * fis
    )
    over(albedo, srgb_to_linear(app.eye) * 0.8, iris)
    over(
        albedo,
        np.zeros(3, np.float32),
        iris * np.clip(1 - np.abs(X - iris_c[0] + 0.01 * L) / (0.04 * L), 0, 1) ** 0.5 * 0.85,
    )
    add_gauss(z, eye_x - 0.35 * L, fr.y_eye - op - 0.12 * L, 0.3 * L, 0.05 * L, -0.6 * mm)  # upper lid crease
    brow_a = soft_polygon(
        shape,
        np.array(
            [
                [eye_x + 0.15 * L, fr.y_brow + 0.03 * L],
                [eye_x - 0.2 * L, fr.y_brow - 0.1 * L],
                [eye_x - 0.95 * L, fr.y_brow - 0.04 * L],
                [eye_x - 0.8 * L, fr.y_brow + 0.1 * L],
                [eye_x + 0.05 * L, fr.y_brow + 0.12 * L],
            ]
        ),
        0.9 + S / 500,
    )
    brow_a *= 0.7 + 0.1 * d["brow_thickness"] + 0.12 * np.clip(value_noise(shape, S // 5, rng), -1, 1)

    ear = ear_layer(fr, d, sk, z, albedo, skin)
    y_nape = max(ear.centre[1] + 0.75 * ear.length, sk.c_y + 0.8 * b) + 0.06 * web * S
    hair_a, hair_z, hair_alb, hair_sp = hair_layer(
        fr, app, age, sk, ear, (float(prof(fr.y_tr)), fr.y_tr), nb, y_nape, y_sh, boss, rng
    )
    brow_col = srgb_to_linear(np.minimum(app.hair * 0.8, app.skin * 0.45))
    over(albedo, brow_col, np.clip(brow_a, 0, 1) * (1 - hair_a))
    shirt_a, shirt_z, collar_shade = shirt_layer(S, mm, float(nf(y_sh)), float(nb(y_sh)), y_sh, float(n_hw.max()))
    albedo *= collar_shade[..., None]

    # ------------------------------------------------------------ compose and shade (lit from in front of the face)
    lt = dataclasses.replace(app, light=app.light * np.array([-1, 1, 1], np.float32))
    Z, A = z * 1.0, albedo
    SP = np.full(shape, 0.05, np.float32) + 0.08 * lips + 0.3 * fis
    cover = skin_a.copy()
    for a_, zz, alb, sp in (
        (shirt_a, shirt_z, srgb_to_linear(app.shirt), 0.03),
        (hair_a, hair_z, hair_alb, hair_sp),
        (ear.alpha, ear.z, ear.albedo, 0.05),
    ):
        Z = Z * (1 - a_) + zz * a_
        over(A, alb, a_)
        SP = SP * (1 - a_) + sp * a_
        cover = np.maximum(cover, a_)
    cols = np.flatnonzero(cover.max(0) > 0)  # shade only the columns the child covers
    c0, c1 = max(int(cols[0]) - 4, 0), min(int(cols[-1]) + 5, S)
    img = np.zeros((S, S, 3), np.float32)
    img[:, c0:c1] = shade(Z[:, c0:c1], A[:, c0:c1], SP[:, c0:c1], lt, S, shadows=False)
    # metered like the frontal view, whose skin is mostly turned from the camera: a side view's broad
    # cheek faces it and would otherwise read paler than the same child seen from the front
    meter = (skin_a > 0.5) & (hair_a < 0.5) & (Y < fr.y_gn)
    lum = float((img[meter] @ np.array([0.2126, 0.7152, 0.0722], np.float32)).mean()) if meter.any() else 0.18
    img *= float(np.clip((0.257 / max(lum, 1e-4)) ** 0.407, 0.5, 5.0))  # fitted to the frontal's cheeks
    # lash line and lashes, mouth line, drawn over the shading
    lw = max(S / 400, 1)
    polyline(img, lid_up[2:], (0.03, 0.02, 0.02), lw)
    for i in range(4, 12, 2):
        p0 = lid_up[i]
        polyline(img, np.array([p0, p0 + [0.08 * L, -0.1 * L], p0 + [0.16 * L, -0.13 * L]]), (0.02, 0.015, 0.015), lw)
    if gap == 0:
        polyline(
            img,
            np.array(
                [
                    [x_ls - 0.3 * fr.uv, fr.y_sto],
                    [x_ch + 0.3 * (x_ls - x_ch), fr.y_sto + 0.04 * fr.uv],
                    [x_ch, fr.y_sto + 0.12 * fr.uv],
                ]
            ),
            (0.06, 0.025, 0.025),
            lw,
        )
    bg = backdrop(shape, app, 0.5 * S, fr.y_eye)
    out = bg * (1 - cover[..., None]) + img * cover[..., None]
    out = cv2.GaussianBlur(out, (0, 0), 0.35 + S / 900)
    out = tone_curve(out)
    out += rng.standard_normal((S, S, 1)).astype(np.float32) * 0.006

    sa, sb = ear.centre + ear.up * 0.5 * ear.length, ear.centre - ear.up * 0.5 * ear.length
    lm = {
        "vertex": np.array([c_x, fr.y_v]),
        "trichion": np.array([prof(fr.y_tr), fr.y_tr]),
        "nasion": np.array([prof(fr.y_n), fr.y_n]),
        "pronasale": np.array([x_tip, y_tip]),
        "subnasale": np.array([prof(fr.y_sn), fr.y_sn]),
        "stomion": np.array([prof(fr.y_sto), fr.y_sto]),
        "pogonion": np.array([x_pg, y_gn - 0.3 * (y_gn - y_li)]),
        "gnathion": np.array([x_me + 1.5 * mm, y_gn - 0.5 * mm]),
        "exocanthion_r": ex_c,
        "superaurale_r": sa,
        "subaurale_r": sb,
    }
    lm = {k: np.asarray(v, np.float32) for k, v in lm.items()}
    face = (skin_a > 0.5) & (hair_a < 0.5) & (ear.alpha < 0.5) & (Y < y_gn + 0.01 * S)
    masks = {
        "forehead": face & (Y < fr.y_brow) & (X > ear.front),
        "brows": (brow_a > 0.3) & face,
        "eyes": face & (((X - eye_x + 0.3 * L) / (0.5 * L)) ** 2 + ((Y - fr.y_eye) / (0.35 * L)) ** 2 < 1),
        "nose": face & (Y > fr.y_n) & (Y < fr.y_sn + 0.01 * S) & (X > eye_x + 0.15 * L),
        "mouth": face & (Y >= fr.y_sn + 0.01 * S) & (Y < y_li) & (X > x_ch - 2 * mm),
        "chin": face & (Y >= y_li) & (X > x_ch - 0.1 * head_len),
        "ears": ear.alpha > 0.5,
        "hair": hair_a > 0.5,
    }
    masks["cheeks"] = (
        face & (Y > fr.y_eye) & (Y < y_li) & (X > ear.front) & ~(masks["nose"] | masks["mouth"] | masks["eyes"])
    )
    return apply_roll(out, lm, masks, app.roll * 0.5, (x_n, fr.y_eye))
