"""Draw one synthetic child from the command line, through `models.faces.draw_faces`.

    python -m models.phenotype.draw --syndrome williams_beuren --age 5 --sex female \\
        --skin-tone 4 --seed 7 --size 256 --out face.png --json

writes ``face.png`` (with a visible SYNTHETIC label unless ``--no-mark``, and PNG text metadata
always) and, with ``--json``, ``face.json`` beside it: the resolved spec, the HPO terms applied
and present (with names), the renderer's landmarks in pixels and the morphology measurements.

``--syndrome unaffected --features HP:0000316`` draws the same child with only that feature,
which is how single features are taught and checked.

Every argument is validated, including that the output folder exists and can be written,
before anything is drawn. A bad argument prints one line ``error: ...`` on stderr and exits
with status 2, leaving no file behind.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from models import provenance
from models.checks import OneLineParser, check_png_output, one_line
from models.faces import CLI_ENGINES, Face, FaceRequest, draw_faces, engine_name
from models.files import atomic_output
from models.phenotype import synthesizer
from models.phenotype.catalog import load_catalog
from models.phenotype.engine3d import VIEWS_3D, validate_spec_3d
from models.phenotype.morphology import FEATURES
from models.phenotype.spec import ANCESTRIES, EYE_COLOURS, HAIR_COLOURS, SEXES, VIEWS, FaceSample, RenderSpec

_HPO_ID = re.compile(r"^HP:\d{7}$")


def spec_dict(spec: RenderSpec) -> dict[str, Any]:
    """A spec as a JSON-able dict (tuples become lists)."""
    d = dataclasses.asdict(spec)
    if d["features"] is not None:
        d["features"] = list(d["features"])
    return d


def sample_record(sample: FaceSample, spec: RenderSpec) -> dict[str, Any]:
    """Everything a reader of ``face.json`` needs to know about one render.

    Args:
        sample: the render.
        spec: the validated spec that produced it (used when `sample.spec` is None).

    Returns:
        JSON-able dict: ``spec``; ``hpo_realised`` and ``hpo_present`` as lists of
        ``{"id", "name"}``; ``landmarks`` name -> [x, y] in pixels of the image;
        ``measurements`` dimension -> SD score; and the provenance fields.
    """
    spec = sample.spec or spec

    names = load_catalog().term_names

    def terms(ids: Sequence[str]) -> list[dict[str, str | None]]:
        return [{"id": t, "name": FEATURES[t].name if t in FEATURES else names.get(t)} for t in ids]

    return {
        "synthetic": True,
        "notice": provenance.NOTICE,
        "generator": engine_name(),
        "hpo_release": str(load_catalog().hpo_release),
        "spec": spec_dict(spec),
        "hpo_realised": terms(sample.hpo_realised),
        "hpo_present": terms(sample.hpo_present),
        "landmarks": {k: [round(float(v[0]), 2), round(float(v[1]), 2)] for k, v in sample.landmarks.items()},
        "measurements": {k: round(float(v), 4) for k, v in sample.measurements.items()},
        "image_size": [int(sample.image.shape[1]), int(sample.image.shape[0])],  # width, height in pixels
    }


def parse_features(text: str) -> tuple[str, ...]:
    """``"HP:0000316,HP:0000154"`` -> ``("HP:0000316", "HP:0000154")``; ``""`` -> ``()``.

    Raises:
        ValueError: an item is not of the form ``HP:`` followed by seven digits.
    """
    ids = tuple(t.strip().upper() for t in text.split(",") if t.strip())
    bad = [t for t in ids if not _HPO_ID.match(t)]
    if bad:
        raise ValueError(f"not an HPO id: {bad[0]!r} (expected e.g. HP:0000316)")
    return ids


def write_outputs(face: Face, out: Path, *, mark: bool, write_json: bool) -> None:
    """Write the PNG (and ``.json`` beside it) atomically; either both appear or neither.

    Args:
        face: the drawn face (`models.faces.draw_faces`).
        out: destination PNG path.
        mark: draw the visible SYNTHETIC label (the metadata says synthetic either way).
        write_json: also write ``out.with_suffix(".json")``.
    """
    if not write_json:
        face.save(out, mark=mark)
        return
    record = json.dumps({"file": out.name, **sample_record(face.sample, face.spec)}, indent=2)
    # Both temporaries are complete before either replaces its destination.
    with atomic_output(out) as tmp_png, atomic_output(out.with_suffix(".json")) as tmp_json:
        face.save(tmp_png, mark=mark)
        tmp_json.write_text(record + "\n", encoding="utf-8")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


_finite_float.__name__ = "number"  # argparse names the type in its message: "invalid number value"


def listing(what: str) -> str:
    """The text ``--list`` prints: one line per syndrome or per drawable HPO term.

    Args:
        what: ``"syndromes"`` (key, display name, OMIM and ORPHA ids, from the shipped catalogue) or
            ``"features"`` (HPO id, name, and the Elements of Morphology or HPO source it is drawn from).

    Raises:
        ValueError: `what` is neither.
    """
    if what == "syndromes":
        rows = []
        for s in load_catalog().syndromes:
            ids = [*s.omim, *([s.orpha] if s.orpha else [])]
            rows.append(f"{s.key:<28} {s.name}" + (f"  ({', '.join(ids)})" if ids else ""))
    elif what == "features":
        rows = [f"{f.hpo_id}  {f.name:<40} {f.source}" for f in sorted(FEATURES.values(), key=lambda f: f.name)]
    else:
        raise ValueError(f"--list takes 'syndromes' or 'features', got {what!r}")
    return "\n".join(rows)


class _ListAction(argparse.Action):
    """Print a listing and exit 0, like ``--help``, so ``--out`` is not needed."""

    def __call__(self, parser, namespace, values, option_string=None):
        print(listing(values))
        parser.exit(0)


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (also used by ``--help``)."""
    p = OneLineParser(
        prog="python -m models.phenotype.draw",
        description="Draw one synthetic child with a rare-syndrome facial phenotype (education and research "
        "only; not for diagnosis). Writes a PNG with a visible SYNTHETIC label and provenance metadata.",
    )
    p.add_argument(
        "--list",
        choices=("syndromes", "features"),
        action=_ListAction,
        help="print the syndromes --syndrome accepts (key, name, OMIM, ORPHA) or the HPO terms --features "
        "can draw (id, name, source), then exit",
    )
    p.add_argument(
        "--syndrome",
        default="unaffected",
        help="catalogue key (williams_beuren), display name, OMIM id (OMIM:194050 or 194050) or "
        "'unaffected' (default: %(default)s)",
    )
    p.add_argument("--age", type=_finite_float, default=5.0, help="age in years, 0 to 18 (default: %(default)s)")
    p.add_argument(
        "--sex",
        choices=SEXES,
        default="female",
        help="sex of the child; sets the sex-specific growth norms (default: %(default)s)",
    )
    p.add_argument(
        "--skin-tone",
        type=int,
        default=3,
        help="Monk Skin Tone scale level, 1 (lightest) to 10 (darkest) (default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="identity seed, >= 0; the same arguments and seed give the same image bytes (default: %(default)s)",
    )
    p.add_argument(
        "--features",
        type=str,
        default=None,
        help="comma-separated HPO ids to draw instead of sampling the syndrome's features, e.g. "
        "HP:0000316,HP:0000154; an empty string draws none (default: sample from the syndrome)",
    )
    p.add_argument(
        "--intensity",
        type=_finite_float,
        default=1.0,
        help="feature intensity: 0 = the same child without the syndrome, 1 = typical, up to 1.5 = "
        "marked, for teaching (default: %(default)s)",
    )
    p.add_argument(
        "--view",
        choices=VIEWS_3D,
        default="frontal",
        help="frontal portrait, three-quarter (3D engine only) or profile (default: %(default)s)",
    )
    p.add_argument(
        "--engine",
        choices=tuple(CLI_ENGINES),
        default="2.5d",
        help="2.5d: the shipped engine; 3d: the child on anny's 3D head, with hair and clothing, drawing the "
        "features that have a 3D form (default: %(default)s)",
    )
    p.add_argument(
        "--expression",
        action="store_true",
        help="with --engine 3d: show the expression the literature describes for the syndrome (the wide smile "
        "of Williams-Beuren syndrome, the happy open-mouthed demeanour of Angelman syndrome)",
    )
    p.add_argument(
        "--ancestry",
        choices=ANCESTRIES,
        default=None,
        help="head shape of the 3D engine (MakeHuman's artistic targets, not norms; default: drawn from the seed)",
    )
    p.add_argument(
        "--eye-colour", choices=EYE_COLOURS, default=None, help="iris colour (default: drawn from the seed)"
    )
    p.add_argument(
        "--hair-colour",
        choices=HAIR_COLOURS,
        default=None,
        help="hair (and brow) colour (default: drawn from the seed)",
    )
    p.add_argument(
        "--size", type=int, default=256, help="width and height in pixels, 128 to 512 (default: %(default)s)"
    )
    p.add_argument("--out", type=Path, required=True, help="output PNG path; its folder must exist")
    p.add_argument(
        "--json",
        action="store_true",
        help="also write a .json beside the PNG: spec, HPO terms applied and present (with names), "
        "landmarks in pixels, measurements in SD",
    )
    p.add_argument(
        "--no-mark",
        action="store_true",
        help="leave out the visible SYNTHETIC label (the PNG metadata still says synthetic)",
    )
    return p


