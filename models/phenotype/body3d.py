"""Shoulders and a clothed neckline under the 3D head, so that a portrait shows a child, not a floating head.

The head model (`models.phenotype.head_model`) ends at the base of the neck. This module closes that
open loop with a torso surface that widens from the neck to the shoulders and falls to the chest,
scaled to the child's biacromial (shoulder) breadth for age and sex, and dressed from a crew neckline
down in a plain top of a colour drawn from the identity seed. It is portrait framing, not anatomy:
nothing below the neckline is measured or changed by any feature.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

#: Biacromial breadth in centimetres by age in years, for girls and boys: rounded from the growth
#: surveys of Snyder et al. 1977 (Anthropometry of infants, children and youths to age 18 for product
#: safety design, UM-HSRI-77-17) and NHANES III; a framing scale, not a norm any feature is measured on.
BIACROMIAL_CM: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "female": ((0, 1, 3, 6, 9, 12, 15, 18), (12.5, 17.5, 22.0, 25.5, 28.0, 31.5, 33.5, 35.0)),
    "male": ((0, 1, 3, 6, 9, 12, 15, 18), (12.5, 17.5, 22.0, 26.0, 28.5, 31.5, 35.5, 38.5)),
}
#: Plain tops, sRGB in [0, 1]: muted colours a family photograph often shows.
CLOTHES: tuple[tuple[float, float, float], ...] = (
    (0.18, 0.24, 0.38),  # navy
    (0.55, 0.56, 0.58),  # heather grey
    (0.20, 0.42, 0.45),  # teal
    (0.72, 0.56, 0.25),  # mustard
    (0.90, 0.89, 0.86),  # off-white
    (0.50, 0.22, 0.25),  # berry
    (0.33, 0.45, 0.30),  # sage
    (0.62, 0.70, 0.82),  # light blue
)


@dataclass
class Torso:
    """The torso surface.

    Attributes:
        positions: (N, 3) float32 metres. normals: (N, 3) float32 unit.
        cloth: (N,) float32, 0 on the neck's skin, 1 on the fabric (the neckline between).
        triangles: (T, 3) int32.
        shoulders: (z of the shoulder line, half width, half depth), for hair to rest on.
    """

    positions: np.ndarray
    normals: np.ndarray
    cloth: np.ndarray
    triangles: np.ndarray
    shoulders: tuple[float, float, float]


def neck_loop(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Indices of the head mesh's open loop at the base of the neck, ordered around the neck.

    Raises:
        ValueError: the mesh has no open boundary low on the neck.
    """
    ids = _open_vertices(np.ascontiguousarray(faces, np.int64).tobytes())
    if not len(ids):
        raise ValueError("the head mesh has no open neck to attach shoulders to")
    low = vertices[ids, 2].min()
    ids = ids[vertices[ids, 2] < low + 0.25 * (vertices[:, 2].max() - low)]
    centre = vertices[ids].mean(0)
    angle = np.arctan2(vertices[ids, 1] - centre[1], vertices[ids, 0] - centre[0])
    return ids[np.argsort(angle)]


@functools.lru_cache(maxsize=8)
def _open_vertices(faces_key: bytes) -> np.ndarray:
    """Vertices on the open boundary of a triangle list (edges used by one triangle), cached per topology."""
    faces = np.frombuffer(faces_key, dtype=np.int64).reshape(-1, 3)
    edges = np.sort(np.vstack([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]]), axis=1)
    unique, count = np.unique(edges, axis=0, return_counts=True)
    return np.unique(unique[count == 1])


