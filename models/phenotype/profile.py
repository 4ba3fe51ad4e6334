"""Profile portrait renderer (the child's right side, facing the image's right).

The profile shows what a frontal view hides: ear position and rotation, nasal bridge height,
midface projection, chin and head shape. The head is a silhouette made of the sagittal facial
profile (forehead, glabella, nasion, nasal dorsum, pronasale, subnasale, lips, chin) and the
cranial vault (an ellipse whose length follows the cephalic index), inflated into a height field by
its distance transform, with bumps for the malar region, eye, ala, lips and ear, and shaded with the
same lighting as the frontal renderer. Vertical positions come from the same anthropometry
(`frontal.Frontal`), so both views of one child agree.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.interpolate import PchipInterpolator

from .appearance import Appearance
from .face_geometry import Frontal
from .norms import measure
from .raster import add_gauss, add_ridge, grid, over, polyline, soft_ellipse, soft_polygon, srgb_to_linear, value_noise
from .shading import apply_roll, auto_exposure, backdrop, shade


def render_profile(dims, age: float, sex: str, size: int, app: Appearance, rng):
    """Draw the right profile of a child.

    Args:
        dims: morphology dimension -> SD score / amount.
        age: years. sex: ``"female"``/``"male"``. size: image side in pixels.
        app: `Appearance`. rng: noise generator seeded from the identity seed.

    Returns:
        image (S, S, 3) uint8 RGB, landmarks name -> (2,) float32 px, masks region -> (S, S) bool.
    """
    fr = Frontal(dims, age, sex, size, app)
    d, S, mm = dims, size, fr.ppm
    Y, X = grid(S)
    shape = (S, S)
    flat = 1 - 0.12 * d["face_flatness"]
    head_len = measure("head_length", age, sex, 0.9 * d["head_size"] - 1.0 * d["cephalic_index"]) * mm
    x_n = 0.62 * S  # nasion sits right of centre; the face looks to the right
    nose_proj = (0.36 * fr.nose_h / mm + 2.5) * mm * flat * float(np.interp(age, [0, 4, 14], [0.75, 0.88, 1.0]))
    bridge = (1.5 + 1.3 * d["nasal_bridge_height"]) * mm * float(np.interp(age, [0, 3, 12], [0.6, 0.8, 1.0]))
    mid = 1.6 * d["midface_projection"] * mm
    chin = (1.0 + 2.8 * d["mandible_length"]) * mm * flat
    boss = (1.5 + 1.5 * d["frontal_bossing"]) * mm
    tip_up = (0.1 + 0.05 * d["nares_anteversion"]) * fr.nose_h
    colum = 0.9 * max(d["columella_low"], 0) * mm
    # sagittal profile: (y, x) knots from trichion to under the chin
    knots = [
        (fr.y_tr - 0.2 * (fr.y_tr - fr.y_v), x_n - 7 * mm),
        (fr.y_tr, x_n - 2.5 * mm + 0.3 * boss),
        ((fr.y_tr + fr.y_brow) / 2, x_n + boss * 0.8),
        (fr.y_brow + 0.3 * (fr.y_n - fr.y_brow), x_n + 2.2 * mm * flat),
        (fr.y_n, x_n + min(bridge - 1.5 * mm, 0.5 * mm)),
        (fr.y_n + 0.45 * fr.nose_h, x_n + 0.5 * nose_proj + bridge * 0.4 + mid * 0.3),
        (fr.y_sn - tip_up - 0.08 * fr.nose_h, x_n + nose_proj + mid * 0.5),
        (fr.y_sn - tip_up + 0.03 * fr.nose_h, x_n + nose_proj * 0.92 + mid * 0.5),
        (fr.y_sn + colum * 0.6, x_n + 0.25 * nose_proj + mid + colum * 0.3),
        (fr.y_sn + 0.4 * (fr.y_ls - fr.y_sn), x_n + 0.2 * nose_proj + mid),
        (fr.y_ls + 0.4 * fr.uv, x_n + 0.3 * nose_proj + mid + 0.05 * fr.uv),
        (fr.y_sto, x_n + 0.22 * nose_proj + mid * 0.6),
        (fr.y_li - 0.35 * fr.lv, x_n + 0.27 * nose_proj + mid * 0.4 + 0.1 * fr.lv * d["lower_lip_height"]),
        (fr.y_li + 0.35 * (fr.y_gn - fr.y_li), x_n + 0.02 * nose_proj + chin * 0.5),
        (fr.y_gn - 0.25 * (fr.y_gn - fr.y_li), x_n + 0.08 * nose_proj + chin),
        (fr.y_gn, x_n + chin - 2 * mm),
    ]
    ky = np.array([k[0] for k in knots])
    kx = np.array([k[1] for k in knots])
    order = np.argsort(ky)
    ky, kx = ky[order], kx[order]
    keep = np.concatenate([[True], np.diff(ky) > 0.5])
    prof = PchipInterpolator(ky[keep], kx[keep])
    ys = np.linspace(ky[0], ky[-1], 80)
    front = np.stack([prof(ys), ys], 1)
    # cranium: ellipse from vertex to occiput, centred behind the forehead
    c_x = x_n - 0.5 * head_len + 3 * mm
    c_y = fr.y_n - 0.33 * (fr.y_n - fr.y_v)
    a, b = 0.5 * head_len, c_y - fr.y_v
    theta = np.linspace(-np.pi / 2, np.pi * 0.95, 80)  # from the vertex round the back
    start = np.arctan2((knots[0][0] - c_y) / b, (knots[0][1] - c_x) / a)
    theta = np.linspace(start, -np.pi / 2 - np.pi * 0.72, 90)
    cran = np.stack([c_x + a * np.cos(theta), c_y + b * np.sin(theta)], 1)
    neck_w = 1.05 * fr.neck_hw * 2
    shoulder_y = fr.y_gn + (0.05 + 0.06 * min(age, 14) / 14) * S
    jaw_back = np.array([x_n - 0.42 * head_len, fr.y_sto + 0.35 * (fr.y_gn - fr.y_sto)])
    neck_front_x = x_n - 0.08 * head_len
    under = np.array(
        [
            [x_n + chin - 6 * mm, fr.y_gn + 1.5 * mm],
            [neck_front_x + 4 * mm, fr.y_gn + 0.06 * S * 0.4],
            [neck_front_x, shoulder_y],
            [neck_front_x, S + 2],
            [neck_front_x - neck_w, S + 2],
            [neck_front_x - neck_w, fr.y_gn],
        ]
    )
    head_a = soft_polygon(shape, np.concatenate([front, under, cran[::-1]]))
    dist = cv2.distanceTransform((head_a > 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    # blurring the distance hides the medial-axis creases that a raw distance transform shades as ridges
    z = cv2.GaussianBlur(np.sqrt(dist * 0.5 * head_len), (0, 0), 0.03 * S) * 0.9
    # facial bumps
    eye_x = x_n - (9 + 1.2 * d["eye_depth"]) * mm - 0.5 * bridge
    add_gauss(z, eye_x + 2 * mm, fr.y_eye, 0.45 * fr.pfl, 0.4 * fr.pfl, -(3.5 + 1.2 * d["eye_depth"]) * mm)
    add_gauss(z, eye_x, fr.y_eye, 0.22 * fr.pfl, 0.18 * fr.pfl, 2.0 * mm)
    malar_x = x_n - 0.25 * head_len * 0.6
    add_gauss(
        z,
        malar_x,
        fr.y_eye + 0.15 * fr.face_h,
        0.12 * head_len,
        0.1 * fr.face_h,
        (2.5 + 1.2 * d["malar_prominence"] + 0.8 * d["cheek_fullness"]) * mm,
    )
    ala_x = x_n + 0.35 * nose_proj + mid * 0.5
    add_gauss(z, ala_x, fr.y_sn - 0.12 * fr.nose_h, 0.25 * fr.nose_hw, 0.14 * fr.nose_h, 3 * mm)
    add_ridge(z, tuple(jaw_back), (x_n + chin - 4 * mm, fr.y_gn - 1.5 * mm), 1.5 * mm, 1.8 * mm, 1.0 * mm)
    # ear
    ear_top = fr.y_brow + 0.35 * (fr.y_eye - fr.y_brow) - 0.85 * d["ear_height"] * 0.07 * fr.ear_len
    ear_w = 0.55 * fr.ear_len
    ear_cx = x_n - 0.6 * head_len + 0.5 * ear_w
    ear_cy = ear_top + 0.5 * fr.ear_len
    ear_ang = 15 + 5 * d["ear_rotation"]  # posterior rotation of the long axis, degrees from vertical
    ear_a = soft_ellipse(shape, ear_cx, ear_cy, ear_w / 2, fr.ear_len / 2, ear_ang)
    if d["earlobe_uplift"] >= 0.3:
        ear_a = np.maximum(
            ear_a,
            soft_ellipse(
                shape, ear_cx + 0.12 * ear_w, ear_cy + 0.42 * fr.ear_len, 0.28 * ear_w, 0.12 * fr.ear_len, ear_ang + 40
            ),
        )
    ear_z = np.zeros(shape, np.float32)
    add_gauss(ear_z, ear_cx, ear_cy, 0.45 * ear_w, 0.45 * fr.ear_len, 5 * mm)
    rad = np.deg2rad(ear_ang)
    add_gauss(ear_z, ear_cx + 0.08 * ear_w, ear_cy + 0.05 * fr.ear_len, 0.2 * ear_w, 0.2 * fr.ear_len, -4 * mm, rad)
    ear_z += z.max() * 0.7
    # albedo
    skin = srgb_to_linear(app.skin) * np.array([1.07, 0.97, 0.95], np.float32)
    albedo = np.empty((S, S, 3), np.float32)
    albedo[:] = skin
    albedo *= (1 + value_noise(shape, 24, rng) * 0.025)[..., None]
    lips = soft_ellipse(
        shape, x_n + 0.22 * nose_proj + mid * 0.6, fr.y_ls + 0.5 * fr.uv, 0.13 * fr.mouth_hw * 2, 0.6 * fr.uv
    )
    lips = np.maximum(
        lips,
        soft_ellipse(
            shape, x_n + 0.22 * nose_proj + mid * 0.4, fr.y_sto + 0.5 * fr.lv, 0.12 * fr.mouth_hw * 2, 0.6 * fr.lv
        ),
    )
    over(albedo, skin * np.array([0.78, 0.42, 0.42], np.float32) * (1 + 0.25 * skin.mean()), lips * head_a * 0.85)
    ant = max(d["nares_anteversion"], 0)
    nost = soft_ellipse(
        shape,
        ala_x + 0.12 * fr.nose_hw,
        fr.y_sn - 0.04 * fr.nose_h - 0.02 * ant * fr.nose_h,
        0.22 * fr.nose_hw,
        (0.07 + 0.04 * ant) * fr.nose_hw,
        -10 - 10 * ant,
    )
    over(albedo, skin * 0.15, nost * 0.9)
    # eye: a wedge of sclera and iris seen from the side
    L = fr.pfl
    eye_pts = np.array(
        [
            [eye_x - 0.35 * L, fr.y_eye],
            [eye_x + 0.12 * L, fr.y_eye - 0.2 * L],
            [eye_x + 0.2 * L, fr.y_eye + 0.02 * L],
            [eye_x + 0.05 * L, fr.y_eye + 0.1 * L],
        ]
    )
    eye_a = soft_polygon(shape, eye_pts)
    over(albedo, srgb_to_linear(np.array([0.9, 0.88, 0.85], np.float32)), eye_a)
    iris = soft_ellipse(shape, eye_x + 0.1 * L, fr.y_eye - 0.04 * L, 0.09 * L, 0.17 * L) * eye_a
    over(albedo, srgb_to_linear(app.eye) * 0.7, iris)
    brow = soft_ellipse(shape, eye_x + 0.1 * L, fr.y_brow, 0.45 * L, (0.1 + 0.02 * d["brow_thickness"]) * L, -8)
    over(albedo, srgb_to_linear(np.minimum(app.hair * 0.75, app.skin * 0.45)), cv2.GaussianBlur(brow, (0, 0), 1) * 0.8)
    # hair: the cranium behind a hairline from the trichion to the top of the ear and the nape
    hair_line = np.array(
        [
            [knots[1][1] - 2 * mm, fr.y_tr],
            [ear_cx + 0.3 * ear_w, fr.y_brow - 0.02 * S],
            [ear_cx + 0.55 * ear_w, ear_top + 0.1 * fr.ear_len],
            [ear_cx - 0.2 * ear_w, ear_top - 0.06 * fr.ear_len],
            [ear_cx - 0.75 * ear_w, ear_cy + 0.6 * fr.ear_len * (0.3 + app.long_hair)],
            [x_n - 1.25 * head_len, fr.y_gn + (0.12 * S if app.long_hair else 0)],
            [x_n - 1.4 * head_len, fr.y_v - 0.2 * S],
            [knots[1][1] + 5 * mm, fr.y_v - 0.2 * S],
        ]
    )
    vol = 0.05 * head_len * float(np.interp(age, [0, 1.5, 3], [0.4, 0.8, 1.0]))
    grown = cv2.dilate(
        (head_a > 0.5).astype(np.uint8),
        cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (max(int(vol) * 2 + 1, 3), max(int(vol) * 2 + 1, 3))),
    )
    hair_a = cv2.GaussianBlur(soft_polygon(shape, hair_line, blur=0.8) * grown, (0, 0), 0.6 + S / 512)
    if app.long_hair:
        back = soft_polygon(
            shape,
            np.array(
                [
                    [c_x - 0.2 * a, c_y],
                    [c_x - a - vol, c_y + 0.2 * b],
                    [c_x - a - 0.6 * vol, fr.y_gn + 0.1 * S],
                    [c_x - 0.2 * a, fr.y_gn + 0.1 * S],
                ]
            ),
            blur=1.0,
        )
        hair_a = np.maximum(hair_a, back)
    hair_a *= float(np.interp(age, [0, 1.5, 3], [0.55, 0.85, 1.0]))
    strands = (
        value_noise(shape, S // 2, rng) * 0.5
        + cv2.resize(rng.standard_normal((S, 10)).astype(np.float32), (S, S), interpolation=cv2.INTER_CUBIC) * 0.5
    )
    hair_alb = srgb_to_linear(app.hair)[None, None, :] * np.clip(1 + 0.22 * strands, 0.5, 1.5)[..., None]
    dist_h = cv2.distanceTransform((np.maximum(hair_a, head_a) > 0.5).astype(np.uint8), cv2.DIST_L2, 5)
    hair_z = cv2.GaussianBlur(np.sqrt(dist_h * 0.5 * head_len), (0, 0), 0.03 * S) * 0.9 + 2 * mm
    # shirt
    sh_cx = neck_front_x - 0.5 * neck_w
    shirt_a = soft_ellipse(shape, sh_cx, shoulder_y + 0.25 * S, 0.42 * S, 0.27 * S)
    shirt_a *= 1 - soft_ellipse(shape, sh_cx + 0.02 * S, shoulder_y - 0.02 * S, 0.7 * neck_w, 0.08 * S)
    shirt_z = np.sqrt(np.clip(1 - ((X - sh_cx) / (0.42 * S)) ** 2, 0, 1)) * 0.2 * S
    # compose and shade
    Z = np.zeros(shape, np.float32)
    A = np.zeros((S, S, 3), np.float32)
    SP = np.zeros(shape, np.float32)
    cover = np.zeros(shape, np.float32)
    for a_, zz, alb, sp in (
        (head_a, z, albedo, 0.05),
        (shirt_a, shirt_z + 0.1 * z.max(), srgb_to_linear(app.shirt), 0.03),
        (hair_a, hair_z, hair_alb, 0.05),
        (ear_a, ear_z, skin * np.array([1.0, 0.93, 0.92], np.float32), 0.04),
    ):
        Z *= 1 - a_
        Z += zz * a_
        over(A, alb, a_)
        SP *= 1 - a_
        SP += sp * a_
        cover = np.maximum(cover, a_)
    img = shade(Z, A, SP, app, S)
    img *= auto_exposure(img, head_a * (hair_a < 0.5))
    polyline(
        img,
        np.array(
            [
                [x_n + 0.22 * nose_proj + mid * 0.6, fr.y_sto],
                [x_n + 0.22 * nose_proj - 0.1 * fr.mouth_hw, fr.y_sto + 0.3 * fr.uv],
            ]
        ),
        (0.08, 0.03, 0.03),
        max(S / 300, 1),
    )
    helix = np.stack(
        [
            ear_cx + 0.4 * ear_w * np.cos(np.linspace(-2.6, 1.4, 20)),
            ear_cy + 0.42 * fr.ear_len * np.sin(np.linspace(-2.6, 1.4, 20)),
        ],
        1,
    )
    polyline(img, helix, (0.5 * skin).tolist(), max(S / 350, 1))
    bg = backdrop(shape, app, 0.5 * S, fr.y_eye)
    out = bg * (1 - cover[..., None]) + img * cover[..., None]
    out = cv2.GaussianBlur(out, (0, 0), 0.35 + S / 900)
    out += rng.standard_normal((S, S, 1)).astype(np.float32) * 0.008
    out = np.power(np.clip(out, 0, 1), 1 / 2.2)
    lm = {
        "nasion": np.array([knots[4][1], fr.y_n]),
        "pronasale": np.array([x_n + nose_proj, fr.y_sn - tip_up]),
        "subnasale": np.array([float(prof(fr.y_sn)), fr.y_sn]),
        "stomion": np.array([float(prof(fr.y_sto)), fr.y_sto]),
        "pogonion": np.array([x_n + chin + 0.08 * nose_proj, fr.y_gn - 0.25 * (fr.y_gn - fr.y_li)]),
        "gnathion": np.array([x_n + chin - 2 * mm, fr.y_gn]),
        "trichion": np.array([knots[1][1], fr.y_tr]),
        "exocanthion_r": np.array([eye_x - 0.35 * L, fr.y_eye]),
        "superaurale_r": np.array([ear_cx + np.sin(rad) * fr.ear_len / 2, ear_cy - np.cos(rad) * fr.ear_len / 2]),
        "subaurale_r": np.array([ear_cx - np.sin(rad) * fr.ear_len / 2, ear_cy + np.cos(rad) * fr.ear_len / 2]),
        "vertex": np.array([c_x, fr.y_v]),
    }
    face = (head_a > 0.5) & (hair_a < 0.5)
    masks = {
        "forehead": face & (Y < fr.y_brow) & (X > c_x),
        "brows": (brow > 0.3) & face,
        "eyes": ((X - eye_x) / (0.6 * L)) ** 2 + ((Y - fr.y_eye) / (0.45 * L)) ** 2 < 1,
        "nose": face & (Y > fr.y_n) & (Y < fr.y_sn + 0.01 * S) & (X > eye_x + 0.3 * L),
        "mouth": face & (Y >= fr.y_sn + 0.01 * S) & (Y < fr.y_li) & (X > x_n - 0.1 * head_len),
        "chin": face & (Y >= fr.y_li) & (Y < fr.y_gn + 0.01 * S) & (X > x_n - 0.2 * head_len),
        "ears": ear_a > 0.5,
        "hair": hair_a > 0.5,
    }
    masks["eyes"] &= face
    masks["cheeks"] = (
        face
        & (Y > fr.y_eye)
        & (Y < fr.y_li)
        & ~masks["nose"]
        & ~masks["mouth"]
        & ~masks["eyes"]
        & (X > ear_cx + 0.5 * ear_w)
        & ~masks["ears"]
    )
    return apply_roll(out, lm, masks, app.roll * 0.5, (x_n, fr.y_eye))
