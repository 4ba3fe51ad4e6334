"""The experiment's data: simulated or licensed "real" splits, subsets, and aligned crops.

Used by `models.experiments.synthetic_vs_real`; the split sizes come from its `Preset`.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from models.constants import UNAFFECTED
from models.experiments.presets import FEATURE_PRIOR, Preset


def crops(folder: Path, resolution: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Aligned crops (N, R, R, 3) uint8 at `resolution` px and the metadata rows of a cohort folder."""
    from models.generator.data import load_training_set

    return load_training_set(folder, resolution)


def simulate_splits(preset: Preset, out: Path) -> dict[str, Path]:
    """Write the simulated cohorts once, with the preset's phenotype engine: train, val, test, unaffected
    children for the face prior (``pretrain``) and, when the preset runs the feature prior, children with
    features but no syndrome (``pretrain_features``, `feature_subjects`).

    New identities in every split: each cohort has its own seed. Returns split name -> folder.
    """
    from models.phenotype.cohort import cohort_classes, draw_subjects, write_cohort

    classes = cohort_classes(list(preset.classes) if preset.classes else None)
    plan = {
        "train": lambda: draw_subjects(classes, preset.real_train_per_class, 101),
        "val": lambda: draw_subjects(classes, preset.val_per_class, 102),
        "test": lambda: draw_subjects(classes, preset.test_per_class, 103),
        "pretrain": lambda: draw_subjects([UNAFFECTED], preset.pretrain_images, 104),
    }
    if FEATURE_PRIOR in preset.priors:
        plan["pretrain_features"] = lambda: feature_subjects(preset.pretrain_images, 105, preset.engine)
    folders = {}
    for split, subjects in plan.items():
        folder = out / "data" / split
        if not (folder / "metadata.csv").is_file():  # written last, so its presence means done
            write_cohort(folder, subjects(), size=preset.render_size, mark=False, engine=preset.engine)
        folders[split] = folder
    return folders


def feature_prevalence(engine: str) -> dict[str, float]:
    """How common each feature the engine draws is among children with a syndrome of the catalogue.

    A term's prevalence is the mean, over the catalogue's syndromes in equal numbers, of the
    probability with which the phenotype engine gives a child of that syndrome the term
    (`models.phenotype.catalog.Term.sampling_frequency`, from the HPO annotations; 0 where the
    syndrome does not list it). Drawing each term independently at this prevalence gives children
    with as many features as children with these syndromes have, but none of the combinations that
    make a syndrome.

    Args:
        engine: `models.faces.PHENOTYPE` or `PHENOTYPE_3D` (only the features it draws).

    Returns:
        HPO id -> prevalence in [0, 1], sorted by id.
    """
    from models.faces import features_drawn
    from models.phenotype.catalog import load_catalog
    from models.phenotype.morphology import FEATURES

    catalog = load_catalog()
    drawable = features_drawn(engine)
    syndromes = [catalog.get(k) for k in catalog.keys() if k != UNAFFECTED]
    totals: dict[str, float] = {}
    for syndrome in syndromes:
        mine: dict[str, float] = {}
        for term in syndrome.terms:
            if term.depicted and term.renders_as in FEATURES and (drawable is None or term.renders_as in drawable):
                mine[term.renders_as] = max(mine.get(term.renders_as, 0.0), term.sampling_frequency)
        for hpo, p in mine.items():
            totals[hpo] = totals.get(hpo, 0.0) + p
    return {hpo: totals[hpo] / len(syndromes) for hpo in sorted(totals)}


def feature_subjects(n: int, seed: int, engine: str) -> list:
    """``n`` children without a syndrome, each with the features drawn independently at their prevalence.

    The feature prior's training children (`FEATURE_PRIOR`): every term of `feature_prevalence` is
    given to a child with that probability, whatever else the child has, so the prior sees each
    feature often, alone and in random company, and never a syndrome.

    Returns:
        `models.phenotype.cohort.Subject` list labelled ``unaffected`` with ``features`` set.
    """
    import dataclasses

    from models.phenotype.cohort import draw_subjects
    from models.phenotype.morphology import FEATURES

    prevalence = feature_prevalence(engine)
    terms, p = list(prevalence), np.array(list(prevalence.values()))
    rng = np.random.default_rng([seed, 17])
    subjects = []
    for subject in draw_subjects([UNAFFECTED], n, seed):
        drawn = [terms[i] for i in rng.permutation(len(terms)) if rng.random() < p[i]]
        # two ends of one measurement (long and short philtrum) cannot meet in a child: the first drawn stays
        kept: dict[str, str] = {}
        for t in drawn:
            kept.setdefault(FEATURES[t].dimension, t)
        subjects.append(dataclasses.replace(subject, features=tuple(sorted(kept.values()))))
    return subjects


def split_real(folder: Path, preset: Preset, out: Path, seed: int = 0) -> dict[str, list[int]]:
    """Split a real metadata.csv folder by subject_id: per class, train first, then val, test the rest.

    Each class keeps at least one child for test; classes with fewer than 3 children are left
    out (they cannot fill three splits). The split is saved to ``out/real_split.json``.

    Returns:
        split name -> row indices into `models.classifier.data.load_rows(folder)`.
    """

    from models.classifier.data import load_rows, subjects_by_class

    path = out / "real_split.json"
    if path.is_file():
        return json.loads(path.read_text())
    rows = load_rows(folder)
    by_class = subjects_by_class(rows)
    rng = np.random.default_rng(seed)
    part: dict[str, str] = {}
    for cls in sorted(by_class):
        ids = sorted(by_class[cls])
        if len(ids) < 3:
            print(f"warning: {cls} has {len(ids)} children; left out (needs 3)", file=sys.stderr)
            continue
        ids = [ids[i] for i in rng.permutation(len(ids))]
        n_train = min(preset.real_train_per_class, len(ids) - 2)
        n_val = min(preset.val_per_class, len(ids) - n_train - 1)
        for i, sid in enumerate(ids):
            part[sid] = "train" if i < n_train else "val" if i < n_train + n_val else "test"
    split = {s: [i for i, r in enumerate(rows) if part.get(r["subject_id"]) == s] for s in ("train", "val", "test")}
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(split))
    return split


def write_subset(folder: Path, rows: list[dict[str, Any]], dest: Path) -> Path:
    """Write a metadata.csv in `dest` that points at `rows`' images in `folder` (no image is copied)."""
    from models.files import atomic_output
    from models.phenotype.cohort import COLUMNS

    dest.mkdir(parents=True, exist_ok=True)
    if not (dest / "metadata.csv").is_file():
        with atomic_output(dest / "metadata.csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
            w.writeheader()
            for r in rows:
                raw = {k: ("" if r.get(k) is None else r.get(k)) for k in COLUMNS}
                raw["file"] = str((folder / r["file"]).resolve())
                if isinstance(r.get("hpo_terms"), (list, tuple)):
                    raw["hpo_terms"] = ";".join(r["hpo_terms"])
                w.writerow(raw)
    return dest


def synthetic_subset(
    images: np.ndarray, labels: np.ndarray, per_class: int, n_max: int
) -> tuple[np.ndarray, np.ndarray]:
    """The first `per_class` samples of every class from a set stored class by class, `n_max` per class."""
    keep = np.concatenate([np.where(labels == c)[0][:per_class] for c in np.unique(labels)])
    return images[keep], labels[keep]