def build_torso(vertices: np.ndarray, faces: np.ndarray, age: float, sex: str, rng: np.random.Generator) -> Torso:
    """The torso for one head.

    Args:
        vertices: (V, 3) head vertices, metres (+z up, the face towards -y). faces: (F, 3) int.
        age: years, 0 to 18. sex: ``"female"`` or ``"male"``. rng: the identity's generator.

    Returns:
        `Torso`; its top ring coincides with the neck loop, so the seam is closed.
    """
    loop = neck_loop(vertices, faces)
    ring = vertices[loop].astype(np.float64)
    centre = ring.mean(0)
    ages, cm = BIACROMIAL_CM[sex if sex in BIACROMIAL_CM else "female"]
    half_w = float(np.interp(age, ages, cm)) / 200 * rng.uniform(0.95, 1.05)
    half_d = half_w * 0.55
    n_theta = 72
    theta = np.linspace(-np.pi, np.pi, n_theta, endpoint=False)
    angle = np.arctan2(ring[:, 1] - centre[1], ring[:, 0] - centre[0])
    order = np.argsort(angle)
    neck = np.stack(
        [np.interp(theta, angle[order], ring[order, k], period=2 * np.pi) for k in range(3)], axis=1
    )  # (T, 3)
    # the shoulder outline seen from above: a superellipse, squarer than an ellipse
    c, s = np.cos(theta), np.sin(theta)
    shoulder_xy = np.stack(
        [half_w * np.sign(c) * np.abs(c) ** 0.6, half_d * np.sign(s) * np.abs(s) ** 0.8], axis=1
    ) + centre[:2] + [0.0, 0.12 * half_d]  # fmt: skip
    drop = 0.22 * half_w  # from the neck's base down to the shoulder tips (the trapezius' slope)
    neck_len = 0.015 + 0.02 * min(age, 12) / 12  # a little more neck below the head model's loop
    rows = [neck + [0.0, 0.0, -neck_len * t] for t in (0.0, 0.5, 1.0)]
    base = rows[-1]
    for t in np.linspace(0, 1, 12)[1:]:
        ease = np.sin(t * np.pi / 2)
        xy = base[:, :2] + (shoulder_xy - base[:, :2]) * ease
        z = base[:, 2] - 0.01 * t - drop * t**2 * np.abs(c) ** 0.5
        rows.append(np.column_stack([xy, z]))
    for k in range(1, 6):  # then straight down past the frame's edge: upper arms and chest
        last = rows[-1].copy()
        last[:, 2] -= 0.05 * k * half_w / 0.12
        bulge = 1 + 0.04 * np.sin(k / 5 * np.pi)
        last[:, :2] = centre[:2] + (rows[-1][:, :2] - centre[:2]) * bulge
        rows.append(last)
    grid = np.stack(rows)  # (R, T, 3)
    positions = grid.reshape(-1, 3)
    r_count = len(rows)
    cloth_row = np.clip(np.arange(r_count) - 2.0, 0, 1)  # the neck's skin, then the crew neckline
    cloth = np.repeat(cloth_row, n_theta)
    i = np.arange(r_count - 1)[:, None] * n_theta
    j = np.arange(n_theta)[None, :]
    a, b = i + j, i + (j + 1) % n_theta
    quads = np.stack([a, b, a + n_theta, b, b + n_theta, a + n_theta], axis=-1).reshape(-1, 3)
    normals = _grid_normals(grid)
    shoulder_z = float(grid[13, :, 2].max())
    return Torso(
        positions.astype(np.float32),
        normals.reshape(-1, 3).astype(np.float32),
        cloth.astype(np.float32),
        quads.astype(np.int32),
        (shoulder_z, half_w, half_d),
    )


def _grid_normals(grid: np.ndarray) -> np.ndarray:
    """Outward unit normals of a (rows, around, 3) surface grid."""
    down = np.gradient(grid, axis=0)
    around = np.roll(grid, -1, axis=1) - np.roll(grid, 1, axis=1)
    n = np.cross(around, down)
    centre = grid.reshape(-1, 3).mean(0)
    outward = grid - centre
    outward[..., 2] = 0
    n *= np.sign((n * outward).sum(-1, keepdims=True) + 1e-12)
    return n / np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)


def clothing_colour(rng: np.random.Generator) -> tuple[float, float, float]:
    """A top's colour drawn with `rng` from `CLOTHES`."""
    return CLOTHES[int(rng.integers(len(CLOTHES)))]
