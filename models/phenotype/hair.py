"""Hair of the frontal portrait: a volume over the cranium behind a hairline, short or long."""

from __future__ import annotations

import cv2
import numpy as np
from scipy.ndimage import gaussian_filter1d

from .face_geometry import Frontal
from .raster import grid, srgb_to_linear, value_noise


def hair_layer(fr: Frontal, shape, rows, hw, z_head, rng):
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
        # hair falls behind the ears to below the jaw, widening slightly, with a rounded end
        length = min(fr.y_gn + (0.02 + 0.012 * fr.age) * S, 0.97 * S)
        t = np.clip((rows - y_w) / max(length - y_w, 1), 0, 1)
        fall = (fr.head_hw + vol) * (1 + 0.12 * t) * np.sqrt(np.clip(1 - t**6, 0, 1))
        hw_h = np.where(rows < y_w, ell, fall)
    else:
        short_end = fr.y_eye + 0.02 * fr.face_h
        t = np.clip((rows - y_w) / max(short_end - y_w, 1), 0, 1)
        hw_h = np.where(rows < y_w, ell, (fr.head_hw + vol * (1 - t)) * np.sqrt(np.clip(1 - t**4, 0, 1)))
    base = gaussian_filter1d(hw_h.astype(np.float32), 0.01 * S)
    hw_h = np.where(base > 0.02 * S, base + value_noise((S, 1), 40, rng)[:, 0] * 0.002 * S, base)
    hw_h = np.clip(hw_h, 0, None).astype(np.float32)
    # hairline: trichion in the midline, down to the temples and in front of the ears
    ax = np.abs(dx) / np.maximum(fr.head_hw, 1)
    temple_y = fr.y_brow - 0.03 * fr.face_h
    line = fr.y_tr + (temple_y - fr.y_tr) * np.clip(ax / 0.78, 0, 1) ** 2.4
    line = np.where(ax > 0.78, temple_y + (ax - 0.78) * 2.2 * fr.face_h, line)
    line = gaussian_filter1d(line, 0.02 * S, axis=1)
    line = line + value_noise(shape, 20, rng) * 0.01 * S
    in_h = np.clip((hw_h[:, None] - np.abs(dx)) + 0.5, 0, 1) * (hw_h[:, None] > 0.01 * S)
    above = np.clip((line - Y) / (0.012 * S) + 0.5, 0, 1)
    alpha = cv2.GaussianBlur(in_h * above, (0, 0), 0.6 + S / 512) * (0.55 + 0.45 * infant)
    u = np.clip(np.abs(dx) / np.maximum(hw_h[:, None], 1e-3), 0, 1)
    z = np.maximum(hw_h[:, None], 1e-3) * 0.8 * np.sqrt(1 - u * u) + vol * 0.5
    strands = (
        value_noise(shape, S // 4, rng) * 0.3
        + cv2.resize(rng.standard_normal((6, S)).astype(np.float32), (S, S), interpolation=cv2.INTER_CUBIC) * 0.6
    )
    alb = srgb_to_linear(fr.app.hair)[None, None, :] * np.clip(1 + 0.15 * strands, 0.6, 1.4)[..., None]
    return alpha.astype(np.float32), z.astype(np.float32), alb.astype(np.float32)
