"""Contact sheets of every catalogue syndrome, for reviewing the renderer by eye.

    python -m benchmarks.contact_sheet --out assets/contact_sheets

Writes three PNG sheets (each kept under 3 MB, see `benchmarks.common.save_sheet`):

* ``frontal.png``: one row per syndrome (``unaffected`` first), one column per age and skin
  tone pair (ages 1, 5, 10, 16 years by default, each at Monk tones 2, 5 and 8), frontal view.
* ``profile.png``: the same grid in profile.
* ``pairs.png``: one row per syndrome, each child at intensity 0 (the same child without the
  syndrome) beside intensity 1, for a few ages and tones: what the syndrome changes.

Within a row, the child's identity seed and sex are fixed, so columns differ only in age and
tone; the row label gives the syndrome's display name. ``--engine phenotype_3d`` draws the 3D engine's
children into ``frontal_3d.png``, ``three_quarter_3d.png``, ``profile_3d.png`` and ``pairs_3d.png``,
each row in one of three ancestries (African, Asian, European in turn, named in the row label).
Thumbnails are rendered directly at `--thumb` pixels (no resampling) and carry no SYNTHETIC label:
the sheet as a whole is labelled.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.common import bounded, grid, run_benchmark, save_sheet
from models.constants import UNAFFECTED
from models.faces import PHENOTYPE, PHENOTYPE_3D, draw_face, features_drawn, validated
from models.phenotype.catalog import load_catalog
from models.phenotype.spec import RenderSpec
from models.phenotype.synthesizer import child_of


def _floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


ROW_ANCESTRIES = ("african", "asian", "european")


def _ancestry(engine: str, row: int) -> str | None:
    return ROW_ANCESTRIES[row % 3] if engine == PHENOTYPE_3D else None


def _label(name: str, row: int, engine: str) -> str:
    ancestry = _ancestry(engine, row)
    return f"{name} ({('F', 'M')[row % 2]}{', ' + ancestry if ancestry else ''})"


def sheet_for_view(
    keys: Sequence[str],
    view: str,
    ages: Sequence[float],
    tones: Sequence[int],
    thumb: int,
    seed: int,
    engine: str = PHENOTYPE,
) -> np.ndarray:
    """Syndromes (rows) x (age, tone) columns in one view; (H, W, 3) uint8."""
    catalog = load_catalog()
    tiles, captions = [], []
    for r, key in enumerate(keys):
        for age in ages:
            for tone in tones:
                spec = RenderSpec(
                    syndrome=key,
                    age=age,
                    sex=("female", "male")[r % 2],
                    skin_tone=tone,
                    seed=seed + r,
                    view=view,
                    size=thumb,
                    ancestry=_ancestry(engine, r),
                )
                tiles.append(draw_face(spec, engine).unmarked)
                captions.append(f"{age:g} y, tone {tone}")
    labels = [_label(catalog.get(k).name, r, engine) for r, k in enumerate(keys)]
    return grid(
        tiles,
        captions,
        cols=len(ages) * len(tones),
        row_labels=labels,
        title=f"PhenoFace {view} renders - synthetic, for education and research only, not for diagnosis",
    )


def pair_child(key: str, r: int, age: float, tone: int, thumb: int, seed: int, engine: str = PHENOTYPE) -> RenderSpec:
    """Row `r`'s child of the pairs sheet, at its first age and tone: the first of seeds ``seed + r``,
    ``seed + r + 1000``, ... (ten tries) who shows at least one of the syndrome's features there. Features are
    drawn at their HPO frequencies, and a row whose child showed none (Prader-Willi syndrome at the default
    seed) showed nothing to review."""
    spec = RenderSpec(syndrome=key, age=age, sex=("female", "male")[r % 2], skin_tone=tone, seed=seed + r,
                      size=thumb, ancestry=_ancestry(engine, r))  # fmt: skip
    drawn = features_drawn(engine)
    for _ in range(9):  # the child's features are sampled before anything is drawn: no render needed to ask
        present = child_of(validated(spec, engine)).present
        if key == UNAFFECTED or any(drawn is None or f in drawn for f in present):
            break
        spec = replace(spec, seed=spec.seed + 1000)
    return spec


def pairs_sheet(
    keys: Sequence[str], ages: Sequence[float], tones: Sequence[int], thumb: int, seed: int, engine: str = PHENOTYPE
) -> np.ndarray:
    """Per syndrome row: (intensity 0, intensity 1) pairs of the same child (`pair_child`) at several ages and
    tones."""
    catalog = load_catalog()
    tiles, captions = [], []
    columns = list(zip(ages, tones * len(ages), strict=False))  # one tone per age keeps the sheet narrow
    for r, key in enumerate(keys):
        first = pair_child(key, r, columns[0][0], columns[0][1], thumb, seed, engine)
        for age, tone in columns:
            spec = replace(first, age=age, skin_tone=tone)
            sample = draw_face(spec, engine).sample
            tiles += [draw_face(replace(spec, intensity=0.0), engine).unmarked, sample.image]
            captions += [f"{age:g} y unaffected", f"{len(sample.hpo_present)} HPO present"]
    labels = [_label(catalog.get(k).name, r, engine) for r, k in enumerate(keys)]
    return grid(
        tiles,
        captions,
        cols=2 * len(columns),
        row_labels=labels,
        title="Same child without (left) and with (right) the syndrome - synthetic, not for diagnosis",
    )


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.contact_sheet", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--out",
        type=Path,
        default=Path("assets/contact_sheets"),
        help="output folder (default: assets/contact_sheets)",
    )
    p.add_argument(
        "--ages", type=_floats, default=[1, 5, 10, 16], help="comma-separated ages in years (default: 1,5,10,16)"
    )
    p.add_argument(
        "--tones",
        type=lambda t: [int(x) for x in t.split(",")],
        default=[2, 5, 8],
        help="comma-separated Monk skin tones (default: 2,5,8)",
    )
    p.add_argument(
        "--thumb", type=bounded(int, 1), default=128, help="thumbnail size in pixels, 128-160 (default: 128)"
    )
    p.add_argument(
        "--seed",
        type=bounded(int, 0),
        default=0,
        help="identity seed of the first row; row r uses seed + r (default: 0)",
    )
    p.add_argument(
        "--syndromes",
        type=str,
        default=None,
        help="comma-separated catalogue keys (default: every syndrome, unaffected first)",
    )
    p.add_argument(
        "--views",
        type=str,
        default=None,
        help="which view sheets to draw (default: frontal,profile; with the 3D engine also three_quarter)",
    )
    p.add_argument(
        "--engine",
        choices=(PHENOTYPE, PHENOTYPE_3D),
        default=PHENOTYPE,
        help="the phenotype engine to draw with (default: %(default)s)",
    )
    p.add_argument("--max-mb", type=bounded(float, 0.1), default=3.0, help="size limit per sheet in MB (default: 3)")
    args = p.parse_args(argv)

    keys = list(load_catalog().keys()) if args.syndromes is None else args.syndromes.split(",")
    args.out.mkdir(parents=True, exist_ok=True)
    limit = int(args.max_mb * 1e6)
    t0 = time.perf_counter()
    three_d = args.engine == PHENOTYPE_3D
    views = args.views or ("frontal,three_quarter,profile" if three_d else "frontal,profile")
    suffix = "_3d" if three_d else ""
    for view in views.split(","):
        path = args.out / f"{view}{suffix}.png"
        sheet = sheet_for_view(keys, view, args.ages, args.tones, args.thumb, args.seed, args.engine)
        size = save_sheet(sheet, path, limit)
        print(f"{path}: {size / 1e6:.2f} MB")
    path = args.out / f"pairs{suffix}.png"
    size = save_sheet(pairs_sheet(keys, args.ages, args.tones, args.thumb, args.seed, args.engine), path, limit)
    print(f"{path}: {size / 1e6:.2f} MB ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
