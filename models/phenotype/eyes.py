"""Eyes, lids, lashes and brows of the frontal portrait, painted into the albedo or over the shading."""

from __future__ import annotations

import cv2
import numpy as np

from .appearance import Appearance
from .face_geometry import Frontal
from .raster import over, polyline, soft_polygon, srgb_to_linear


def paint_eye(albedo, spec, fissure, up, pupil, fr: Frontal, app: Appearance, side: int, rng) -> None:
    """Paint one eye into the albedo in place: sclera, iris with radial texture and limbal ring, pupil.

    Args:
        albedo: (S, S, 3) float32 linear albedo, modified in place.
        spec: (S, S) float32 specular strength, modified in place.
        fissure: (S, S) float32 coverage of the palpebral fissure.
        up: (n, 2) upper-lid outline in px. pupil: (2,) pupil centre in px.
        fr: geometry; ``fr.d`` carries Brushfield spots, stellate iris and iris coloboma amounts.
        app: appearance (iris colour). side: -1 child's right, +1 child's left. rng: texture noise.
    """
    S = fr.S
    shape = fissure.shape
    r = fr.iris_r
    px, py = float(pupil[0]), float(pupil[1])
    sclera = srgb_to_linear(np.array([0.84, 0.82, 0.79], np.float32))
    # in photographs the sclera sits in the lids' shadow: it reads darker next to darker skin
    over(albedo, sclera * (0.55 + 0.45 * float(app.skin.mean())), fissure)
    # iris with a radial texture, darker limbal ring, pupil
    x0, x1 = int(max(px - r - 2, 0)), int(min(px + r + 3, S))
    y0, y1 = int(max(py - r - 2, 0)), int(min(py + r + 3, S))
    ys = np.arange(y0, y1, dtype=np.float32)[:, None] - py
    xs = np.arange(x0, x1, dtype=np.float32)[None, :] - px
    rad = np.sqrt(xs * xs + ys * ys) / r
    ang = np.arctan2(ys, xs)
    iris_a = np.clip((1 - rad) * r + 0.5, 0, 1)
    col = srgb_to_linear(app.eye)
    phase = float(rng.uniform(0, 6.28))
    radial = 0.78 + 0.22 * np.sin(ang * 23 + phase) * np.sin(ang * 7 + 1.3 * phase)
    shade = radial * (0.7 + 0.45 * rad) * np.where(rad > 0.82, 0.45, 1.0)
    iris = col[None, None, :] * shade[..., None]
    d = fr.d
    if d["stellate_iris"] >= 0.3:
        star = (np.cos(ang * 8) > 0.55) & (rad > 0.3) & (rad < 0.75)
        iris = np.where(star[..., None], iris * 1.8 + 0.05, iris)
    if d["brushfield_spots"] >= 0.3:
        spots = (np.cos(ang * 14 + 0.5) > 0.82) & (np.abs(rad - 0.68) < 0.07)
        iris = np.where(spots[..., None], np.array([0.62, 0.62, 0.6], np.float32), iris)
    pupil_a = np.clip((0.36 - rad) * r + 0.5, 0, 1)
    if d["iris_coloboma"] >= 0.3:  # keyhole pupil: the gap runs down and slightly nasal
        down = np.pi / 2 + side * 0.25
        gap = np.abs(np.angle(np.exp(1j * (ang - down)))) < 0.28 * min(d["iris_coloboma"], 1.2)
        pupil_a = np.maximum(pupil_a, (gap & (rad < 0.97)).astype(np.float32))
    iris = iris * (1 - pupil_a[..., None]) + 0.012 * pupil_a[..., None]
    win = (slice(y0, y1), slice(x0, x1))
    a = iris_a * fissure[win]
    albedo[win] = albedo[win] * (1 - a[..., None]) + iris * a[..., None]
    spec[win] += a * 0.05
    # shadow of the upper lid on the eyeball
    yy = np.arange(shape[0], dtype=np.float32)[:, None]
    up_y = float(up[:, 1].min())
    lid = np.clip(1 - (yy - up_y) / (0.35 * fr.pfl * 0.36 + 1e-3), 0, 1) * fissure
    albedo *= (1 - 0.55 * lid)[..., None]


