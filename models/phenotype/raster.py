"""Small raster primitives for the face renderer: windowed bumps, soft polygons, noise, layers.

All arrays are float32 images of shape (H, W) or (H, W, 3) in pixel coordinates (x to the right,
y down). Bumps are added only inside a window around their centre, which keeps a 256 px render
in tens of milliseconds.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np


@lru_cache(maxsize=8)
def grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (Y, X), each (size, size) float32, read-only."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    y.setflags(write=False)
    x.setflags(write=False)
    return y, x


def _window(shape, cx: float, cy: float, rx: float, ry: float):
    h, w = shape[:2]
    x0, x1 = max(int(cx - rx), 0), min(int(cx + rx) + 2, w)
    y0, y1 = max(int(cy - ry), 0), min(int(cy + ry) + 2, h)
    if x0 >= x1 or y0 >= y1:
        return None
    ys = np.arange(y0, y1, dtype=np.float32)[:, None]
    xs = np.arange(x0, x1, dtype=np.float32)[None, :]
    return (slice(y0, y1), slice(x0, x1)), xs - cx, ys - cy


def gauss(shape, cx: float, cy: float, sx: float, sy: float, angle: float = 0.0, reach: float = 3.0):
    """A unit-height anisotropic Gaussian evaluated in its window.

    Args:
        shape: (H, W) of the target image.
        cx, cy: centre in pixels.
        sx, sy: standard deviations in pixels along the rotated x and y axes.
        angle: rotation in radians (counter-clockwise in image coordinates).
        reach: window half-size in SDs.

    Returns:
        (window slices, (h, w) float32 values) or None if the window is off the image.
    """
    sx, sy = max(sx, 0.3), max(sy, 0.3)
    r = reach * max(sx, sy)
    win = _window(shape, cx, cy, r, r)
    if win is None:
        return None
    sl, dx, dy = win
    if angle:
        c, s = np.cos(angle), np.sin(angle)
        dx, dy = c * dx + s * dy, -s * dx + c * dy
    return sl, np.exp(-0.5 * ((dx / sx) ** 2 + (dy / sy) ** 2)).astype(np.float32)


def add_gauss(img: np.ndarray, cx, cy, sx, sy, amp: float, angle: float = 0.0) -> None:
    """Add ``amp`` times a windowed Gaussian to ``img`` (H, W) in place."""
    if amp == 0:
        return
    g = gauss(img.shape, cx, cy, sx, sy, angle)
    if g is not None:
        sl, v = g
        img[sl] += amp * v


def add_ridge(img: np.ndarray, p0, p1, width: float, amp0: float, amp1: float) -> None:
    """Add a ridge along the segment p0 -> p1 whose height goes linearly from amp0 to amp1.

    The cross-section is Gaussian with SD ``width`` pixels; the ends fall off smoothly.
    """
    (x0, y0), (x1, y1) = p0, p1
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = np.hypot(x1 - x0, y1 - y0) / 2 + 3 * width
    win = _window(img.shape, cx, cy, half, half)
    if win is None:
        return
    sl, dx, dy = win
    length = max(np.hypot(x1 - x0, y1 - y0), 1e-3)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    t = ((dx + cx - x0) * ux + (dy + cy - y0) * uy) / length  # 0 at p0, 1 at p1
    d = -(dx + cx - x0) * uy + (dy + cy - y0) * ux  # signed distance across
    tc = np.clip(t, 0, 1)
    end = np.exp(-0.5 * (((t - tc) * length) / width) ** 2)
    img[sl] += ((amp0 + (amp1 - amp0) * tc) * np.exp(-0.5 * (d / width) ** 2) * end).astype(np.float32)


def soft_polygon(shape, points: np.ndarray, blur: float = 0.0) -> np.ndarray:
    """Anti-aliased coverage (H, W) float32 in [0, 1] of a filled polygon.

    Args:
        shape: (H, W).
        points: (N, 2) float vertices in pixels (x, y).
        blur: extra Gaussian softening of the edge, SD in pixels.
    """
    mask = np.zeros(shape[:2], np.uint8)
    pts = np.round(np.asarray(points, np.float64) * 16).astype(np.int32)
    cv2.fillPoly(mask, [pts], 255, lineType=cv2.LINE_AA, shift=4)
    out = mask.astype(np.float32) * (1 / 255)
    if blur > 0:
        out = cv2.GaussianBlur(out, (0, 0), blur)
    return out


def soft_ellipse(shape, cx, cy, rx, ry, angle_deg: float = 0.0) -> np.ndarray:
    """Anti-aliased coverage (H, W) float32 of a filled ellipse (radii in pixels)."""
    mask = np.zeros(shape[:2], np.uint8)
    cv2.ellipse(
        mask,
        (int(round(cx * 16)), int(round(cy * 16))),
        (max(int(rx * 16), 1), max(int(ry * 16), 1)),
        angle_deg,
        0,
        360,
        255,
        -1,
        cv2.LINE_AA,
        4,
    )
    return mask.astype(np.float32) * (1 / 255)


def polyline(img: np.ndarray, points: np.ndarray, colour, thickness: float) -> None:
    """Draw an anti-aliased open polyline on a float32 image (H, W, C) in place."""
    pts = np.round(np.asarray(points, np.float64) * 16).astype(np.int32)
    cv2.polylines(img, [pts], False, colour, max(int(round(thickness)), 1), cv2.LINE_AA, 4)


def value_noise(shape, cells: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth noise (H, W) float32 with zero mean and unit-ish SD, features ~H/cells pixels wide."""
    h, w = shape[:2]
    low = rng.standard_normal((cells, cells)).astype(np.float32)
    return cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)


