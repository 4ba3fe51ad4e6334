"""Simulate a labelled cohort of synthetic children, and read cohort metadata back.

    python -m models.phenotype.cohort --out out/cohort --per-class 20 --seed 1 --size 256 --counterfactual

draws `--per-class` children for every catalogue syndrome and for ``unaffected``, each with an
age (uniform in ``--ages``, 0-18 years by default), sex, Monk skin tone (1-10), eye and hair
colour and identity seed drawn from ``--seed``, and writes ``images/<subject_id>.png`` plus
``metadata.csv`` with the columns `COLUMNS`. With ``--counterfactual`` each syndromic child is
drawn a second time at intensity 0 (``images/<subject_id>_i0.png``, same ``subject_id``), the
same child without the syndrome, for paired analyses. Unaffected children have no
counterfactual row: at intensity 0 they are the same image.

The cohort is a pure function of its arguments: the same arguments give the same bytes. Each
child's draw depends on the seed, its syndrome and its index within the syndrome only, so
``--syndromes`` picks a sub-cohort without changing the children it keeps (their subject ids,
numbered in output order, can differ).

``--engine 3d`` draws the children with the 3D engine (`models.phenotype.engine3d`), each in an
ancestry drawn per child and recorded in the ``ancestry`` column, and allows ``--view three_quarter``.

`read_metadata` reads ``metadata.csv`` for training scripts; it also reads metadata of real
licensed data sets, whose columns after ``sex`` may be empty.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from models.checks import OneLineParser, check_writable_folder, one_line
from models.constants import UNAFFECTED
from models.faces import CLI_ENGINES, PHENOTYPE, PHENOTYPE_3D, FaceRequest, draw_faces
from models.files import atomic_output
from models.phenotype import synthesizer
from models.phenotype.catalog import load_catalog
from models.phenotype.spec import ANCESTRIES, EYE_COLOURS, HAIR_COLOURS, MAX_AGE, MIN_AGE, SEXES, VIEWS, RenderSpec

#: Columns of metadata.csv, in order.
COLUMNS: tuple[str, ...] = (
    "file",  # image path relative to the cohort folder
    "subject_id",  # sim-<seed>-<n>; shared by a child and its counterfactual
    "syndrome",  # catalogue key or "unaffected"
    "omim",  # semicolon-separated OMIM:<number> ids, empty for unaffected
    "orpha",  # ORPHA:<number>, empty when none
    "age_years",
    "sex",
    "skin_tone",  # Monk Skin Tone scale 1-10
    "intensity",  # 0 = counterfactual without the syndrome, 1 = typical
    "hpo_terms",  # semicolon-separated HPO ids PRESENT on the image (past their 2 SD threshold)
    "ancestry",  # the 3D engine's head shape (MakeHuman's artistic targets); empty for the 2.5D engine
    "view",  # frontal, three_quarter (3D engine) or profile
)
SKIN_TONES = tuple(range(1, 11))


@dataclasses.dataclass(frozen=True)
class Subject:
    """One simulated child, before drawing.

    Attributes:
        subject_id: ``sim-<seed>-<n>``.
        syndrome: catalogue key or ``"unaffected"``.
        age: years, rounded to 0.01 so the CSV value reproduces the image.
        sex: one of `SEXES`.
        skin_tone: Monk scale 1-10.
        eye_colour: one of `EYE_COLOURS`.
        hair_colour: one of `HAIR_COLOURS`.
        seed: identity seed passed to the renderer.
        ancestry: one of `spec.ANCESTRIES` (used by the 3D engine).
        features: HPO ids drawn instead of the syndrome's sampled features (`RenderSpec.features`), or
            None to sample them.
    """

    subject_id: str
    syndrome: str
    age: float
    sex: str
    skin_tone: int
    eye_colour: str
    hair_colour: str
    seed: int
    ancestry: str = "mixed"
    features: tuple[str, ...] | None = None


def cohort_classes(names: Sequence[str] | None = None) -> list[str]:
    """Catalogue keys of the cohort's classes, ``"unaffected"`` first.

    Args:
        names: syndromes to keep (keys, names or OMIM ids), or None for all of the catalogue.

    Raises:
        ValueError: a name is not in the catalogue.
    """
    if names is None:
        return [UNAFFECTED] + [k for k in load_catalog().keys() if k != UNAFFECTED]
    keys: list[str] = []
    for name in names:
        key = synthesizer.validate_spec(RenderSpec(syndrome=name.strip())).syndrome
        if key not in keys:
            keys.append(key)
    return keys


def draw_subjects(
    classes: Sequence[str], per_class: int, seed: int, ages: tuple[float, float] = (MIN_AGE, MAX_AGE)
) -> list[Subject]:
    """Draw `per_class` children per class, deterministically.

    Args:
        classes: catalogue keys (see `cohort_classes`).
        per_class: children per class.
        seed: cohort seed (>= 0).
        ages: (min, max) age in years; ages are uniform in it.

    Returns:
        ``len(classes) * per_class`` subjects, class by class, numbered ``sim-<seed>-0`` upward.
    """
    subjects = []
    for key in classes:
        for i in range(per_class):
            # crc32 rather than hash(): str hashes change between processes.
            rng = np.random.default_rng([seed, zlib.crc32(key.encode()), i])
            subjects.append(
                Subject(
                    subject_id=f"sim-{seed}-{len(subjects)}",
                    syndrome=key,
                    age=round(float(rng.uniform(ages[0], ages[1])), 2),
                    sex=str(rng.choice(SEXES)),
                    skin_tone=int(rng.choice(SKIN_TONES)),
                    eye_colour=str(rng.choice(EYE_COLOURS)),
                    hair_colour=str(rng.choice(HAIR_COLOURS)),
                    seed=int(rng.integers(0, 2**31 - 1)),
                    ancestry=str(rng.choice(ANCESTRIES)),  # drawn last: earlier fields keep their values
                )
            )
    return subjects


def write_cohort(
    out: Path,
    subjects: Sequence[Subject],
    *,
    size: int = 256,
    intensity: float = 1.0,
    view: str = "frontal",
    counterfactual: bool = False,
    mark: bool = True,
    progress: bool = False,
    engine: str = PHENOTYPE,
) -> list[dict[str, str]]:
    """Render the subjects into ``out/images`` and write ``out/metadata.csv`` last, atomically.

    Writing into a folder that holds an earlier cohort replaces it: images listed in the old
    ``metadata.csv`` that the new one does not list are deleted once the new metadata is in place,
    so no stale image is left looking like part of the cohort. Files the old metadata did not list
    are never touched.

    Args:
        out: cohort folder (created if missing).
        subjects: from `draw_subjects`.
        size: image width and height in pixels.
        intensity: feature intensity of the syndromic children.
        view: ``"frontal"`` or ``"profile"``.
        counterfactual: also draw each syndromic child at intensity 0.
        mark: draw the visible SYNTHETIC label (PNG metadata is written either way).
        progress: print progress to stderr.
        engine: ``"phenotype"`` (2.5D) or ``"phenotype_3d"`` (`models.faces` generators).

    Returns:
        The metadata rows, as written.
    """
    (out / "images").mkdir(parents=True, exist_ok=True)
    previous = _listed_files(out / "metadata.csv")
    catalog = load_catalog()
    rows: list[dict[str, str]] = []
    for subject in tqdm(subjects, desc="children", unit="child", disable=not progress):
        variants = [("", intensity)]
        if counterfactual and subject.syndrome != UNAFFECTED:
            variants.append(("_i0", 0.0))
        for suffix, level in variants:
            spec = RenderSpec(
                syndrome=subject.syndrome,
                age=subject.age,
                sex=subject.sex,
                skin_tone=subject.skin_tone,
                eye_colour=subject.eye_colour,
                hair_colour=subject.hair_colour,
                seed=subject.seed,
                intensity=level,
                view=view,
                size=size,
                ancestry=subject.ancestry if engine == PHENOTYPE_3D else None,
                features=subject.features,
            )
            (face,) = draw_faces(FaceRequest(spec=spec, pair=False, generator=engine))
            rel = f"images/{subject.subject_id}{suffix}.png"
            face.save(out / rel, mark=mark, subject_id=subject.subject_id)
            omim, orpha = _syndrome_ids(catalog, subject.syndrome)
            rows.append(
                {
                    "file": rel,
                    "subject_id": subject.subject_id,
                    "syndrome": subject.syndrome,
                    "omim": omim,
                    "orpha": orpha,
                    "age_years": f"{subject.age:.2f}",
                    "sex": subject.sex,
                    "skin_tone": str(subject.skin_tone),
                    "intensity": f"{level:g}",
                    "hpo_terms": ";".join(face.hpo_present),
                    "ancestry": subject.ancestry if engine == PHENOTYPE_3D else "",
                    "view": view,
                }
            )
    with atomic_output(out / "metadata.csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    for rel in previous - {row["file"] for row in rows}:
        (out / rel).unlink(missing_ok=True)
    return rows


def _listed_files(csv_path: Path) -> set[str]:
    """Relative image paths an existing metadata.csv lists under images/ (empty if none or unreadable)."""
    try:
        with open(csv_path, newline="", encoding="utf-8") as f:
            files = {row.get("file") or "" for row in csv.DictReader(f)}
    except (OSError, UnicodeDecodeError, csv.Error):
        return set()
    # Only plain names inside images/: a hand-edited CSV must not make us delete anything else.
    return {f for f in files if f.startswith("images/") and "/" not in f[7:] and ".." not in f}


def read_metadata(folder: str | Path) -> list[dict[str, Any]]:
    """Read a cohort's ``metadata.csv`` into typed rows.

    Args:
        folder: the cohort folder (or the CSV file itself).

    Returns:
        One dict per image with the `COLUMNS` keys plus ``path`` (the image's absolute `Path`).
        ``age_years`` float, ``skin_tone`` int, ``intensity`` float, ``hpo_terms`` list of HPO
        ids; ``omim`` a list of ids. Empty cells (as in real data without these labels) become
        None, and an empty ``hpo_terms`` or ``omim`` an empty list.

    Raises:
        ValueError: the file lacks one of the columns ``file``, ``subject_id``, ``syndrome``.
    """
    path = Path(folder)
    csv_path = path if path.suffix.lower() == ".csv" else path / "metadata.csv"
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"file", "subject_id", "syndrome"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{csv_path} lacks column(s) {', '.join(sorted(missing))}")
        raw_rows = list(reader)

    def opt(value: str | None, cast: Any) -> Any:
        return cast(value) if value not in (None, "") else None

    rows = []
    for r in raw_rows:
        rows.append(
            {
                "file": r["file"],
                "path": (csv_path.parent / r["file"]).resolve(),
                "subject_id": r["subject_id"],
                "syndrome": r["syndrome"],
                "omim": [t for t in (r.get("omim") or "").split(";") if t],
                "orpha": opt(r.get("orpha"), str),
                "age_years": opt(r.get("age_years"), float),
                "sex": opt(r.get("sex"), str),
                "skin_tone": opt(r.get("skin_tone"), int),
                "intensity": opt(r.get("intensity"), float),
                "hpo_terms": [t for t in (r.get("hpo_terms") or "").split(";") if t],
                "ancestry": opt(r.get("ancestry"), str),
                "view": opt(r.get("view"), str),
            }
        )
    return rows


def _syndrome_ids(catalog: Any, key: str) -> tuple[str, str]:
    """``("OMIM:194050;OMIM:...", "ORPHA:904")`` for a catalogue key; empty strings for unaffected."""
    if key == UNAFFECTED:
        return "", ""
    syndrome = catalog.get(key)
    omim = ";".join(_prefixed(x, "OMIM") for x in (syndrome.omim or ()))
    orpha = _prefixed(syndrome.orpha, "ORPHA") if syndrome.orpha else ""
    return omim, orpha


def _prefixed(value: Any, prefix: str) -> str:
    text = str(value)
    return text if ":" in text else f"{prefix}:{text}"


def _age_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in text.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN-MAX in years, e.g. 2-12, got {text!r}") from None
    if not MIN_AGE <= lo <= hi <= MAX_AGE:
        raise argparse.ArgumentTypeError(f"ages must satisfy {MIN_AGE:g} <= MIN <= MAX <= {MAX_AGE:g}, got {text!r}")
    return lo, hi


_age_range.__name__ = "age range"


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (also used by ``--help``)."""
    p = OneLineParser(
        prog="python -m models.phenotype.cohort",
        description="Simulate a labelled cohort of synthetic children (every catalogue syndrome and unaffected) "
        "for research and training; writes images/ and metadata.csv. Not for diagnosis.",
    )
    p.add_argument("--out", type=Path, required=True, help="cohort folder; created if missing")
    p.add_argument("--per-class", type=int, required=True, help="children per syndrome (and for unaffected)")
    p.add_argument("--seed", type=int, default=0, help="cohort seed, >= 0; same arguments, same bytes (default: 0)")
    p.add_argument("--size", type=int, default=256, help="image width and height in pixels, 128 to 512 (default: 256)")
    p.add_argument(
        "--counterfactual",
        action="store_true",
        help="also draw each syndromic child at intensity 0 (same subject_id, no HPO terms)",
    )
    p.add_argument(
        "--syndromes",
        type=str,
        default=None,
        help="comma-separated syndromes to include (keys, names or OMIM ids; 'unaffected' to include "
        "unaffected children) (default: the whole catalogue plus unaffected)",
    )
    p.add_argument(
        "--ages",
        type=_age_range,
        default=(MIN_AGE, MAX_AGE),
        help="age range MIN-MAX in years; ages are uniform in it (default: 0-18)",
    )
    p.add_argument(
        "--intensity", type=float, default=1.0, help="feature intensity of syndromic children, 0 to 1.5 (default: 1.0)"
    )
    p.add_argument(
        "--view",
        choices=(*VIEWS, "three_quarter"),
        default="frontal",
        help="frontal portrait, three_quarter (3D engine) or profile (default: frontal)",
    )
    p.add_argument(
        "--engine",
        choices=tuple(CLI_ENGINES),
        default="2.5d",
        help="2.5d: the shipped engine; 3d: the child on anny's 3D head, with hair and clothing, in one of four "
        "ancestries drawn per child (default: %(default)s)",
    )
    p.add_argument(
        "--no-mark",
        action="store_true",
        help="leave out the visible SYNTHETIC label, e.g. for training images (the PNG metadata still says synthetic)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad arguments)."""
    args = build_parser().parse_args(argv)
    try:
        if args.per_class < 1:
            raise ValueError(f"--per-class must be >= 1, got {args.per_class}")
        if args.seed < 0:
            raise ValueError(f"--seed must be >= 0, got {args.seed}")
        names = None if args.syndromes is None else [s for s in args.syndromes.split(",") if s.strip()]
        classes = cohort_classes(names)
        # One spec through the renderer's own checks catches a bad size or intensity before any drawing.
        synthesizer.validate_spec(RenderSpec(syndrome=classes[0], size=args.size, intensity=args.intensity))
        if args.view == "three_quarter" and args.engine != "3d":
            raise ValueError("--view three_quarter needs --engine 3d")
        if args.out.exists() and not args.out.is_dir():
            raise ValueError(f"--out is a file, not a folder: {args.out}")
        args.out.mkdir(parents=True, exist_ok=True)
        check_writable_folder(args.out)
    except (ValueError, OSError) as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2
    subjects = draw_subjects(classes, args.per_class, args.seed, args.ages)
    rows = write_cohort(
        args.out,
        subjects,
        size=args.size,
        intensity=args.intensity,
        view=args.view,
        counterfactual=args.counterfactual,
        mark=not args.no_mark,
        progress=not args.quiet,
        engine=CLI_ENGINES[args.engine],
    )
    print(f"wrote {len(rows)} images of {len(subjects)} children in {len(classes)} classes to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
