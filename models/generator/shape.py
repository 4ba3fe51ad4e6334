"""Face shape for a generator conditioned on landmarks: Face Mesh contours of the training crops and
the linear shape model that draws new ones.

A diffusion UNet that is told only "syndrome X" in a condition vector learns the syndrome's
geometry slowly: on our CPU budget it drew nearly the same face for every syndrome (conditioned
top-1 9-15 %). Pixel-aligned conditions are learned much faster (the inpainting and ControlNet
recipes), so ``--condition-on-shape`` splits the work the way active appearance models do
(Cootes, Edwards & Taylor 1998): a statistical shape model draws the face's landmarks from the
condition, and the UNet paints a face onto the map of those landmarks.

* `crop_landmarks` finds the MediaPipe Face Mesh (Kartynnik et al. 2019) contour landmarks of
  every aligned training crop (eyes, irises, brows, nose, lips, face oval; `CONTOUR_GROUPS`).
* `fit_shape_model` fits them by ridge regression on the condition vector (syndrome, age, sex,
  tone and, for HPO-conditioned generators, the features each child shows), plus a principal-
  component model of what the condition does not explain (a point distribution model). Only these
  averages and components are kept, never one child's landmarks.
* The pipeline (`models.generator.pipeline`, self-contained) draws a shape from that model and
  rasterises it with `landmark_map`.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from models.files import atomic_output

#: Face Mesh connection sets drawn into each landmark-map channel (mediapipe.solutions.face_mesh names).
CONTOUR_GROUPS: tuple[tuple[str, ...], ...] = (
    ("FACEMESH_LEFT_EYE", "FACEMESH_RIGHT_EYE", "FACEMESH_IRISES", "FACEMESH_LEFT_EYEBROW", "FACEMESH_RIGHT_EYEBROW"),
    ("FACEMESH_NOSE", "FACEMESH_LIPS"),
    ("FACEMESH_FACE_OVAL",),
)
#: Landmark-map channels, one per group.
SHAPE_CHANNELS = len(CONTOUR_GROUPS)
#: The leading channels that hold the inner facial features (eyes, irises, brows; nose, lips), not the face oval.
FEATURE_CHANNELS = 2
#: Face Mesh runs on crops upsampled to this size (px) inside a grey border, as the quality benchmark does.
DETECT_SIZE = 256
DETECT_PAD = 64


def contour_topology() -> tuple[np.ndarray, np.ndarray]:
    """The landmarks and edges of `CONTOUR_GROUPS`.

    Returns:
        mesh_index (P,) int64: the Face Mesh landmark index of each shape point, ascending (P = 160);
        edges (E, 3) int64: rows (point a, point b, channel), a and b indexing the P shape points.
    """
    from mediapipe.python.solutions import face_mesh

    edges = []
    for channel, names in enumerate(CONTOUR_GROUPS):
        for name in names:
            edges.extend((a, b, channel) for a, b in sorted(getattr(face_mesh, name)))
    mesh_index = np.array(sorted({i for a, b, _ in edges for i in (a, b)}), dtype=np.int64)
    where = {int(m): i for i, m in enumerate(mesh_index)}
    return mesh_index, np.array([(where[a], where[b], c) for a, b, c in edges], dtype=np.int64)


def crop_landmarks(crops: np.ndarray, cache_dir: str | Path | None = None, progress: bool = False) -> np.ndarray:
    """Contour landmarks of aligned face crops, from the cache when it holds them.

    Args:
        crops: (N, S, S, 3) uint8 aligned crops (`models.generator.data.load_training_set`).
        cache_dir: folder for a ``.npy`` cache keyed by the crops' bytes (None: no cache).
        progress: print progress to stderr.

    Returns:
        (N, P, 2) float32 (x, y) in units of the crop side (0 to 1, top left origin), in
        `contour_topology`'s point order; NaN rows where Face Mesh found no single face.
    """
    from models.alignment import detect_landmarks
    from models.generator.sample import upscale

    mesh_index, _ = contour_topology()
    if len(crops) == 0:
        return np.zeros((0, len(mesh_index), 2), dtype=np.float32)
    key = hashlib.sha256(crops.tobytes()).hexdigest()[:16]
    cache = Path(cache_dir) / f"contours-{key}.npy" if cache_dir else None
    if cache is not None and cache.is_file():
        return np.load(cache)
    out = np.full((len(crops), len(mesh_index), 2), np.nan, dtype=np.float32)
    canvas = np.full((DETECT_SIZE + 2 * DETECT_PAD,) * 2 + (3,), 128, dtype=np.uint8)
    for i, crop in enumerate(tqdm(crops, desc="landmarks", unit="image", disable=not progress)):
        canvas[DETECT_PAD:-DETECT_PAD, DETECT_PAD:-DETECT_PAD] = upscale(crop, DETECT_SIZE)
        try:
            mesh = detect_landmarks(canvas)
        except ValueError:
            continue
        out[i] = (mesh[mesh_index] - DETECT_PAD) / DETECT_SIZE
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            with atomic_output(cache) as tmp, open(tmp, "wb") as f:
                np.save(f, out)
        except OSError as e:
            print(f"warning: could not write the landmark cache {cache}: {e}", file=sys.stderr)
    return out


def fit_shape_model(
    points: np.ndarray, conditions: np.ndarray, n_components: int = 12, ridge: float = 1.0
) -> dict[str, Any]:
    """Fit the linear shape model the pipeline samples from.

    shape = condition @ weight + bias + (z * scale) @ basis, with z ~ N(0, I): the ridge regression
    of the landmarks on the condition vector, and the leading principal components of its residuals
    (pooled over classes, so that a syndrome with 5 children still gets a full range of variation).

    Args:
        points: (N, P, 2) landmarks from `crop_landmarks`; NaN rows are left out.
        conditions: (N, D) float condition vectors (`models.generator.data.conditions`).
        n_components: residual principal components kept.
        ridge: L2 penalty of the regression (shrinks classes with few children toward the others).

    Returns:
        JSON-ready dict: ``edges`` (E, 3) and ``weight`` (D, 2P), ``bias`` (2P,), ``basis``
        (K, 2P), ``scale`` (K,) as nested lists of floats rounded to 5 decimals.

    Raises:
        ValueError: fewer than ``n_components + 2`` faces with landmarks, or mismatched lengths.
    """
    from sklearn.decomposition import PCA
    from sklearn.linear_model import Ridge

    if len(points) != len(conditions):
        raise ValueError(f"{len(points)} landmark sets but {len(conditions)} conditions")
    ok = ~np.isnan(points).any(axis=(1, 2))
    if ok.sum() < n_components + 2:
        raise ValueError(f"only {int(ok.sum())} training faces have landmarks; need at least {n_components + 2}")
    y = points[ok].reshape(int(ok.sum()), -1).astype(np.float64)
    x = np.asarray(conditions, dtype=np.float64)[ok]
    reg = Ridge(alpha=ridge).fit(x, y)
    pca = PCA(n_components=n_components).fit(y - reg.predict(x))
    _, edges = contour_topology()

    def rounded(a: np.ndarray) -> list:
        return np.round(a, 5).tolist()

    return {
        "edges": edges.tolist(),
        "weight": rounded(reg.coef_.T),
        "bias": rounded(reg.intercept_),
        "basis": rounded(pca.components_),
        "scale": rounded(np.sqrt(pca.explained_variance_)),
    }
