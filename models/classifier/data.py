"""Cohort images as classifier data: rows, subject-level split, cached aligned crops, augmentation.

Reads the ``metadata.csv`` format of `models.phenotype.cohort` (also real licensed data sets in
that format). Counterfactual rows (a syndromic child drawn at intensity 0) are left out: they
show no syndrome, so their syndrome label would be noise. The split is by ``subject_id``, so no
child is in both training and validation. Aligned crops are computed once (MediaPipe Face Mesh,
~30 ms an image) and cached in a ``.npz`` keyed by the image files' names, sizes and times.
"""

from __future__ import annotations

import hashlib
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

from models.alignment import CROP_SIZE, preprocess
from models.classifier.config import ClassifierConfig
from models.classifier.model import to_tensor
from models.constants import UNAFFECTED
from models.files import atomic_output
from models.phenotype.cohort import read_metadata

CACHE_VERSION = 1  # bump when preprocessing changes


def load_rows(folder: str | Path, classes: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Metadata rows used for training or evaluation.

    Args:
        folder: cohort folder with ``metadata.csv``.
        classes: keep only rows of these classes (None: all).

    Returns:
        Rows of `read_metadata`, without counterfactual rows (syndromic, intensity 0).
    """
    rows = [
        r
        for r in read_metadata(folder)
        if not (r["syndrome"] != UNAFFECTED and r["intensity"] is not None and r["intensity"] == 0)
    ]
    if classes is not None:
        keep = set(classes)
        rows = [r for r in rows if r["syndrome"] in keep]
    return rows


def class_list(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Class names in order of first appearance in the metadata, ``unaffected`` first when present."""
    seen = list(dict.fromkeys(r["syndrome"] for r in rows))
    return ([UNAFFECTED] if UNAFFECTED in seen else []) + [c for c in seen if c != UNAFFECTED]


def subjects_by_class(rows: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """Class -> the sorted, distinct ``subject_id`` values of its rows (a child with several images counts once)."""
    found: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        found[r["syndrome"]].add(r["subject_id"])
    return {cls: sorted(ids) for cls, ids in found.items()}


def split_by_subject(rows: Sequence[dict[str, Any]], val_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Split row indices into training and validation by subject, stratified by class.

    Within each class, subjects are shuffled with `seed` and ``round(val_fraction * n)`` of them
    (at least one when the class has two or more subjects and `val_fraction` > 0) go to
    validation, with all their images.

    Returns:
        (train indices, validation indices), each sorted.
    """
    by_class = subjects_by_class(rows)
    rng = np.random.default_rng(seed)
    val_subjects: set[str] = set()
    for cls in sorted(by_class):
        subjects = by_class[cls]
        n_val = round(val_fraction * len(subjects))
        if val_fraction > 0 and len(subjects) >= 2:
            n_val = min(max(1, n_val), len(subjects) - 1)
        order = rng.permutation(len(subjects))
        val_subjects.update(subjects[i] for i in order[:n_val])
    train = [i for i, r in enumerate(rows) if r["subject_id"] not in val_subjects]
    val = [i for i, r in enumerate(rows) if r["subject_id"] in val_subjects]
    return train, val


def class_weights(labels: Sequence[int], num_classes: int) -> torch.Tensor:
    """Inverse-frequency class weights, mean 1 over the classes present; (K,) float32 (0 for absent classes)."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=num_classes).astype(np.float64)
    weights = np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0)
    present = counts > 0
    weights[present] /= weights[present].mean()
    return torch.tensor(weights, dtype=torch.float32)


def aligned_crops(
    rows: Sequence[dict[str, Any]], cache_dir: str | Path | None = None, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Aligned crops of every row, from the cache when it is current.

    Args:
        rows: metadata rows (with ``path``).
        cache_dir: folder for the ``.npz`` cache (None: no cache). Unwritable folders are skipped.
        progress: print progress to stderr.

    Returns:
        crops (N, 112, 112, 3) uint8 (zeros where no face was found) and ok (N,) bool.
    """
    key = hashlib.sha256(f"v{CACHE_VERSION}".encode())
    for r in rows:
        stat = Path(r["path"]).stat()
        key.update(f"{r['path']}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    cache = Path(cache_dir) / f"aligned{CROP_SIZE}-{key.hexdigest()[:16]}.npz" if cache_dir else None
    if cache is not None and cache.is_file():
        with np.load(cache) as z:
            return z["crops"], z["ok"]
    crops = np.zeros((len(rows), CROP_SIZE, CROP_SIZE, 3), dtype=np.uint8)
    ok = np.zeros(len(rows), dtype=bool)
    for i, r in enumerate(tqdm(rows, desc="aligning", unit="image", disable=not progress)):
        try:
            crops[i] = preprocess(r["path"])
            ok[i] = True
        except ValueError as e:
            print(f"warning: {r['file']}: {e}; left out", file=sys.stderr)
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            with atomic_output(cache) as tmp, open(tmp, "wb") as f:
                np.savez(f, crops=crops, ok=ok)
        except OSError as e:
            print(f"warning: could not write the crop cache {cache}: {e}", file=sys.stderr)
    return crops, ok


def train_transform(config: ClassifierConfig):
    """Face-appropriate augmentation on (3, S, S) float32 [0, 1] tensors (torchvision v2).

    Horizontal flip (faces are near-symmetric; asymmetric features are rare in the catalogue),
    small rotation (+-8 degrees) and scale (0.92-1.08) and shift (3 %) that keep the alignment
    roughly intact, colour jitter (lighting, camera white balance; hue kept small so skin tone is
    preserved), and 10 % grayscale (old or black-and-white photographs).
    """
    from torchvision.transforms import v2

    return v2.Compose(
        [
            v2.RandomHorizontalFlip(p=0.5),
            v2.RandomAffine(degrees=8, translate=(0.03, 0.03), scale=(0.92, 1.08)),
            v2.ColorJitter(brightness=0.25, contrast=0.25, saturation=0.2, hue=0.02),
            v2.RandomGrayscale(p=0.1),
        ]
    )


class CropDataset(Dataset):
    """Aligned crops and labels; yields ((3, S, S) float32 in [0, 1], label int).

    Normalisation is done by the model (`models.classifier.model.Classifier`), from its config.
    """

    def __init__(self, crops: np.ndarray, labels: Sequence[int], transform=None) -> None:
        """
        Args:
            crops: (N, S, S, 3) uint8 aligned crops.
            labels: N class indices.
            transform: callable on a (3, S, S) float32 tensor, or None.
        """
        self.crops = torch.from_numpy(np.ascontiguousarray(crops))
        self.labels = torch.as_tensor(list(labels), dtype=torch.long)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = to_tensor(self.crops[i : i + 1])[0]  # (3, S, S)
        if self.transform is not None:
            x = self.transform(x).clamp(0.0, 1.0)
        return x, self.labels[i]