def spec_from_args(args: argparse.Namespace) -> RenderSpec:
    """Build and validate the spec from parsed arguments.

    Raises:
        ValueError: with a one-line message (unknown syndrome or HPO id, value out of range).
    """
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    spec = RenderSpec(
        syndrome=args.syndrome.strip(),
        age=args.age,
        sex=args.sex,
        skin_tone=args.skin_tone,
        eye_colour=args.eye_colour,
        hair_colour=args.hair_colour,
        seed=args.seed,
        intensity=args.intensity,
        features=None if args.features is None else parse_features(args.features),
        view=args.view,
        size=args.size,
        ancestry=args.ancestry,
        expression=args.expression,
    )
    if args.engine == "3d":
        return validate_spec_3d(spec)
    if args.view not in VIEWS or args.expression:
        raise ValueError(f"{'--expression' if args.expression else '--view ' + args.view} needs --engine 3d")
    return synthesizer.validate_spec(spec)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 bad arguments, 1 write failure)."""
    args = build_parser().parse_args(argv)
    try:
        spec = spec_from_args(args)
        check_png_output(args.out)
    except ValueError as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2
    generator = CLI_ENGINES[args.engine]
    try:
        (face,) = draw_faces(FaceRequest(spec=spec, pair=False, generator=generator))
    except RuntimeError as e:  # no OpenGL for the 3D engine
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 1
    try:
        write_outputs(face, args.out, mark=not args.no_mark, write_json=args.json)
    except OSError as e:  # e.g. disk full between the check and the write; nothing partial is left
        print(f"error: could not write {args.out}: {one_line(e)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
