"""The memorisation filter: derived vectors of a generator's training images and the rule that refuses near-copies.

The model folder keeps `INDEX_FILE`: 128-dimensional Gaussian random projections of the
training crops (`models.generator.identity.vectors`; no image) with the flag thresholds in its
metadata, set by `models.generator.audit.calibrate`. The app and `models.generator.sample` load
it and withhold any sample it flags. When the training data are licensed photographs, the index
is derived from them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from models.generator.identity import PROJ_DIM, nearest, ratio

INDEX_FILE = "privacy_index.safetensors"


@dataclass
class Thresholds:
    """Flag rules, calibrated on same-child re-renders versus different children (`models.generator.audit.calibrate`).

    A sample is flagged when ``d1 <= max_distance and ratio <= max_ratio`` (the runtime filter,
    projected space) or, in the audit, when its SSIM to a training image is ``>= min_ssim``.

    Attributes:
        max_distance: projected RMS distance, in SD of standardised pixels.
        max_ratio: nearest / second-nearest distance.
        min_ssim: SSIM (0 to 1) of the central crop.
        source: how the thresholds were set.
    """

    max_distance: float = 0.25
    max_ratio: float = 0.6
    min_ssim: float = 0.85
    source: str = "uncalibrated defaults"


class PrivacyIndex:
    """Derived vectors of a generator's training images, and the rule to refuse near-copies.

    Args:
        vectors: (N, 128) float32 training vectors (`models.generator.identity.vectors`).
        thresholds: the flag rule.
    """

    def __init__(self, vectors: torch.Tensor, thresholds: Thresholds) -> None:
        self.vectors = vectors.float()
        self.thresholds = thresholds

    def save(self, folder: str | Path) -> Path:
        """Write ``privacy_index.safetensors`` (float16 vectors, thresholds in its metadata) atomically.

        Raises:
            OSError: `folder` cannot be written (nothing is left behind).
        """
        with self.writing(folder) as (path, write):
            write()
        return path

    @contextlib.contextmanager
    def writing(self, folder: str | Path) -> Iterator[tuple[Path, Callable[[], None]]]:
        """Context for writing the index with other files: yields its path and a function that writes it
        to a temporary name; the index replaces the old one only when the whole block succeeds."""
        from safetensors.torch import save_file

        from models.files import atomic_output

        path = Path(folder) / INDEX_FILE
        meta = {k: str(v) for k, v in asdict(self.thresholds).items()}
        meta["note"] = "derived vectors of the training images (random projections); no image is stored"
        with atomic_output(path) as tmp:
            yield path, lambda: save_file({"vectors": self.vectors.half().contiguous()}, str(tmp), metadata=meta)

    @classmethod
    def load(cls, folder: str | Path) -> PrivacyIndex | None:
        """The index in `folder`, or None when it has none.

        Raises:
            ValueError: the file is not a readable index (corrupt, or without ``vectors``).
        """
        from safetensors import SafetensorError, safe_open

        path = Path(folder) / INDEX_FILE
        if not path.is_file():
            return None
        try:
            with safe_open(str(path), "pt") as f:
                meta = f.metadata() or {}
                vecs = f.get_tensor("vectors")
            t = Thresholds(
                max_distance=float(meta.get("max_distance", Thresholds.max_distance)),
                max_ratio=float(meta.get("max_ratio", Thresholds.max_ratio)),
                min_ssim=float(meta.get("min_ssim", Thresholds.min_ssim)),
                source=meta.get("source", "unknown"),
            )
        except (SafetensorError, OSError, ValueError) as e:
            raise ValueError(f"{path} is not a readable privacy index ({e}); rebuild it with "
                             "python -m models.generator.audit --index") from None  # fmt: skip
        if vecs.ndim != 2 or vecs.shape[1] != PROJ_DIM:
            raise ValueError(f"{path} holds vectors of shape {tuple(vecs.shape)}, not (N, {PROJ_DIM})")
        return cls(vecs, t)

    def check(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Which samples are near-copies of a training image (the index rule, at any of the views).

        Each sample is read as given, mirrored and shifted by up to 2 pixels
        (`models.generator.identity.VIEWS`), not re-aligned: no Face Mesh call in the app's path.

        Args:
            images: (B, H, W, 3) uint8 aligned samples (the generator's output, unmarked).

        Returns:
            flagged (B,) bool, nearest distance d1 (B,) float64, ratio d1 / d2 (B,) float64.
        """
        dist, _, _ = nearest(images, self.vectors, 2)
        d1, r = dist[:, 0].double().numpy(), ratio(dist).double().numpy()
        flagged = (d1 <= self.thresholds.max_distance) & (r <= self.thresholds.max_ratio)
        return flagged, d1, r
