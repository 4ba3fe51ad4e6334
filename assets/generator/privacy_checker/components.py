"""The generator's own pipeline components: the face-shape model and the privacy checker.

Both are diffusers models (``ModelMixin`` + ``ConfigMixin``): each has a folder of its own in a
saved pipeline (``shape_model/``, ``privacy_checker/``) with ``config.json``, its arrays in
``diffusion_pytorch_model.safetensors`` and a copy of this file as ``components.py``, which is how
diffusers finds a custom component's class (``model_index.json`` names ``["components", class]``).
This file is self-contained (torch, numpy, PIL, diffusers) so that a researcher without PhenoFace
loads a generator folder with diffusers alone.

* `PhenoFaceShapeModel`: the linear shape model of a shape-conditioned generator
  (`models.generator.shape.fit_shape_model`): contour landmarks = condition @ weight + bias +
  (z * scale) @ basis, z ~ N(0, I) (a point distribution model, Cootes et al. 1995).
* `PhenoFacePrivacyChecker`: the memorisation filter. It keeps 128-dimensional Gaussian random
  projections of the generator's training crops (Johnson-Lindenstrauss; no image) and flags a
  sample whose nearest training vector, at any of its views (as given, mirrored, shifted by up to
  2 pixels), is close in absolute terms and much closer than the second nearest (Lowe's 2004 ratio
  test). The pipeline applies it to every sample, as diffusers' Stable Diffusion pipelines apply
  their ``safety_checker``: a flagged image is blanked and reported.

Research and education only; never for diagnosis.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config
from PIL import Image

#: Resolution the identity measures read, in pixels, and the central window they compare.
SIZE = 64
CENTRE = slice(8, 56)
#: Largest shift of a query view, in pixels at 64 px (3 % of the face width).
SHIFT = 2
#: Dimension of the stored random projection.
PROJ_DIM = 128
#: Seed of the fixed Gaussian projection (the same matrix for every generator).
PROJECTION_SEED = 20261129
#: The query views: (mirrored, dy, dx), the identity first.
VIEWS = ((False, 0, 0),) + tuple(
    (m, dy, dx)
    for m in (False, True)
    for dy in range(-SHIFT, SHIFT + 1)
    for dx in range(-SHIFT, SHIFT + 1)
    if (m, dy, dx) != (False, 0, 0)
)


@functools.lru_cache(maxsize=1)
def projection_matrix() -> torch.Tensor:
    """The fixed (2304, 128) float32 Gaussian projection, scaled so distances stay RMS per pixel."""
    g = torch.Generator().manual_seed(PROJECTION_SEED)
    n = (CENTRE.stop - CENTRE.start) ** 2
    return torch.randn(n, PROJ_DIM, generator=g) / np.sqrt(PROJ_DIM * n)


def to_size(images: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) uint8 aligned crops of any size -> (N, 64, 64, 3) uint8 (Lanczos)."""
    if images.shape[1:3] == (SIZE, SIZE):
        return images
    return np.stack([np.asarray(Image.fromarray(im).resize((SIZE, SIZE), Image.Resampling.LANCZOS)) for im in images])


