"""Frontal portrait renderer: a shaded height field of head, face, ears, hair, neck and shoulders.

The head is a height field z(x, y) in pixels (towards the camera): a rounded cranium and face
outline whose half-width per row follows the child's anthropometry, plus windowed Gaussian bumps
and ridges for brows, frontal bosses, eye sockets, eyeballs, nose, alae, philtral columns, lips,
chin, malar region and cheeks. Per-pixel normals from the height field are lit by a key light, a
fill light and a sky term, with wrapped diffuse shading for skin, Blinn-Phong highlights and an
ambient-occlusion term from the blurred height field, in linear light. Eyes (sclera, iris with
radial texture, pupil, catch-light), brows, lashes, lip colour, nostrils and hair are painted into
the albedo before shading or on top after it.

Anatomical sides: ``_r`` is the child's right, which appears on the image's left.
"""

from __future__ import annotations

import cv2
import numpy as np

from .eyes import brow, epicanthus, lashes, paint_eye
from .face_geometry import Frontal
from .hair import hair_layer
from .raster import (
    add_gauss,
    composite,
    grid,
    over,
    polyline,
    soft_ellipse,
    soft_polygon,
    srgb_to_linear,
    value_noise,
)
from .relief import head_relief, malar_y, nasal_tip_y
from .shading import apply_roll, auto_exposure, backdrop, shade, tone_curve

__all__ = ["Frontal", "render_frontal"]


