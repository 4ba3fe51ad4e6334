"""Lighting and camera: shading of a height field, auto-exposure, studio backdrop and head roll."""

from __future__ import annotations

import cv2
import numpy as np

from .appearance import Appearance
from .raster import srgb_to_linear


def shade(Z, A, SP, app: Appearance, size: int, shadows: bool = True) -> np.ndarray:
    """Light a height field.

    Args:
        Z: (S, S) float32 height towards the camera, in pixels.
        A: (S, S, 3) float32 albedo in linear light.
        SP: (S, S) float32 specular strength.
        app: `Appearance` (key light direction).
        size: S, pixels (scales blur radii).
        shadows: cast soft shadows (`cast_shadow`); the profile view, whose height field is built row
            by row, turns them off because they band across its cheek.

    Returns:
        (S, S, 3) float32 linear radiance (key + fill + sky light, ambient occlusion from the
        blurred height field, wrapped diffuse with a subsurface approximation, Blinn-Phong).
    """
    gy, gx = np.gradient(Z)
    n = np.stack([-gx, -gy, np.ones_like(Z)], -1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    key = app.light
    fill = np.array([0.55, -0.05, 0.83], np.float32)
    fill /= np.linalg.norm(fill)
    nk = n @ key
    wrap = 0.2
    diff = np.clip((nk + wrap) / (1 + wrap), 0, 1)
    if shadows:
        diff = diff * cast_shadow(Z, key, size)
    fill_d = np.clip(n @ fill, 0, 1)
    sky = 0.6 + 0.4 * np.clip(-n[..., 1], -1, 1)
    blur = cv2.GaussianBlur(Z, (0, 0), 0.02 * size + 1)
    ao = np.clip(1 - 0.02 * np.clip(blur - Z, 0, None) * (256 / size), 0.55, 1)
    # portrait photographers light darker skin with more fill (a lower lighting ratio) so that the
    # shadow side keeps its detail
    dark = 1 - float(app.skin.mean())
    light = ((0.78 - 0.25 * dark) * diff + (0.16 + 0.2 * dark) * fill_d + (0.14 + 0.15 * dark) * sky) * ao
    # subsurface scattering, cheaply: light diffuses further in skin for red than for green and blue,
    # so shading edges soften and warm (the "screen-space blur of irradiance" approximation)
    light3 = np.stack(
        [cv2.GaussianBlur(light, (0, 0), 0.006 * size), cv2.GaussianBlur(light, (0, 0), 0.0025 * size), light], -1
    )
    tint = 1 + (1 - diff)[..., None] * np.array([0.08, -0.02, -0.05], np.float32) * diff[..., None] * 2
    h = key + np.array([0, 0, 1], np.float32)
    h /= np.linalg.norm(h)
    spec = SP * np.power(np.clip(n @ h, 0, 1), 24) * ao
    return A * light3 * tint + spec[..., None] * 0.9


def cast_shadow(Z: np.ndarray, light: np.ndarray, size: int) -> np.ndarray:
    """Soft shadows of a height field under a directional light (nose, brows, chin on the neck).

    March a few steps towards the light in the image plane; a point is shadowed when the surface
    there rises above the light ray through it.

    Args:
        Z: (S, S) float32 heights in pixels.
        light: (3,) unit vector towards the light (x right, y down, z to the camera).
        size: S in pixels.

    Returns:
        (S, S) float32 visibility in [0.35, 1] (shadows are lit by the sky, never black).
    """
    lxy = float(np.hypot(light[0], light[1]))
    if lxy < 1e-3:
        return np.ones_like(Z)
    ux, uy, rise = light[0] / lxy, light[1] / lxy, light[2] / lxy
    occ = np.zeros_like(Z)
    soft = 0.01 * size
    for t in np.array([1.5, 3, 5, 8, 12, 17, 24]) * (size / 256):
        sx, sy = int(round(t * ux)), int(round(t * uy))
        shifted = np.roll(Z, (-sy, -sx), axis=(0, 1))
        occ = np.maximum(occ, (shifted - Z - t * rise) / (soft * (1 + t / 8)))
    return 1 - 0.65 * np.clip(occ, 0, 1)


def auto_exposure(img: np.ndarray, face: np.ndarray) -> float:
    """Camera auto-exposure on the face: brighten dark skin the way a metered portrait does.

    Photographers expose for the face; without it, darker skin tones render underexposed and lose
    the detail that people (and face detectors) rely on. Partial compensation keeps skin tones
    distinct: the square root of the ratio to a mid-grey target, within [1.1, 5.0].
    """
    # metering on every other pixel is as good as on all of them, at a quarter of the cost
    sub, w = img[::2, ::2], face[::2, ::2] > 0.5
    lum = float((sub[w] @ np.array([0.2126, 0.7152, 0.0722], np.float32)).mean()) if w.any() else 0.18
    return float(np.clip(np.sqrt(0.22 / max(lum, 1e-4)), 1.1, 5.0))


def backdrop(shape, app: Appearance, cx: float, cy: float) -> np.ndarray:
    """Studio backdrop (S, S, 3) float32 linear: a vertical gradient with a soft glow at (cx, cy) px."""
    S = shape[0]
    axis = np.arange(S, dtype=np.float32)
    top, bottom = srgb_to_linear(app.backdrop[0]), srgb_to_linear(app.backdrop[1])
    t = (axis / S)[:, None, None]
    column = top * (1 - t) + bottom * t  # (S, 1, 3)
    # the glow is separable: exp(-a^2 - b^2) = exp(-a^2) exp(-b^2), one outer product
    glow = np.exp(-(((axis - cy) / (0.5 * S)) ** 2))[:, None] * np.exp(-(((axis - cx) / (0.45 * S)) ** 2))[None, :]
    return (column * (0.85 + 0.3 * glow[..., None])).astype(np.float32)


def apply_roll(img, lm: dict, masks: dict, angle: float, centre) -> tuple[np.ndarray, dict, dict]:
    """Roll the head by ``angle`` degrees about ``centre`` (x, y) px; quantise to uint8.

    Args:
        img: (S, S, 3) float32 sRGB in [0, 1].
        lm: landmark name -> (2,) px, rotated with the image.
        masks: region -> (S, S) bool, rotated with nearest-neighbour sampling.

    Returns:
        (image (S, S, 3) uint8, landmarks, masks).
    """
    S = img.shape[0]
    rot = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, 1.0)
    img = cv2.warpAffine(img, rot, (S, S), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    image = np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
    lm = {k: (rot[:, :2] @ np.asarray(v, np.float64) + rot[:, 2]).astype(np.float32) for k, v in lm.items()}
    masks = {k: cv2.warpAffine(v.astype(np.uint8), rot, (S, S), flags=cv2.INTER_NEAREST) > 0 for k, v in masks.items()}
    return image, lm, masks


def tone_curve(linear: np.ndarray, toe: float = 0.35) -> np.ndarray:
    """Camera tone mapping: sRGB-like encoding with a lifted toe, as camera JPEG curves have.

    Args:
        linear: (..., 3) float32 linear light.
        toe: shadow lift, 0 (plain gamma 2.2) to 1. Phone cameras raise it for darker skin
            (skin-tone-aware processing), which keeps facial detail in the shadows.

    Returns:
        Same shape, float32 display values in [0, 1]; mid-tones and highlights stay close to the
        gamma 2.2 encoding.
    """
    x = np.power(np.clip(linear, 0, 1), 1 / 2.2)
    return x + toe * x * (1 - x) ** 2