def grey(images: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 aligned crops -> (N, 64, 64) float32 grey in [0, 1] (ITU-R BT.601 luma)."""
    x = torch.from_numpy(np.ascontiguousarray(to_size(images))).float() / 255.0
    return x[..., 0] * 0.299 + x[..., 1] * 0.587 + x[..., 2] * 0.114


def window(grey_images: torch.Tensor, view: tuple[bool, int, int]) -> torch.Tensor:
    """(N, 64, 64) grey crops -> (N, 48, 48): the window of one view (mirrored, dy, dx)."""
    mirrored, dy, dx = view
    g = grey_images.flip(-1) if mirrored else grey_images
    return g[:, CENTRE.start + dy : CENTRE.stop + dy, CENTRE.start + dx : CENTRE.stop + dx]


def project(windows: torch.Tensor, projection: torch.Tensor | None = None) -> torch.Tensor:
    """(N, 48, 48) grey windows -> (N, 128) standardised projections (lighting and exposure drop out).

    `projection` is the (2304, 128) matrix (default: `projection_matrix`).
    """
    flat = windows.flatten(1)
    flat = (flat - flat.mean(1, keepdim=True)) / flat.std(1, keepdim=True).clamp_min(1e-6)
    return flat @ (projection_matrix() if projection is None else projection)


def nearest(
    images: np.ndarray, gallery: torch.Tensor, k: int = 2, chunk: int = 32, projection: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The k gallery vectors nearest to any view of each query crop.

    Args:
        images: (Q, H, W, 3) uint8 aligned query crops.
        gallery: (G, 128) float gallery vectors (projections of the central window).
        k: neighbours kept (at most G).
        chunk: queries per distance block (bounds memory at chunk * len(VIEWS) * G floats).
        projection: the (2304, 128) matrix (default: `projection_matrix`).

    Returns:
        Distances (Q, k) float32 ascending (each the minimum over the views), gallery indices
        (Q, k) int64, and the view index (into `VIEWS`) each distance was reached at (Q, k) int64.
    """
    g = grey(images)
    gallery = gallery.float()
    k = min(k, gallery.shape[0])
    dists, idxs, views = [], [], []
    for start in range(0, len(g), chunk):
        block = g[start : start + chunk]
        q = torch.stack([project(window(block, v), projection) for v in VIEWS], 1)  # (c, V, 128)
        d = torch.cdist(q.reshape(-1, PROJ_DIM), gallery).reshape(len(block), len(VIEWS), -1)
        d_min, at = d.min(1)
        dist, idx = d_min.topk(k, dim=1, largest=False)
        dists.append(dist)
        idxs.append(idx)
        views.append(at.gather(1, idx))
    return torch.cat(dists), torch.cat(idxs), torch.cat(views)


def ratio(dist: torch.Tensor) -> torch.Tensor:
    """Nearest / second-nearest distance (Q,) from (Q, k) ascending distances; 0 when k is 1."""
    if dist.shape[1] < 2:
        return torch.zeros(dist.shape[0])
    return dist[:, 0] / dist[:, 1].clamp_min(1e-6)


class PhenoFacePrivacyChecker(ModelMixin, ConfigMixin):
    """The memorisation filter as a pipeline component: flags samples that are near-copies of a training image.

    A sample is flagged when ``d1 <= max_distance and d1 / d2 <= max_ratio``, d1 and d2 being the
    distances (projected RMS of standardised grey pixels, in SD) from its nearest view to the
    nearest and second-nearest training vectors. The thresholds are calibrated on re-renders of the
    same child versus different children (`models.generator.audit.calibrate`).

    Args:
        num_vectors: training vectors held (N).
        max_distance: projected RMS distance threshold, in SD of standardised pixels.
        max_ratio: nearest / second-nearest distance threshold.
        min_ssim: the audit's SSIM threshold (0 to 1) of the central crop, kept with the others.
        source: how the thresholds were set.

    Buffers (saved in ``diffusion_pytorch_model.safetensors``): ``vectors`` (N, 128) float16, the
    training crops' projections; ``projection`` (2304, 128) float32, the random projection.

    Raises:
        ValueError: non-positive `num_vectors` or thresholds out of range.
    """

    config_name = "config.json"

    @register_to_config
    def __init__(
        self,
        num_vectors: int = 1,
        max_distance: float = 0.25,
        max_ratio: float = 0.6,
        min_ssim: float = 0.85,
        source: str = "uncalibrated defaults",
    ) -> None:
        super().__init__()
        if int(num_vectors) < 1:
            raise ValueError(f"a privacy checker needs at least one training vector, not {num_vectors!r}")
        if not (max_distance >= 0 and 0 <= max_ratio <= 1 and 0 <= min_ssim <= 1):
            raise ValueError("privacy thresholds must be max_distance >= 0, max_ratio and min_ssim in [0, 1]")
        self.register_buffer("vectors", torch.zeros(int(num_vectors), PROJ_DIM, dtype=torch.float16))
        self.register_buffer("projection", projection_matrix().clone())

    @classmethod
    def from_vectors(cls, vectors: torch.Tensor, **thresholds) -> PhenoFacePrivacyChecker:
        """A checker holding `vectors` ((N, 128) float projections of the training crops) with `thresholds`.

        Raises:
            ValueError: vectors not of shape (N, 128) with N >= 1, or not finite.
        """
        vectors = torch.as_tensor(vectors)
        if vectors.ndim != 2 or vectors.shape[1] != PROJ_DIM or len(vectors) == 0:
            raise ValueError(f"training vectors must be (N, {PROJ_DIM}) with N >= 1, not {tuple(vectors.shape)}")
        if not torch.isfinite(vectors).all():
            raise ValueError("training vectors must be finite")
        checker = cls(num_vectors=len(vectors), **thresholds)
        checker.vectors.copy_(vectors.half())
        return checker

    @torch.no_grad()
    def check(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which samples are near-copies of a training image.

        Each sample is read as given, mirrored and shifted by up to 2 pixels (`VIEWS`), not
        re-aligned: no face-landmark call in the sampling path.

        Args:
            images: (B, H, W, 3) uint8 aligned samples (the generator's output, unmarked).

        Returns:
            flagged (B,) bool, nearest distance d1 (B,) float64, ratio d1 / d2 (B,) float64.

        Raises:
            ValueError: images not (B, H, W, 3) uint8.
        """
        images = np.asarray(images)
        if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
            raise ValueError(f"images must be (B, H, W, 3) uint8, not {images.shape} {images.dtype}")
        # float32 whatever the caller's autocast: a threshold read in bfloat16 would flag other samples
        with torch.autocast("cpu", enabled=False):
            dist, _, _ = nearest(images, self.vectors.float().cpu(), 2, projection=self.projection.float().cpu())
        d1, r = dist[:, 0].double().numpy(), ratio(dist).double().numpy()
        flagged = (d1 <= self.config.max_distance) & (r <= self.config.max_ratio)
        return flagged, d1, r

    def forward(self, images: np.ndarray) -> np.ndarray:
        """(B,) bool: which of the (B, H, W, 3) uint8 samples are near-copies (see `check`)."""
        return self.check(images)[0]


class PhenoFaceShapeModel(ModelMixin, ConfigMixin):
    """The linear shape model a shape-conditioned generator draws each face's contour landmarks from.

    shape = condition @ weight + bias + (z * scale) @ basis, with z ~ N(0, I): a ridge regression of
    Face Mesh contour landmarks on the condition vector, plus the leading principal components of
    its residuals (`models.generator.shape.fit_shape_model`). Only these averages and components
    are kept, never one child's landmarks.

    Args:
        condition_size: length D of the condition vector it reads.
        num_points: contour landmarks P.
        num_components: residual principal components K.
        num_edges: contour edges E.

    Buffers: ``weight`` (D, 2P), ``bias`` (2P,), ``basis`` (K, 2P), ``scale`` (K,) float32 in units of
    the image side; ``edges`` (E, 3) int64 rows (point a, point b, landmark-map channel).

    Raises:
        ValueError: a size below 1.
    """

    config_name = "config.json"

    @register_to_config
    def __init__(self, condition_size: int = 1, num_points: int = 1, num_components: int = 1, num_edges: int = 1):
        super().__init__()
        if min(condition_size, num_points, num_components, num_edges) < 1:
            raise ValueError("every size of a shape model must be at least 1")
        self.register_buffer("weight", torch.zeros(condition_size, 2 * num_points))
        self.register_buffer("bias", torch.zeros(2 * num_points))
        self.register_buffer("basis", torch.zeros(num_components, 2 * num_points))
        self.register_buffer("scale", torch.zeros(num_components))
        self.register_buffer("edges", torch.zeros(num_edges, 3, dtype=torch.int64))

    @classmethod
    def from_arrays(cls, arrays: dict) -> PhenoFaceShapeModel:
        """A shape model from `fit_shape_model`'s dict (``edges``, ``weight``, ``bias``, ``basis``, ``scale``).

        Raises:
            ValueError: a missing key, arrays of mismatched sizes, non-finite values, or edges that
                name points the model does not have.
        """
        missing = {"edges", "weight", "bias", "basis", "scale"} - set(arrays)
        if missing:
            raise ValueError(f"the shape model lacks {', '.join(sorted(missing))}")
        try:
            a = {k: np.asarray(arrays[k], dtype=np.float64) for k in ("weight", "bias", "basis", "scale")}
            edges = np.asarray(arrays["edges"], dtype=np.int64)
        except (TypeError, ValueError):
            raise ValueError("the shape model's arrays are not rectangular lists of numbers") from None
        bias = a["bias"]
        if bias.ndim != 1 or len(bias) == 0 or len(bias) % 2:
            raise ValueError("the shape model's bias must hold (x, y) of each point")
        n = len(bias)
        if a["weight"].ndim != 2 or a["weight"].shape[1] != n or len(a["weight"]) == 0:
            raise ValueError(f"the shape model's weight must be (D, {n})")
        k = len(a["scale"])
        if a["scale"].ndim != 1 or k == 0 or a["basis"].shape != (k, n):
            raise ValueError(f"the shape model's basis must be ({k}, {n}) to match its scale and bias")
        if not all(np.isfinite(v).all() for v in a.values()):
            raise ValueError("the shape model holds non-finite numbers")
        if edges.ndim != 2 or edges.shape[1] != 3 or len(edges) == 0:
            raise ValueError("the shape model's edges must be a non-empty list of (point a, point b, channel)")
        if edges[:, :2].min() < 0 or edges[:, :2].max() >= n // 2 or edges[:, 2].min() < 0:
            raise ValueError(f"the shape model's edges must join points 0 to {n // 2 - 1} in channels from 0")
        model = cls(condition_size=len(a["weight"]), num_points=n // 2, num_components=k, num_edges=len(edges))
        for key in ("weight", "bias", "basis", "scale"):
            getattr(model, key).copy_(torch.tensor(a[key], dtype=torch.float32))
        model.edges.copy_(torch.from_numpy(edges))
        return model

    @property
    def channels(self) -> int:
        """Landmark-map channels the edges are drawn into."""
        return 1 + int(self.edges[:, 2].max())

    def edge_list(self) -> list[tuple[int, int, int]]:
        """The edges as (point a, point b, channel) tuples of ints."""
        return [tuple(int(v) for v in e) for e in self.edges.tolist()]

    @torch.no_grad()
    def forward(self, cond: torch.Tensor, z: torch.Tensor) -> np.ndarray:
        """Contour landmarks for condition vectors: the mean shape for the condition plus components times `z`.

        Args:
            cond: (B, D) float condition vectors.
            z: (B, K) standard normal draws, one per residual component.

        Returns:
            (B, P, 2) float32 landmarks (x, y) in units of the image side.
        """
        w, b, basis, scale = (getattr(self, k).float().cpu() for k in ("weight", "bias", "basis", "scale"))
        flat = cond.float().cpu() @ w + b + (z.float().cpu() * scale) @ basis
        return flat.reshape(len(cond), -1, 2).numpy()