def epicanthus(albedo, z, up, lo, fr: Frontal, side: int, skin, amount: float) -> None:
    """Draw an epicanthal fold over the inner canthus (HP:0000286), into albedo and height, in place.

    ``amount`` 0.3-1.5 sets how far the fold reaches along the lids (Hall et al. 2009 definition:
    a fold from the medial upper lid arching down in front of the medial canthus).
    """
    n = len(up)
    k = max(int(n * (0.12 + 0.08 * amount)), 2)
    inner = up[0]
    fold = np.concatenate(
        [
            up[:k] + np.array([0, -0.02 * fr.pfl]),
            lo[: max(k // 2, 2)][::-1] + np.array([0, 0.05 * fr.pfl]),
            [inner + np.array([-side * 0.06 * fr.pfl, 0.05 * fr.pfl])],
        ]
    )
    a = soft_polygon(albedo.shape, fold, blur=0.4)
    over(albedo, skin, a)
    z += a * 0.8 * fr.ppm


def brow(shape, fr: Frontal, up, side: int) -> np.ndarray:
    """Coverage (S, S) float32 of one eyebrow above the upper lid ``up`` (n, 2) px; side -1 or +1."""
    d = fr.d
    L = fr.pfl
    inner_x = up[0, 0] - side * 0.1 * L
    outer_x = up[-1, 0] + side * 0.22 * L
    n = 16
    t = np.linspace(0, 1, n, dtype=np.float32)
    x = inner_x + (outer_x - inner_x) * t
    arch = (0.16 + 0.07 * d["brow_arch"]) * L
    base = fr.y_brow + 0.05 * L - (up[-1, 1] - up[0, 1]) * 0.3 * t
    yc = base - arch * np.sin(np.pi * np.clip(t * 0.9 + 0.05, 0, 1)) + 0.12 * L * t**3
    thick = (0.24 + 0.05 * d["brow_thickness"]) * L * (1.15 - 0.7 * t)
    flare = max(d["brow_medial_flare"], 0) * 0.35 * L * np.exp(-((t / 0.18) ** 2))
    top = np.stack([x, yc - thick / 2 - flare], 1)
    bot = np.stack([x, yc + thick / 2], 1)
    mask = soft_polygon(shape, np.concatenate([top, bot[::-1]]), blur=0.6 + fr.S / 400)
    sparse = min(d["lateral_brow_sparse"], 1.5)
    if sparse >= 0.3:  # the lateral brow thins out (Kabuki syndrome's hallmark)
        xs = np.arange(shape[1], dtype=np.float32)
        along = np.clip((xs - inner_x) / (outer_x - inner_x), 0, 1)
        mask *= (1 - min(sparse, 1.0) * 0.9 * np.clip((along - 0.4) / 0.35, 0, 1))[None, :]
    return mask


def lashes(img, up, lo, fr: Frontal, app: Appearance, side: int) -> None:
    """Draw lid margins, upper lashes (longer with HP:0000527), catch-light and lid crease, in place.

    Args:
        img: (S, S, 3) float32 shaded image in linear light.
        up, lo: (n, 2) upper and lower lid outlines in px.
    """
    d = fr.d
    S = fr.S
    dark = (0.03, 0.025, 0.022)
    polyline(img, up, dark, max(S / 160, 1))
    polyline(img, lo, (0.35, 0.22, 0.2), max(S / 500, 1))
    length = (0.075 + 0.045 * max(d["lash_length"], -1)) * fr.pfl
    if length > 0.5:
        for i in range(len(up) // 3, len(up) - 1, 2):
            p = up[i]
            t = i / (len(up) - 1)
            direction = np.array([side * (0.3 + 1.2 * t), -1.0])
            direction /= np.linalg.norm(direction)
            q = p + direction * length * (0.7 + 0.5 * t)
            polyline(img, np.stack([p, q]), dark, max(S / 600, 1))
    # catch-light of the key light on the cornea
    _, _, pupil = fr.eye_points(side)
    cl = pupil + np.array([-0.3, -0.35]) * fr.iris_r
    r = max(0.14 * fr.iris_r, 0.6)
    cv2.circle(img, (int(cl[0] * 16), int(cl[1] * 16)), int(r * 16), (0.95, 0.95, 0.95), -1, cv2.LINE_AA, 4)
    # eyelid crease above the upper lid
    crease = up + np.array([side * 0.02 * fr.pfl, -0.13 * fr.pfl])
    k = len(up)
    base = img[int(np.clip(crease[k // 2, 1] - 2, 0, S - 1)), int(np.clip(crease[k // 2, 0], 0, S - 1))]
    polyline(img, crease[k // 4 : -3], tuple(float(c) * 0.75 for c in base), max(S / 500, 1))