def alpha_window(alpha: np.ndarray) -> tuple[slice, slice] | None:
    """Row and column slices of the bounding box of a (H, W) alpha's non-zero pixels, or None."""
    rows = np.flatnonzero(alpha.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(alpha.any(axis=0))
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def over(dst: np.ndarray, src, alpha: np.ndarray) -> None:
    """In-place alpha blend ``dst = dst * (1 - alpha) + src * alpha``; alpha (H, W) in [0, 1].

    ``src`` is a colour (3,), a scalar, or an array shaped like ``dst``. Only the bounding box of
    the non-zero alpha is touched, which is most of a render's speed.
    """
    win = alpha_window(alpha)
    if win is None:
        return
    a = alpha[win]
    if dst.ndim == 3:
        a = a[..., None]
    src = np.asarray(src, np.float32)
    if src.ndim >= 2:
        src = src[win]
    d = dst[win]
    d *= 1 - a
    d += src * a


def composite(Z, A, SP, cover, alpha, z, albedo, spec) -> None:
    """Lay one layer over the render buffers in place, inside the bounding box of its alpha.

    Args:
        Z: (H, W) height buffer. A: (H, W, 3) albedo buffer. SP: (H, W) specular buffer.
        cover: (H, W) foreground coverage, raised to the layer's alpha.
        alpha: (H, W) layer coverage in [0, 1].
        z, albedo, spec: the layer's height (H, W), albedo ((3,) or (H, W, 3)) and specularity
            (scalar or (H, W)).
    """
    win = alpha_window(alpha)
    if win is None:
        return
    a = alpha[win]
    keep = 1 - a

    def part(v):
        v = np.asarray(v, np.float32)
        return v[win] if v.ndim >= 2 else v

    Z[win] = Z[win] * keep + part(z) * a
    SP[win] = SP[win] * keep + part(spec) * a
    A[win] = A[win] * keep[..., None] + part(albedo) * a[..., None]
    np.maximum(cover[win], a, out=cover[win])


def srgb_to_linear(rgb) -> np.ndarray:
    """sRGB in [0, 1] to linear light (gamma 2.2 approximation)."""
    return np.power(np.clip(np.asarray(rgb, np.float32), 0, 1), 2.2)


def hex_rgb(code: str) -> np.ndarray:
    """'f6ede4' -> (3,) float32 sRGB in [0, 1]."""
    return np.array([int(code[i : i + 2], 16) for i in (0, 2, 4)], np.float32) / 255
