"""Hair of the frontal portrait: a volume over the cranium behind a hairline, short or long.

Hair is combed from a parting: its strand texture is a set of fine streaks radiating from the
parting point, clumped by a coarser streak pattern, with wispy strand tips at the outline and at
the hairline, and an anisotropic sheen band across the crown. Infants have thin hair through
which the scalp shows.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d

from .face_geometry import Frontal
from .raster import grid, srgb_to_linear, value_noise


def _streaks(theta: np.ndarray, n: int, rng: np.random.Generator, smooth: float) -> np.ndarray:
    """Noise along the angle around the parting: (H, W) float32, zero mean, unit-ish SD."""
    line = gaussian_filter1d(rng.standard_normal(n).astype(np.float32), smooth, mode="wrap")
    line /= line.std() + 1e-6
    idx = ((theta + np.pi) * (n / (2 * np.pi))).astype(np.int32) % n
    return line[idx]


def hair_layer(fr: Frontal, shape, rows: np.ndarray, rng: np.random.Generator):
    """The hair layer of a frontal portrait.

    Args:
        fr: the child's geometry (hair length and style come from ``fr.app``).
        shape: (S, S).
        rows: (S,) float32 row coordinates.
        rng: texture generator seeded from the identity seed.

    Returns:
        alpha in front of the face (S, S) float32 in [0, 1] (cut at the hairline), alpha behind the
        head (S, S) (no hairline), height z (S, S) float32 px, albedo (S, S, 3) float32 linear,
        specularity (S, S) float32.
    """
    S = fr.S
    Y, X = grid(S)
    cx = fr.cx
    dx = X - cx
    infant = float(np.interp(fr.age, [0, 1.5, 3], [0.45, 0.85, 1.0]))
    vol = (0.03 + 0.07 * infant) * fr.head_hw
    top_y = fr.y_v - vol * 1.3
    y_w = fr.y_n - 0.38 * (fr.y_n - fr.y_v)
    ell = (fr.head_hw + vol) * np.sqrt(np.clip(1 - ((y_w - rows) / (y_w - top_y)) ** 2, 0, 1))
    if fr.app.long_hair:
        # hair falls behind the ears to below the jaw, flaring slightly, with a rounded end
        length = min(fr.y_gn + (0.06 + 0.012 * fr.age) * S, 0.99 * S)
        t = np.clip((rows - y_w) / max(length - y_w, 1), 0, 1)
        # falls straight past the cheeks, then spreads over the shoulders; ends square, not pointed
        fall = (fr.head_hw + vol) * (1 + 0.08 * t + 0.5 * np.clip(t - 0.75, 0, None)) * np.clip((1 - t) * 12, 0, 1)
        hw_h = np.where(rows < y_w, ell, fall)
    else:
        short_end = fr.y_eye + 0.02 * fr.face_h
        t = np.clip((rows - y_w) / max(short_end - y_w, 1), 0, 1)
        hw_h = np.where(rows < y_w, ell, (fr.head_hw + vol * (1 - t)) * np.sqrt(np.clip(1 - t**4, 0, 1)))
    hw_h = np.clip(gaussian_filter1d(hw_h.astype(np.float32), 0.01 * S), 0, None)
    # work only on the rows the hair can reach (the blur below spreads a few pixels)
    reach = np.flatnonzero(hw_h > 0.01 * S)
    n = int(min(S, (reach[-1] if reach.size else 0) + 4 + S // 64))
    Y, X, dx, hw_h, shape = Y[:n], X[:n], dx[:n], hw_h[:n], (n, S)

    # combed from a parting: streaks radiate from it; clumps are coarser streaks
    style = rng.random()
    part_x = cx + (0.0 if style < 0.3 else (0.32 if style < 0.65 else -0.32)) * fr.head_hw
    part_y = fr.y_v + 0.1 * (fr.y_n - fr.y_v)
    theta = np.arctan2(Y - part_y, X - part_x)
    fine = _streaks(theta, 4 * S, rng, 1.2)
    clump = _streaks(theta, S // 2, rng, 2.0)
    strands = 0.55 * fine + 0.45 * clump
    tips = np.clip(0.5 * fine + 0.5 * clump, -2, 2)

    # hairline: trichion in the midline, down to the temples and in front of the ears; some
    # children wear a fringe that hides part of the forehead
    ax = np.abs(dx) / np.maximum(fr.head_hw, 1)
    temple_y = fr.y_brow - 0.03 * fr.face_h
    line = fr.y_tr + (temple_y - fr.y_tr) * np.clip(ax / 0.78, 0, 1) ** 2.4
    line = np.where(ax > 0.78, temple_y + (ax - 0.78) * 2.2 * fr.face_h, line)
    if infant > 0.9 and rng.random() < 0.3:
        fringe_y = fr.y_tr + 0.45 * (fr.y_brow - fr.y_tr)
        line = np.maximum(line, fringe_y - 0.3 * fr.face_h * np.clip(ax - 0.35, 0, None) ** 2)
    line = gaussian_filter1d(line, 0.02 * S, axis=1)

    edge = 0.012 * S
    in_h = np.clip((hw_h[:, None] - np.abs(dx)) / edge + 0.5 + 0.35 * tips, 0, 1) * (hw_h[:, None] > 0.01 * S)
    above = np.clip((line - Y) / edge + 0.5 + 0.45 * tips, 0, 1)
    density = 0.55 + 0.45 * infant
    alpha = cv2.GaussianBlur(in_h * above, (0, 0), 0.4 + S / 768) * density
    # behind the head no hairline applies: long hair shows past the cheeks down to the shoulders
    back = cv2.GaussianBlur(in_h, (0, 0), 0.4 + S / 768) * density if fr.app.long_hair else np.zeros_like(alpha)
    u = np.clip(np.abs(dx) / np.maximum(hw_h[:, None], 1e-3), 0, 1)
    z = np.maximum(hw_h[:, None], 1e-3) * 0.8 * np.sqrt(1 - u * u) + vol * 0.5 + strands * 0.004 * S
    shade = np.clip(1 + 0.18 * strands + 0.06 * value_noise(shape, 6, rng), 0.55, 1.45)
    alb = srgb_to_linear(fr.app.hair)[None, None, :] * shade[..., None]
    # anisotropic sheen: a band across the crown, broken up by the strands
    r = np.hypot(Y - part_y, (X - part_x) * 0.9)
    band = np.exp(-0.5 * ((r - 0.38 * fr.head_hw) / (0.12 * fr.head_hw)) ** 2)
    spec = ((0.03 + 0.22 * band * np.clip(0.6 + 0.4 * fine, 0, 1.5)) * density**2).astype(np.float32)

    def full(v: np.ndarray) -> np.ndarray:
        out = np.zeros((S,) + v.shape[1:], np.float32)
        out[:n] = v
        return out

    return full(alpha), full(back), full(z), full(alb), full(spec)
