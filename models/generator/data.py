"""Training images for the generator: aligned face crops at the generator's resolution.

Images go through the classifier's preprocessing (`models.alignment`: MediaPipe Face
Mesh, similarity alignment on eyes and mouth to the 112 x 112 ArcFace template, cached), then
are resized to the generator's resolution with a Lanczos filter. So the generator learns
aligned faces, and its samples feed the classifier with no second alignment step.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from models.classifier.data import aligned_crops, load_rows, subjects_by_class
from models.generator.pipeline import condition_dim, condition_vector


def resize_crops(crops: np.ndarray, resolution: int) -> np.ndarray:
    """Resize (N, S, S, 3) uint8 crops to (N, resolution, resolution, 3) uint8 (Lanczos)."""
    if crops.shape[1] == resolution:
        return crops.copy()
    out = np.empty((len(crops), resolution, resolution, 3), dtype=np.uint8)
    for i, c in enumerate(crops):
        out[i] = np.asarray(Image.fromarray(c).resize((resolution, resolution), Image.Resampling.LANCZOS))
    return out


def limit_per_class(rows: Sequence[dict[str, Any]], per_class: int | None, seed: int) -> list[int]:
    """Indices of rows keeping at most `per_class` children (all their images) per syndrome.

    Children are chosen by a seeded shuffle of the sorted subject ids, so the same seed keeps
    the same children. None keeps every row.
    """
    if per_class is None:
        return list(range(len(rows)))
    subjects = subjects_by_class(rows)
    rng = np.random.default_rng(seed)
    keep: set[str] = set()
    for cls in sorted(subjects):
        ids = sorted(subjects[cls])
        keep.update(ids[i] for i in rng.permutation(len(ids))[:per_class])
    return [i for i, r in enumerate(rows) if r["subject_id"] in keep]


def load_training_set(
    folder: str | Path,
    resolution: int,
    per_class: int | None = None,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Aligned crops and rows of a metadata.csv folder, faces that were found only.

    Args:
        folder: folder with ``metadata.csv`` (the `models.phenotype.cohort` format).
        resolution: output width and height in pixels.
        per_class: keep at most this many children per syndrome (None: all).
        seed: seed of the per-class choice.
        cache_dir: aligned-crop cache (default: ``<folder>/.cache``).
        progress: print progress to stderr.

    Returns:
        images (N, resolution, resolution, 3) uint8 RGB and the N metadata rows.

    Raises:
        ValueError: no image with a face.
    """
    rows = load_rows(folder)
    rows = [rows[i] for i in limit_per_class(rows, per_class, seed)]
    crops, ok = aligned_crops(rows, Path(folder) / ".cache" if cache_dir is None else cache_dir, progress)
    rows = [r for r, good in zip(rows, ok, strict=True) if good]
    if not rows:
        raise ValueError(f"no face was found in any image of {folder}")
    return resize_crops(crops[ok], resolution), rows


def conditions(
    rows: Sequence[dict[str, Any]], classes: Sequence[str], hpo_vocabulary: Sequence[str] = ()
) -> tuple[torch.Tensor, list[int]]:
    """Condition vectors of the rows that have age, sex and skin tone, and their indices.

    Args:
        rows: metadata rows (`load_training_set`); ``hpo_terms`` is used when `hpo_vocabulary` is given.
        classes: the generator's classes, in condition order.
        hpo_vocabulary: the generator's HPO ids (see `PhenoFacePipeline`); a row's terms outside it are
            left out, since the generator has no slot for them.

    Returns:
        (N', D) float32 condition vectors (`condition_vector`) and the N' row indices kept.
    """
    keep = [
        i
        for i, r in enumerate(rows)
        if r["age_years"] is not None and r["sex"] in ("female", "male") and r["skin_tone"] is not None
    ]
    if not keep:
        return torch.zeros(0, condition_dim(len(classes), len(hpo_vocabulary))), []
    sub = [rows[i] for i in keep]
    known = set(hpo_vocabulary)
    cond = condition_vector(
        classes,
        [r["syndrome"] for r in sub],
        [min(18.0, max(0.0, float(r["age_years"]))) for r in sub],
        [r["sex"] for r in sub],
        [int(r["skin_tone"]) for r in sub],
        hpo_vocabulary=hpo_vocabulary,
        hpo_terms=[[t for t in r.get("hpo_terms") or [] if t in known] for r in sub] if hpo_vocabulary else None,
    )
    return cond, keep


def hpo_vocabulary(rows: Sequence[dict[str, Any]]) -> list[str]:
    """The sorted HPO ids that any of `rows` shows (metadata.csv's ``hpo_terms``): one condition slot each."""
    return sorted({t for r in rows for t in r.get("hpo_terms") or []})
