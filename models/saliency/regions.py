"""Facial regions of an aligned crop, the share of attribution in each, and the overlay picture.

Regions come from the renderer's masks (`models.phenotype.spec.REGIONS`) warped with the crop's
alignment transform, or, for photographs, from Face Mesh landmarks (polygons over the canonical
topology; ``mediapipe.solutions.face_mesh_connections``). The breakdown reports, per region, the
share of the positive attribution it holds and that share divided by the region's share of the
image area: above 1, the map is denser there than on average.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

# Face Mesh index groups (canonical topology, 478 points with refine_landmarks=True).
# fmt: off
_FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
              148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
_EYE_R = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246, 130, 226, 243)
_EYE_L = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466, 359, 446, 463)
_BROW_R = (46, 53, 52, 65, 55, 70, 63, 105, 66, 107)
_BROW_L = (276, 283, 282, 295, 285, 300, 293, 334, 296, 336)
_NOSE = (168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 97, 326, 327, 294, 64, 48, 278, 115, 344, 220, 440, 129, 358)
_MOUTH = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146, 2, 164,
          167, 393)  # lips and the philtrum up to subnasale (2)
_CHIN_CUT = 17  # lower lip point: the chin region lies below it within the face oval
# fmt: on


@dataclass
class RegionShare:
    """Positive attribution in one region.

    Attributes:
        region: region name.
        share: fraction of the image's positive attribution inside the region, 0-1.
        area: fraction of the image's area the region covers, 0-1.
        density: ``share / area``; 1 means as dense as the whole-image average.
    """

    region: str
    share: float
    area: float
    density: float


def warp_masks(masks: Mapping[str, np.ndarray], matrix: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """Warp a render's region masks into the aligned crop.

    Args:
        masks: region -> (H, W) bool mask in source pixels.
        matrix: (2, 3) source-to-crop transform (`models.alignment.AlignedFace.matrix`).
        size: crop side in pixels.

    Returns:
        region -> (size, size) bool; regions that fall outside the crop are left out.
    """
    out = {}
    for name, mask in masks.items():
        warped = cv2.warpAffine(mask.astype(np.uint8), matrix, (size, size), flags=cv2.INTER_NEAREST) > 0
        if warped.any():
            out[name] = warped
    return out


def _poly(points: np.ndarray, size: int, dilate: int = 0) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points).astype(np.int32)), 1)
    if dilate:
        mask = cv2.dilate(mask, np.ones((2 * dilate + 1, 2 * dilate + 1), np.uint8))
    return mask > 0


def mesh_regions(mesh: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """Approximate facial regions from Face Mesh landmarks, for images without render masks.

    Args:
        mesh: (478, 2) landmarks in crop pixels.
        size: crop side in pixels.

    Returns:
        region -> (size, size) bool for forehead, brows, eyes, nose, mouth, cheeks and chin; the
        regions do not overlap (later regions in that order win where hulls meet, eyes over brows).
    """
    pad = max(1, size // 56)
    face = np.zeros((size, size), np.uint8)
    cv2.fillPoly(face, [np.round(mesh[list(_FACE_OVAL)]).astype(np.int32)], 1)
    face = face > 0
    eyes = _poly(mesh[list(_EYE_R)], size, pad) | _poly(mesh[list(_EYE_L)], size, pad)
    brows = (_poly(mesh[list(_BROW_R)], size, pad) | _poly(mesh[list(_BROW_L)], size, pad)) & ~eyes
    nose = _poly(mesh[list(_NOSE)], size) & ~eyes
    mouth = _poly(mesh[list(_MOUTH)], size, pad) & ~nose
    brow_top = mesh[list(_BROW_R + _BROW_L), 1].min()
    rows = np.arange(size)[:, None] * np.ones((1, size))
    forehead = face & (rows < brow_top) & ~brows
    chin = face & (rows > mesh[_CHIN_CUT, 1]) & ~mouth
    cheeks = face & ~(forehead | brows | eyes | nose | mouth | chin)
    return {
        "forehead": forehead,
        "brows": brows,
        "eyes": eyes,
        "nose": nose,
        "mouth": mouth,
        "cheeks": cheeks,
        "chin": chin,
    }


def region_breakdown(heatmap: np.ndarray, regions: Mapping[str, np.ndarray]) -> list[RegionShare]:
    """Share of positive attribution per region, most area-dense first.

    Args:
        heatmap: (H, W) signed attribution.
        regions: region -> (H, W) bool.

    Returns:
        One `RegionShare` per region, sorted by density, descending. All shares are 0 when the map
        has no positive attribution.
    """
    pos = np.clip(heatmap.astype(np.float64), 0, None)
    total = pos.sum()
    out = []
    for name, mask in regions.items():
        area = float(mask.mean())
        share = float(pos[mask].sum() / total) if total > 0 else 0.0
        out.append(RegionShare(name, share, area, share / area if area > 0 else 0.0))
    return sorted(out, key=lambda r: -r.density)


def overlay(
    image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.55, cmap: str = "cividis", scale: int = 3
) -> np.ndarray:
    """Blend the positive attribution over the crop in a colour-blind-safe colormap.

    Args:
        image: (H, W, 3) uint8 crop.
        heatmap: (H, W) signed attribution; only positive values are drawn, scaled to their 99th percentile.
        alpha: opacity of the heat map where it is strongest.
        cmap: matplotlib colormap name; cividis and viridis are readable with colour-vision deficiency.
        scale: output magnification (bicubic), so a 112 px crop becomes a 336 px picture.

    Returns:
        (H * scale, W * scale, 3) uint8 RGB.
    """
    from matplotlib import colormaps

    pos = np.clip(heatmap.astype(np.float64), 0, None)
    top = np.percentile(pos, 99) if pos.any() else 1.0
    level = np.clip(pos / (top if top > 0 else 1.0), 0, 1)
    colour = colormaps[cmap](level)[..., :3] * 255
    weight = (alpha * level)[..., None]
    blended = (image.astype(np.float64) * (1 - weight) + colour * weight).round().astype(np.uint8)
    h, w = image.shape[:2]
    return cv2.resize(blended, (w * scale, h * scale), interpolation=cv2.INTER_CUBIC) if scale != 1 else blended