def render_frontal(fr: Frontal, rng: np.random.Generator) -> tuple[np.ndarray, dict, dict]:
    """Draw the frontal portrait.

    Args:
        fr: the child's `Frontal` geometry.
        rng: generator for texture noise (seeded by the caller from the identity seed).

    Returns:
        image (S, S, 3) uint8 RGB, landmarks name -> (2,) float32 px, masks region -> (S, S) bool.
    """
    S, d, app, ppm = fr.S, fr.d, fr.app, fr.ppm
    Y, X = grid(S)
    shape = (S, S)
    rows = np.arange(S, dtype=np.float32)
    cx = fr.cx
    dx = X - cx

    z, head_a = head_relief(fr, rows, dx)
    mm = ppm
    eye_l, eye_r = fr.eye_points(+1), fr.eye_points(-1)
    y_zy = malar_y(fr)
    tip_y = nasal_tip_y(fr)

    # ---------------------------------------------------------------- albedo (linear light)
    skin = srgb_to_linear(app.skin)
    albedo = np.empty((S, S, 3), np.float32)
    albedo[:] = skin
    tex = value_noise(shape, 24, rng) * 0.025 + value_noise(shape, 90, rng) * 0.015
    albedo *= (1 + tex)[..., None]
    albedo *= np.array([1.07, 0.97, 0.95], np.float32)  # haemoglobin: skin reflects more red than its swatch
    blush = np.zeros(shape, np.float32)
    for side in (-1, 1):
        add_gauss(blush, cx + side * 0.55 * fr.face_hw, (y_zy + fr.y_sn) / 2, 0.3 * fr.face_hw, 0.22 * fr.face_hw, 0.9)
    over(albedo, albedo * np.array([1.05, 0.94, 0.95], np.float32) ** (1 - 0.5 * float(app.skin.mean())), blush)

    # darker skin shows relatively stronger specular highlights in photographs (more of its light is
    # surface reflection), which also carries the shape of the face
    spec = np.full(shape, 0.05 + 0.06 * (1 - float(app.skin.mean())), np.float32)
    # lips
    top, line, bottom = fr.mouth_points()
    upper_lip = soft_polygon(shape, np.concatenate([top, line[::-1]]), blur=0.3)
    lower_lip = soft_polygon(shape, np.concatenate([line, bottom[::-1]]), blur=0.4)
    lips = np.clip(upper_lip + lower_lip, 0, 1)
    lip_col = skin * np.array([0.66, 0.3, 0.32], np.float32) * (1 + 0.3 * skin.mean())
    over(albedo, lip_col, lips)
    # the vermilion border ("white roll") catches light just above the upper lip's outline
    roll = soft_polygon(shape, np.concatenate([top - [0, 0.09 * fr.uv], top[::-1] + [0, 0.05 * fr.uv]]), blur=0.5)
    over(albedo, np.minimum(skin * 1.12, 1.0), roll * (1 - upper_lip) * 0.6)
    spec += lips * 0.08
    # nostrils: darker and slightly recessed; anteverted nares show more of them
    ant = max(d["nares_anteversion"], 0)
    for side in (-1, 1):
        nx, ny = cx + side * 0.46 * fr.nose_hw, fr.y_sn - (0.05 + 0.02 * ant) * fr.nose_h
        nost = soft_ellipse(shape, nx, ny, 0.25 * fr.nose_hw, (0.095 + 0.05 * ant) * fr.nose_hw, side * 18)
        nost = cv2.GaussianBlur(nost, (0, 0), 0.5)
        over(albedo, skin * 0.12, nost * 0.92)
        z -= nost * 1.2 * mm
    # open mouth, tongue
    if d["open_mouth"] >= 0.3 or d["protruding_tongue"] >= 0.3:
        gap = (0.3 + 0.35 * min(max(d["open_mouth"], d["protruding_tongue"] * 0.6), 1.5)) * fr.uv
        cav = soft_ellipse(shape, cx, fr.y_sto + 0.1 * gap, 0.62 * fr.mouth_hw, gap)
        over(albedo, np.array([0.08, 0.015, 0.015], np.float32), cav)
        if fr.age > 1.0:
            teeth = cav * np.clip((fr.y_sto - 0.35 * gap - Y) / (0.4 * gap) + 1, 0, 1) * (Y < fr.y_sto)
            over(albedo, np.array([0.75, 0.72, 0.66], np.float32), teeth * 0.8)
        z -= cav * 2.0 * mm
    if d["protruding_tongue"] >= 0.3:
        t_len = (0.5 + 0.5 * min(d["protruding_tongue"], 1.5)) * fr.lv
        tongue = soft_ellipse(shape, cx, fr.y_sto + 0.5 * t_len, 0.38 * fr.mouth_hw, 0.55 * t_len + 0.1 * fr.lv)
        over(albedo, skin * np.array([0.85, 0.42, 0.45], np.float32) + 0.03, tongue)
        add_gauss(z, cx, fr.y_sto + 0.5 * t_len, 0.3 * fr.mouth_hw, 0.4 * t_len, 1.5 * mm)
        spec += tongue * 0.15

    # eyes painted into the albedo (shaded with the eyeball bump)
    eye_cover = np.zeros(shape, np.float32)
    for side, (up, lo, pupil) in ((1, eye_l), (-1, eye_r)):
        fissure = soft_polygon(shape, np.concatenate([up, lo[::-1]]))
        eye_cover = np.maximum(eye_cover, fissure)
        paint_eye(albedo, spec, fissure, up, pupil, fr, app, side, rng)
        if d["epicanthus"] >= 0.3:
            epicanthus(albedo, z, up, lo, fr, side, skin, min(d["epicanthus"], 1.5))
        if d["lower_lid_eversion"] >= 0.3:
            n = len(lo)
            seg = lo[int(n * 0.6) :]
            ever = np.concatenate([seg, seg[::-1] + np.array([0, 0.12 * fr.pfl * min(d["lower_lid_eversion"], 1.5)])])
            over(albedo, np.array([0.55, 0.18, 0.17], np.float32), soft_polygon(shape, ever, blur=0.4) * 0.8)
    if d["eyelid_coloboma"] >= 0.3:  # a notch in the lateral third of each lower lid margin
        for _side, (_up, lo, _p) in ((1, eye_l), (-1, eye_r)):
            k = int(len(lo) * 0.68)
            depth = 0.14 * fr.pfl * min(d["eyelid_coloboma"], 1.5)
            notch = np.array([lo[k - 2], lo[k + 2], (lo[k - 1] + lo[k + 1]) / 2 + [0, depth]])
            over(albedo, np.array([0.5, 0.2, 0.19], np.float32), soft_polygon(shape, notch, blur=0.3))
    # brows
    brow_mask = np.zeros(shape, np.float32)
    for side, (up, _lo, _p) in ((1, eye_l), (-1, eye_r)):
        brow_mask = np.maximum(brow_mask, brow(shape, fr, up, side))
    if d["synophrys"] >= 0.3:
        # the medial brows meet: a thinner band of hair joining their inner ends across the glabella
        reach = float(abs(eye_l[0][0, 0] - cx)) * 0.95
        bridge = soft_ellipse(shape, cx, fr.y_brow + 0.06 * fr.pfl, reach, 0.085 * fr.pfl)
        brow_mask = np.maximum(brow_mask, cv2.GaussianBlur(bridge, (0, 0), 0.8) * 0.7 * min(d["synophrys"], 1.2))
    # brow hairs lie sideways: fine variation across rows, coarse along them
    hairs = cv2.resize(
        rng.standard_normal((S, max(S // 24, 4))).astype(np.float32), (S, S), interpolation=cv2.INTER_LINEAR
    )
    strands = np.clip(0.93 + 0.15 * hairs, 0.7, 1.0)
    brow_dens = float(np.interp(fr.age, [0, 2, 6], [0.6, 0.9, 0.98]))
    brow_mask = np.clip(brow_mask * 1.5, 0, 1)  # an opaque core; blending in linear light leaks skin fast
    brow_col = srgb_to_linear(np.clip(np.minimum(app.hair * 0.6, app.skin * 0.7), 0, 1))
    over(albedo, brow_col, brow_mask * strands * brow_dens)
    spec *= 1 - 0.9 * brow_mask  # hair is matte here: a skin highlight on a brow reads as grey paint

    # ---------------------------------------------------------------- ears (behind the head)
    ear_z = np.zeros(shape, np.float32)
    ear_a = np.zeros(shape, np.float32)
    ear_pts = {}
    ear_shade = np.zeros(shape, np.float32)
    for side in (-1, 1):
        e_top = fr.y_brow + 0.35 * (fr.y_eye - fr.y_brow) - 0.85 * d["ear_height"] * 0.07 * fr.ear_len
        e_top += 0.6 * fr.asym * mm * (side < 0)
        ecy = e_top + fr.ear_len / 2
        edge = float(fr.half_width(np.array([ecy], np.float32))[0])
        width = (0.21 + 0.08 * d["ear_protrusion"]) * fr.ear_len
        ecx = cx + side * (edge + 0.08 * width)
        ang = side * (8 + 4 * d["ear_rotation"])
        ea = soft_ellipse(shape, ecx, ecy, width * 0.62, fr.ear_len / 2, ang)
        if d["earlobe_uplift"] >= 0.3:
            ea = np.maximum(
                ea,
                soft_ellipse(
                    shape,
                    ecx + side * 0.25 * width,
                    ecy + 0.38 * fr.ear_len,
                    0.3 * width,
                    0.14 * fr.ear_len,
                    -side * 35,
                ),
            )
        ear_a = np.maximum(ear_a, ea)
        # seen almost edge-on: the side that faces the head lies in its shadow, the helix rim catches light
        out = np.clip((np.abs(dx) - (edge - 0.1 * width)) / (0.75 * width), 0, 1)
        ear_shade = np.maximum(ear_shade, ea * (0.55 + 0.45 * out**0.7))
        add_gauss(ear_z, ecx, ecy, width * 0.5, fr.ear_len * 0.4, 0.25 * width)
        add_gauss(
            ear_z, ecx - side * 0.1 * width, ecy + 0.05 * fr.ear_len, width * 0.2, fr.ear_len * 0.15, -0.18 * width
        )
        ear_pts[side] = (np.array([ecx, e_top], np.float32), np.array([ecx, e_top + fr.ear_len], np.float32))
    ear_z += 0.4 * fr.face_hw

    # ---------------------------------------------------------------- neck, shoulders
    neck_top = fr.y_sto
    web = min(d["webbed_neck"], 1.5)
    shoulder_y = fr.y_gn + (0.03 + 0.06 * min(fr.age, 14) / 14) * S * max(1 + 0.25 * d["neck_length"], 0.2)
    nhw = np.full(S, fr.neck_hw, np.float32)
    nhw = nhw + np.clip(rows - shoulder_y + 0.03 * S, 0, None) ** 1.5 * 0.15
    neck_hw0 = nhw.copy()
    if web >= 0.3:
        # pterygium colli: a straight skin fold from the mastoid (below the ear) to the shoulder,
        # so the neck outline becomes a trapezoid instead of a waist
        top_y, top_w = fr.y_sto, fr.face_hw * (0.62 + 0.1 * min(web, 1.2))
        bot_y, bot_w = shoulder_y + 0.06 * S, fr.neck_hw * (1.9 + 0.4 * min(web, 1.2))
        t = np.clip((rows - top_y) / (bot_y - top_y), 0, 1)
        fold = (top_w + (bot_w - top_w) * t) * (rows > top_y)
        nhw = np.maximum(nhw, fr.neck_hw + (fold - fr.neck_hw) * min(web, 1.0))
    neck_a = np.clip((nhw[:, None] - np.abs(dx)) + 0.5, 0, 1) * (Y > neck_top)
    neck_z = nhw[:, None] * 0.8 * np.sqrt(np.clip(1 - (dx / nhw[:, None]) ** 2, 0, 1)) + 0.15 * fr.face_hw
    if web >= 0.3:  # the fold is thinner than the neck: a crease where it leaves the neck
        crease = np.exp(-0.5 * ((np.abs(dx) - neck_hw0[:, None]) / (0.04 * fr.neck_hw + 1)) ** 2)
        neck_z -= crease * (rows > fr.y_gn)[:, None] * 0.1 * fr.neck_hw * min(web, 1.2)
    sh_cy = shoulder_y + 0.55 * S * 0.45
    sh_rx = float(np.interp(fr.age, [0, 6, 18], [0.36, 0.46, 0.56])) * S
    shirt_a = soft_ellipse(shape, cx, sh_cy, sh_rx, 0.45 * S * 0.55)
    shirt_z = np.sqrt(np.clip(1 - ((X - cx) / sh_rx) ** 2 - ((Y - sh_cy) / (0.3 * S)) ** 2, 0, 1)) * 0.25 * S
    neckline = soft_ellipse(shape, cx, shoulder_y, 1.35 * fr.neck_hw, 0.16 * S)
    shirt_a = shirt_a * (1 - neckline)

    # ---------------------------------------------------------------- hair
    hair_a, hair_back, hair_z, hair_alb, hair_sp = hair_layer(fr, shape, rows, rng)

    # ---------------------------------------------------------------- compose buffers
    Z = np.zeros(shape, np.float32)
    A = np.zeros((S, S, 3), np.float32)
    SP = np.zeros(shape, np.float32)
    cover = np.zeros(shape, np.float32)
    skin_lin = skin
    layers = [
        (hair_back * (Y > fr.y_eye) * app.long_hair, hair_z - 0.6 * fr.face_hw, hair_alb, hair_sp),
        (neck_a, neck_z, skin_lin, 0.04),
        (shirt_a, shirt_z + 0.3 * fr.face_hw, srgb_to_linear(app.shirt), 0.03),
        (
            ear_a,
            ear_z,
            skin_lin * np.array([1.02, 0.9, 0.88], np.float32) * np.maximum(ear_shade, 0.55)[..., None],
            0.03,
        ),
        (head_a, z + 0.5 * fr.face_hw, albedo, spec),
        (
            hair_a * (Y <= fr.y_eye) + hair_a * (Y > fr.y_eye) * (1 - app.long_hair),
            hair_z + 0.5 * fr.face_hw,
            hair_alb,
            hair_sp,
        ),
    ]
    for a, zz, alb, sp in layers:
        composite(Z, A, SP, cover, a, zz, alb, sp)

    img = shade(Z, A, SP, app, S)
    img *= auto_exposure(img, head_a)
    # lashes, lid lines after shading (thin dark strokes)
    for side, (up, lo, _pupil) in ((1, eye_l), (-1, eye_r)):
        lashes(img, up, lo, fr, app, side)
    if d["open_mouth"] < 0.3 and d["protruding_tongue"] < 0.3:
        polyline(img, line, tuple(float(c) for c in lip_col * 0.25), max(S / 320, 1))

    bg = backdrop(shape, app, cx, fr.y_eye)
    out = bg * (1 - cover[..., None]) + img * cover[..., None]
    out = cv2.GaussianBlur(out, (0, 0), 0.35 + S / 900)
    out = tone_curve(out, toe=0.35 + 0.6 * (1 - float(app.skin.mean())))
    # sensor grain in the encoded image, so shadows are not noisier than highlights
    out += rng.standard_normal((S, S, 1)).astype(np.float32) * 0.006

    lm = {
        "pupil_r": eye_r[2],
        "pupil_l": eye_l[2],
        "endocanthion_r": eye_r[0][0],
        "exocanthion_r": eye_r[0][-1],
        "endocanthion_l": eye_l[0][0],
        "exocanthion_l": eye_l[0][-1],
        "nasion": np.array([cx, fr.y_n]),
        "pronasale": np.array([cx, tip_y]),
        "subnasale": np.array([cx, fr.y_sn]),
        "alare_r": np.array([cx - fr.nose_hw, fr.y_sn - 0.1 * fr.nose_h]),
        "alare_l": np.array([cx + fr.nose_hw, fr.y_sn - 0.1 * fr.nose_h]),
        "labiale_superius": np.array([cx, float(top[len(top) // 2, 1])]),
        "stomion": line[len(line) // 2],
        "labiale_inferius": bottom[len(bottom) // 2],
        "cheilion_r": line[0],
        "cheilion_l": line[-1],
        "gnathion": np.array([cx, fr.y_gn]),
        "trichion": np.array([cx, fr.y_tr]),
        "zygion_r": np.array([cx - fr.face_hw, y_zy]),
        "zygion_l": np.array([cx + fr.face_hw, y_zy]),
        "superaurale_r": ear_pts[-1][0],
        "subaurale_r": ear_pts[-1][1],
        "superaurale_l": ear_pts[1][0],
        "subaurale_l": ear_pts[1][1],
        "vertex": np.array([cx, fr.y_v]),
    }
    masks = _regions(fr, shape, Y, X, head_a, hair_a, ear_a, brow_mask, eye_cover, lips, y_zy)
    image, lm, masks = apply_roll(out, lm, masks, app.roll, (cx, fr.y_eye))
    return image, lm, masks


def _regions(fr: Frontal, shape, Y, X, head_a, hair_a, ear_a, brow_mask, eye_cover, lips, y_zy) -> dict:
    """Region masks (S, S) bool of the frontal portrait, named as in `spec.REGIONS`."""
    cx = fr.cx
    head = head_a > 0.5
    hair = hair_a > 0.5
    face = head & ~hair
    eyes = np.zeros(shape, bool)
    for side in (-1, 1):
        ex = cx + side * fr.pupil_hd
        eyes |= ((X - ex) / (0.85 * fr.pfl)) ** 2 + ((Y - fr.y_eye) / (0.5 * fr.pfl)) ** 2 < 1
    brows = (cv2.dilate((brow_mask > 0.3).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & face & ~eyes
    nose = (
        (np.abs(X - cx) < fr.nose_hw * (0.45 + 0.75 * np.clip((Y - fr.y_n) / max(fr.nose_h, 1), 0, 1)))
        & (Y > fr.y_n)
        & (Y < fr.y_sn + 0.02 * fr.S)
        & face
        & ~eyes
    )
    mouth = (
        (
            ((X - cx) / (1.15 * fr.mouth_hw)) ** 2
            + ((Y - (fr.y_sn + fr.y_li) / 2) / (0.62 * (fr.y_li - fr.y_sn) + 1)) ** 2
            < 1
        )
        & face
        & ~nose
    )
    chin = face & (Y > fr.y_li) & ~mouth
    forehead = face & (Y < fr.y_brow + 0.02 * fr.S) & ~brows & ~eyes
    cheeks = face & ~(eyes | brows | nose | mouth | chin | forehead)
    ears = (ear_a > 0.5) & ~head
    return {
        "forehead": forehead,
        "brows": brows,
        "eyes": eyes,
        "nose": nose,
        "mouth": mouth,
        "cheeks": cheeks,
        "chin": chin,
        "ears": ears,
        "hair": hair,
    }
