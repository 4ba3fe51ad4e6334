"""Layers of the profile portrait drawn on top of the skin: the ear, the hair and the shirt.

Each function takes the head's geometry in pixels (`Skull`, the neck's outline curves) and returns
coverage, height and albedo layers of shape (S, S) / (S, S, 3) that `profile.render_profile`
composes over the skin before shading. Only `profile.py` uses this module.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .appearance import Appearance
from .face_geometry import Frontal
from .raster import grid, soft_polygon, srgb_to_linear, value_noise


@dataclasses.dataclass
class Skull:
    """The cranial outline in the image: an ellipse in front, a superellipse behind (pixels)."""

    c_x: float  # centre x (the widest point of the vault), px
    c_y: float  # centre y, px
    a: float  # half length (glabella-opisthocranion / 2), px
    b: float  # centre to vertex, px
    p_back: float  # superellipse exponent of the occiput (2 = round; larger = flatter)

    def x_at(self, y, grow: float = 0.0, back: bool = False) -> np.ndarray:
        """Outline x at rows y (px), optionally grown by ``grow`` px; front or back half."""
        v = np.clip((np.asarray(y, np.float64) - self.c_y) / (self.b + grow), -1, 1)
        if back:
            return self.c_x - (self.a + grow) * np.power(np.clip(1 - np.abs(v) ** self.p_back, 0, 1), 1 / self.p_back)
        return self.c_x + (self.a + grow) * np.sqrt(np.clip(1 - v * v, 0, 1))


@dataclasses.dataclass
class Ear:
    """The ear layer and the frame that the hair outline follows."""

    alpha: np.ndarray  # (S, S) float32 coverage
    z: np.ndarray  # (S, S) float32 height, px
    albedo: np.ndarray  # (S, S, 3) float32 linear
    centre: np.ndarray  # (2,) px, middle of the long axis
    up: np.ndarray  # (2,) unit vector along the long axis, upwards
    fwd: np.ndarray  # (2,) unit vector across it, towards the face
    length: float  # px
    width: float  # px
    top: float  # y of the top of the helix, px
    front: float  # x of the tragus line, px


def ear_layer(fr: Frontal, d, sk: Skull, z: np.ndarray, albedo: np.ndarray, skin: np.ndarray) -> Ear:
    """The right ear: outline and relief (helix, scapha, antihelix, concha, tragus, lobe) in its own frame.

    Position and tilt follow the dimensions ``ear_height`` (low-set ears, HP:0000369) and
    ``ear_rotation`` (posterior rotation, HP:0000358); ``albedo`` is darkened behind the ear in place.
    """
    S, mm = fr.S, fr.ppm
    Y, X = grid(S)
    shape = (S, S)
    ear_len = fr.ear_len
    ear_w = (0.56 + 0.04 * d["ear_protrusion"]) * ear_len
    ear_top = fr.y_eye - 0.2 * ear_len - 0.09 * d["ear_height"] * ear_len
    ang = np.deg2rad(16 + 6 * d["ear_rotation"])  # long axis tilted back from vertical
    up_v = np.array([-np.sin(ang), -np.cos(ang)])
    fw_v = np.array([np.cos(ang), -np.sin(ang)])
    e_front = sk.c_x + 0.04 * sk.a
    ec = np.array([e_front - 0.45 * ear_w, ear_top]) - up_v * 0.5 * ear_len
    ex0, ey0 = int(max(ec[0] - ear_len, 0)), int(max(ec[1] - ear_len, 0))
    win = (slice(ey0, int(min(ec[1] + ear_len, S))), slice(ex0, int(min(ec[0] + ear_len, S))))
    dx, dy = X[win] - ec[0], Y[win] - ec[1]
    q = (dx * up_v[0] + dy * up_v[1]) / (0.5 * ear_len)
    pe = (dx * fw_v[0] + dy * fw_v[1]) / (0.5 * ear_w) / (1 + 0.15 * q)
    r = np.sqrt(pe * pe + q * q)
    ear_a = np.zeros(shape, np.float32)
    ear_a[win] = np.clip((1 - r) * 0.25 * ear_w + 0.5, 0, 1) * (1 - 0.6 * np.clip((pe - 0.75) / 0.25, 0, 1))

    def g(cp, cq, sp, sq):
        return np.exp(-(((pe - cp) / sp) ** 2 + ((q - cq) / sq) ** 2))

    w_h = (1 - 0.85 * np.clip((pe - 0.2) / 0.5, 0, 1) * np.clip((0.35 - q) / 0.4, 0, 1)) * np.clip(
        (q + 0.8) / 0.25, 0.2, 1
    )
    concha = g(0.3, -0.05, 0.3, 0.3)
    relief = (
        2.5 * (1 - np.minimum(r, 1) ** 2)
        + w_h * (2.4 * np.exp(-(((r - 0.87) / 0.08) ** 2)) - 1.6 * np.exp(-(((r - 0.7) / 0.07) ** 2)))
        + 1.7 * np.exp(-(((r - 0.52) / 0.09) ** 2)) * np.clip((q + 0.4) / 0.3, 0, 1) * np.clip((0.6 - pe) / 0.3, 0, 1)
        - 4.5 * concha
        + 2.6 * g(0.8, -0.12, 0.13, 0.14)
        + 1.4 * g(0.1 + 0.3 * (d["earlobe_uplift"] >= 0.3), -0.78, 0.35, 0.2)
    )
    ear_z = np.zeros(shape, np.float32)
    base = float(z[int(np.clip(ec[1], 0, S - 1)), int(np.clip(ec[0], 0, S - 1))])
    ear_z[win] = base + 0.1 * fr.head_hw + relief * mm
    ear_alb = np.empty((S, S, 3), np.float32)
    ear_alb[:] = skin * np.array([1.02, 0.92, 0.9], np.float32)
    ear_alb[win] *= (1 - 0.3 * concha)[..., None]
    albedo[win] *= (1 - 0.25 * np.clip(1.5 - r, 0, 1) * (pe < 0) * (1 - ear_a[win]))[..., None]  # shadow behind
    return Ear(ear_a, ear_z, ear_alb, ec, up_v, fw_v, ear_len, ear_w, ear_top, e_front)


def _streaks(theta: np.ndarray, n: int, rng: np.random.Generator, smooth: float) -> np.ndarray:
    """Noise along the angle around the crown: (H, W) float32, zero mean, unit-ish SD."""
    line = gaussian_filter1d(rng.standard_normal(n).astype(np.float32), smooth, mode="wrap")
    line /= line.std() + 1e-6
    idx = ((theta + np.pi) * (n / (2 * np.pi))).astype(np.int32) % n
    return line[idx]


def hair_layer(
    fr: Frontal,
    app: Appearance,
    age: float,
    sk: Skull,
    ear: Ear,
    hairline,
    nb,
    y_nape: float,
    y_sh: float,
    boss: float,
    rng: np.random.Generator,
):
    """Hair seen from the right: a rounded volume over the vault, strands combed from the crown.

    Args:
        hairline: (x_trichion, y_trichion) px, where the hair meets the forehead.
        nb: callable, x of the back of the neck at rows y (px).
        y_nape: row where short hair ends on the nape, px.
        y_sh: row of the shoulders, px.
        boss: frontal bossing, px (the hair follows the forehead forwards).

    Returns:
        alpha (S, S) float32 in [0, 1] with wispy strand tips, height (S, S) float32 px,
        albedo (S, S, 3) float32 linear, specularity (S, S) float32.
    """
    S, mm = fr.S, fr.ppm
    Y, X = grid(S)
    shape = (S, S)
    young = float(np.interp(age, [0, 1.5, 4], [0.35, 0.75, 1.0]))
    th = (1.5 + 5.5 * young) * mm  # thickness over the scalp
    crown_th = 1.35 * th  # a little more volume over the crown than at the sides
    x_tr, y_tr = hairline
    ec, fw_v = ear.centre, ear.fwd
    e_back = ec - fw_v * 0.55 * ear.width
    # over the vault: the skull's outline grown by the hair's thickness, a touch fuller at the crown
    v_tr = np.arctan2(y_tr - sk.c_y, (x_tr - sk.c_x) / sk.a * sk.b)
    s = np.linspace(v_tr, -np.pi / 2, 14)
    grow = th + (crown_th - th) * np.sin(np.clip(-s, 0, np.pi / 2)) ** 2
    outer = list(zip(sk.c_x + (sk.a + grow) * np.cos(s) + 0.5 * boss, sk.c_y + (sk.b + grow) * np.sin(s), strict=True))
    ys = sk.c_y - (sk.b + crown_th) * np.cos(np.linspace(0, np.pi / 2, 12)[1:]) ** 1.0
    ys = np.concatenate([ys, sk.c_y + (sk.b + th) * np.sin(np.linspace(0, 0.5 * np.pi, 9)[1:]) * 0.9])
    grow_b = th + (crown_th - th) * np.clip((sk.c_y - ys) / sk.b, 0, 1)
    xb = sk.x_at(ys, grow_b, back=True)
    if app.long_hair:  # a mass falling behind the neck to the shoulders
        ys = ys[ys < sk.c_y + 0.45 * sk.b]
        outer += list(zip(sk.x_at(ys, th, back=True), ys, strict=True))
        x_back = float(sk.x_at(sk.c_y + 0.45 * sk.b, th, back=True))
        y_end = min(y_sh + 0.1 * S, 0.99 * S)
        x_neck = float(nb(y_sh))
        outer += [
            (x_back - 0.003 * S, sk.c_y + 0.9 * sk.b),
            (x_back - 0.012 * S, y_sh - 0.02 * S),
            (x_back - 0.02 * S, y_end - 0.04 * S),
            (x_back + 0.01 * S, y_end - 0.005 * S),
            (0.5 * (x_back + x_neck), y_end),
            (x_neck + 0.02 * S, y_end - 0.015 * S),
            (x_neck + 0.04 * S, y_end - 0.05 * S),
            (x_neck + 0.035 * S, y_sh - 0.03 * S),
            (float(nb(ec[1] + 0.8 * ear.length)) + 0.03 * S, ec[1] + 0.8 * ear.length),
            (e_back[0] - 0.05 * ear.width, ec[1] + 0.3 * ear.length),
        ]
    else:  # follows the occiput, tucks under it and ends on the nape above the collar
        keep = ys < sk.c_y + 0.6 * sk.b
        outer += list(zip(xb[keep], ys[keep], strict=True))
        # below the occiput's widest point the outline curves in to the nape (a quadratic Bezier from
        # the skull's outline, along its tangent, to the back of the neck)
        p0 = np.array([xb[keep][-1], ys[keep][-1]])
        y1 = sk.c_y + 0.6 * sk.b + 1.0
        tan = np.array([float(sk.x_at(y1, th, back=True)) - p0[0], y1 - p0[1]])
        p2 = np.array([float(nb(y_nape)) - 0.2 * th, y_nape])
        p1 = p0 + tan / max(tan[1], 1e-3) * (0.6 * (p2[1] - p0[1]))
        p1[0] = min(p1[0], p2[0] - 0.3 * th)
        tb = np.linspace(0, 1, 8)[1:, None]
        outer += list(map(tuple, (1 - tb) ** 2 * p0 + 2 * tb * (1 - tb) * p1 + tb**2 * p2))
        x_nape = p2[0]
        outer += [
            (x_nape + 0.06 * sk.a, y_nape - 0.005 * S),
            (e_back[0] - 0.15 * ear.width, ec[1] + 0.4 * ear.length),
            (e_back[0] - 0.05 * ear.width, ec[1] + 0.25 * ear.length),
        ]
    outer += [
        (e_back[0] + 0.05 * ear.width, ec[1] - 0.1 * ear.length),
        (ec[0] - 0.1 * ear.width, ear.top - 0.07 * ear.length),
        (ear.front + 0.1 * ear.width, ear.top + 0.05 * ear.length),
        (ear.front + 0.2 * ear.width, ear.top + 0.2 * ear.length),  # sideburn
        (ear.front + 0.32 * ear.width, ear.top + 0.08 * ear.length),
        (ear.front + 0.35 * ear.width, fr.y_brow - 0.04 * S),
        (x_tr - 0.25 * (x_tr - ear.front), y_tr - 0.01 * S),
        (x_tr - 0.3 * mm, y_tr),
    ]
    # strands: fine streaks and coarser clumps radiating from the whorl at the back of the vertex
    crown = (sk.c_x - 0.35 * sk.a, fr.y_v + 0.05 * sk.b)
    theta = np.arctan2(Y - crown[1], X - crown[0])
    fine = _streaks(theta, 2160, rng, 1.0)
    clump = _streaks(theta, 360, rng, 2.5) * (0.7 + 0.6 * value_noise(shape, 6, rng))
    fade = np.clip(np.hypot(X - crown[0], Y - crown[1]) / (0.7 * sk.b), 0, 1) ** 1.5
    # soft outline, broken into strand tips where the hair thins out
    hair_a = soft_polygon(shape, np.array(outer), 1.2 + S / 250)
    tips = np.clip(1 - np.abs(hair_a - 0.5) * 2, 0, 1)
    hair_a = np.clip((hair_a - 0.5) * 1.8 + 0.5 + 0.45 * tips * (0.7 * fine + 0.3 * clump), 0, 1)
    hair_a *= 0.55 + 0.45 * young
    # height: the vault offset by the hair, strand relief, and the long mass as a rounded solid
    ux, uy = (X - sk.c_x) / (sk.a + th), (Y - sk.c_y) / (sk.b + th)
    hair_z = (fr.head_hw + th) * np.sqrt(np.clip(1 - ux * ux - uy * uy, 0, 1))
    if app.long_hair:
        x_f = nb(np.clip(Y[:, 0], sk.c_y, S)) + 0.03 * S
        x_b = sk.x_at(sk.c_y + 0.45 * sk.b, th, back=True) + 0.01 * S
        mid, half = 0.5 * (x_f + x_b), np.maximum(0.5 * (x_f - x_b), 1)
        mass = 0.8 * fr.head_hw * np.sqrt(np.clip(1 - ((X - mid[:, None]) / half[:, None]) ** 2, 0.04, 1))
        w = np.clip((Y - sk.c_y) / (0.3 * sk.b), 0, 1)
        hair_z = np.maximum(hair_z, mass * w)
    hair_z += (0.35 * fine + 0.6 * clump) * mm * fade
    tone = np.clip(1 + (0.08 * fine + 0.14 * clump) * fade - 0.1 * (1 - fade), 0.5, 1.6)
    hair_alb = srgb_to_linear(app.hair)[None, None, :] * tone[..., None]
    hair_sp = 0.1 + 0.05 * np.clip(clump, -1, 1)
    return hair_a.astype(np.float32), hair_z.astype(np.float32), hair_alb.astype(np.float32), hair_sp


def shirt_layer(S: int, mm: float, x_front: float, x_back: float, y_sh: float, neck_hw: float):
    """Shoulders seen from the side in a crew-neck shirt.

    Args:
        x_front, x_back: the neck's front and back at the shoulders, px.
        y_sh: row of the shoulders, px.
        neck_hw: the neck's largest half width, px.

    Returns:
        alpha (S, S) float32, height (S, S) float32 px, skin shade (S, S) float32 in [0.75, 1] (the
        collar's shadow on the neck, to multiply into the albedo).
    """
    Y, X = grid(S)
    col_b, col_f = y_sh - 0.02 * S, y_sh + 0.02 * S  # crew collar: higher at the nape than at the throat
    poly = np.array(
        [
            [x_back - 0.32 * S, S + 4],
            [x_back - 0.2 * S, y_sh + 0.16 * S],
            [x_back - 0.1 * S, y_sh + 0.05 * S],
            [x_back - 0.02 * S, col_b],
            [x_front, col_f],
            [x_front + 0.05 * S, col_f + 0.05 * S],
            [x_front + 0.1 * S, y_sh + 0.25 * S],
            [x_front + 0.1 * S, S + 4],
        ]
    )
    alpha = np.clip((soft_polygon((S, S), poly, 0.015 * S) - 0.5) * 3 + 0.5, 0, 1)
    cx, rx = 0.5 * (x_front + x_back - 0.2 * S), 0.5 * (x_front - x_back + 0.3 * S)
    r = ((X - cx) / rx) ** 2 + ((Y - S) / (S - col_b + 0.1 * S)) ** 2
    z = neck_hw * 1.6 * np.sqrt(np.clip(1 - r, 0, 1)) + 0.2 * neck_hw
    collar = col_b + (X - x_back) / max(x_front - x_back, 1) * (col_f - col_b)
    z += np.clip(1 - np.abs(Y - collar - 0.012 * S) / (0.012 * S), 0, 1) * 1.5 * mm
    near = np.clip(1 - (Y - collar) / (0.03 * S), 0, 1) * (Y > collar - 0.03 * S)
    return alpha, z.astype(np.float32), 1 - 0.25 * near * (Y < collar + 2)
