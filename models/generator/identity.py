"""Identity measures between aligned face crops, for the privacy audit and the memorisation filter.

Every measure compares grey 48 x 48 windows of 64 x 64 aligned crops (the inner face; the corner
"SYNTHETIC" label and most background are outside). A training gallery is always seen through
its central window. A query (a generated sample) is seen through several *views*: the central
window and the windows shifted by up to `SHIFT` pixels, of the crop and of its mirror image.
Why: the generator is trained with random horizontal flips, so a memorised child can come back
mirrored, and SSIM and pixel distances collapse under a 1-pixel shift (a training crop shifted by
one pixel scored below every threshold before views were added). Each measure takes the best
view, so a copy is found however it is flipped or nudged; unrelated children gain a little too,
which the calibration (`models.generator.audit.calibrate`) absorbs because it measures them the
same way.

- `vectors`: derived identity vectors (Gaussian random projections of the standardised grey
  window, 2304 -> 128 numbers; Johnson-Lindenstrauss), the only thing stored about training images.
- `nearest`: the k gallery vectors nearest to any view of each query; `ratio`: Lowe's (2004)
  nearest / second-nearest ratio test.
- `best_ssim`: pixel SSIM (Wang et al. 2004; torchmetrics, 11-pixel Gaussian window, sigma 1.5)
  of the best view against candidate gallery crops.
- `measures`: all of these for a batch of queries, read as given and, for the audit, also
  re-aligned by Face Mesh (`realigned`), which brings back copies moved or scaled beyond the views.
"""

from __future__ import annotations

import numpy as np
import torch

# the measures the pipeline's privacy checker also uses live in its self-contained component file
from models.generator.components import (
    CENTRE,
    PROJ_DIM,
    SHIFT,
    SIZE,
    VIEWS,
    grey,
    nearest,
    project,
    ratio,
    to_size,
    window,
)

__all__ = [
    "CENTRE", "PROJ_DIM", "SHIFT", "SIZE", "VIEWS",
    "best_ssim", "grey", "measures", "nearest", "ratio", "realigned", "to_size", "vectors", "window",
]  # fmt: skip


def vectors(images: np.ndarray) -> torch.Tensor:
    """Derived identity vectors (N, 128) float32 of aligned crops (N, H, W, 3) uint8, central window.

    Euclidean distances between them approximate the RMS difference of the standardised grey
    windows, in SD units.
    """
    return project(window(grey(images), VIEWS[0]))


def best_ssim(
    query: np.ndarray, gallery: np.ndarray, candidates: torch.Tensor, views: torch.Tensor
) -> tuple[np.ndarray, np.ndarray]:
    """Highest SSIM of each query crop against its candidate gallery crops, each at its view.

    Args:
        query: (Q, H, W, 3) uint8 aligned crops.
        gallery: (G, H, W, 3) uint8 aligned crops.
        candidates: (Q, C) int64 gallery indices to compare.
        views: (Q, C) int64 index into `VIEWS` of the query view compared with each candidate
            (from `nearest`: the view nearest to that candidate).

    Returns:
        SSIM (Q,) float64 and the gallery index it was reached at (Q,) int64.
    """
    from torchmetrics.functional.image import structural_similarity_index_measure as ssim

    q, c = grey(query), candidates.shape[1]
    pairs_q = torch.empty(q.shape[0] * c, 1, CENTRE.stop - CENTRE.start, CENTRE.stop - CENTRE.start)
    owner = torch.arange(q.shape[0]).repeat_interleave(c)
    flat_views = views.flatten()
    for v in flat_views.unique().tolist():
        rows = (flat_views == v).nonzero()[:, 0]
        pairs_q[rows, 0] = window(q[owner[rows]], VIEWS[v])
    pairs_g = window(grey(gallery), VIEWS[0])[candidates.flatten()][:, None]
    scores = ssim(pairs_q, pairs_g, data_range=1.0, reduction="none").reshape(-1, c)
    best, at = scores.max(1)
    return best.double().numpy(), candidates.gather(1, at[:, None])[:, 0].numpy()


def realigned(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each crop aligned again from its own face, as the training crops were aligned from theirs.

    A copy that comes back moved, scaled or turned by more than the views cover is brought back
    to the training alignment by `models.alignment` (MediaPipe Face Mesh on the eyes
    and mouth).

    Args:
        images: (N, H, W, 3) uint8 crops.

    Returns:
        (N, 64, 64, 3) uint8 re-aligned crops (the crop itself where no single face was found) and
        (N,) bool, True where a face was found.
    """
    from models.alignment import preprocess

    out, ok = [], []
    for im in to_size(images):
        try:
            out.append(to_size(preprocess(im)[None])[0])
            ok.append(True)
        except ValueError:  # no face, or several: only the crop as given is compared
            out.append(im)
            ok.append(False)
    return np.stack(out), np.array(ok, dtype=bool)


def _reading(
    query: np.ndarray, gallery: np.ndarray, gallery_vectors: torch.Tensor, candidates: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """d1, ratio, best SSIM (float64) and its gallery index (int64), each (Q,), of crops read as given."""
    dist, idx, view = nearest(query, gallery_vectors, candidates)
    s, a = best_ssim(query, gallery, idx, view)
    return dist[:, 0].double().numpy(), ratio(dist).double().numpy(), s, a


def measures(
    query: np.ndarray, gallery: np.ndarray, gallery_vectors: torch.Tensor, candidates: int = 8, realign: bool = True
) -> dict[str, np.ndarray]:
    """Nearest-gallery measures of each query crop, as given and (with `realign`) re-aligned.

    Args:
        query: (Q, H, W, 3) uint8 aligned crops.
        gallery: (G, H, W, 3) uint8 aligned crops; gallery_vectors: their (G, 128) `vectors`.
        candidates: gallery crops compared by SSIM per query (the nearest in the projected space).
        realign: also measure each query re-aligned by `realigned` and keep the closer reading.

    Returns:
        Arrays of length Q: ``d1`` (float64, nearest projected distance over views and readings),
        ``ratio`` (float64, d1 / d2 of the same reading), ``ssim`` (float64, the highest over
        readings) and ``nearest`` (int64, the gallery index of that SSIM).
    """
    d1, ratios, ssim, at = _reading(query, gallery, gallery_vectors, candidates)
    if realign:
        moved, found = realigned(query)
        if found.any():  # where no face was found the re-aligned crop is the crop itself: nothing to add
            rows = np.flatnonzero(found)
            d, r, s, a = _reading(moved[rows], gallery, gallery_vectors, candidates)
            closer, higher = d < d1[rows], s > ssim[rows]
            d1[rows[closer]], ratios[rows[closer]] = d[closer], r[closer]
            ssim[rows[higher]], at[rows[higher]] = s[higher], a[higher]
    return {"d1": d1, "ratio": ratios, "ssim": ssim, "nearest": at}
