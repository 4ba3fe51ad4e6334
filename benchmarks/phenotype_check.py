"""Independent check that a rendered feature moves the face the way its HPO definition says.

    python -m benchmarks.phenotype_check --pairs 200 --seed 0

The renderer reports its own landmarks, so trusting them would only check the renderer against
itself. Here MediaPipe Face Mesh (``static_image_mode=True``, ``refine_landmarks=True``: 468 mesh
points plus 10 iris points) measures the *image*. For each feature, `--pairs` unaffected children
(random age, sex, skin tone and identity, the same children for every feature) are drawn twice at
intensity 1, with ``features=()`` and with ``features=(hpo_id,)``; an index is computed on both
and we count the pairs where it moves the defined way. Target: >= 95 % per feature.

Landmark indices follow the canonical Face Mesh topology (MediaPipe ``face_mesh_connections``:
468/473 are the iris centres, since FACEMESH_RIGHT_IRIS is 469-472 and FACEMESH_LEFT_IRIS is
474-477; 33/133 are the outer/inner corners in FACEMESH_RIGHT_EYE and 263/362 in
FACEMESH_LEFT_EYE; 61/291 the mouth corners in FACEMESH_LIPS; 0 labiale superius and 2 subnasale
on the midline; 10 and 152 the top and bottom of FACEMESH_FACE_OVAL, 234/454 its widest points).
"Right" is the subject's right, on the image's left. For the alar width we use 64/294, the most
lateral points of the alae in FACEMESH_NOSE. Checked on 12 renders at 256 px against the
renderer's own alare (mean width 22.6 px): 64/294 give 23.4 px within 1 px of their height;
129/358 give 25.6 px and sit 1.4 px higher, on the alar-facial groove rather than the ala
(``--show-landmarks`` draws both pairs).

Indices (all ratios are unitless; the angle is in degrees):
    Hypertelorism HP:0000316 (+), Hypotelorism HP:0000601 (-): inter-pupillary distance / face width.
    Wide mouth HP:0000154 (+), Narrow mouth HP:0000160 (-): cheilion distance / face width.
    Long philtrum HP:0000343 (+), Short philtrum HP:0000322 (-): subnasale-labiale superius / face height.
    Upslanted HP:0000582 (+), Downslanted HP:0000494 (-) palpebral fissures: canthal axis angle
        (inner to outer canthus, mean of both eyes, positive = outer canthus higher).
    Wide nose HP:0000445 (+): alar width / face width.
    Long face HP:0000276 (+): nasion (168, the top of the nasal bridge between the eyes) to menton (152)
        / face width.
    Short nose HP:0003196 (-): nasion (168) to subnasale (2) / nasion to menton.
    Thin upper lip vermilion HP:0000219 (-): labiale superius (0) to the upper lip's inner margin at the
        midline (13) / nasion to menton.
    Telecanthus HP:0000506 (+): inner canthal distance (133 to 362) / inter-pupillary distance (the iris
        centres), so that it measures the inner canthi's displacement, not the eyes' spacing.
    Long HP:0000637 (+), Short HP:0012745 (-) palpebral fissure: endocanthion to exocanthion (133-33,
        362-263) / face width.
    Narrow palpebral fissure HP:0045025 (-): upper to lower lid margin over the pupil (159-145, 386-374)
        / fissure length.

``--engine phenotype_3d`` checks the 3D engine (`models.phenotype.engine3d`) the same way.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from benchmarks.common import bounded, json_flag, random_specs, run_benchmark, write_result
from models.faces import PHENOTYPE, PHENOTYPE_3D, draw_face
from models.phenotype.morphology import FEATURES

IRIS_R, IRIS_L = 468, 473  # iris centres (refine_landmarks=True)
FACE_R, FACE_L = 234, 454  # widest points of the face oval, near the tragi
FACE_TOP, FACE_BOTTOM = 10, 152  # top of the forehead (not the hairline) and menton
CHEILION_R, CHEILION_L = 61, 291
SUBNASALE, LABIALE_SUPERIUS = 2, 0
EN_R, EX_R, EN_L, EX_L = 133, 33, 362, 263  # endocanthion / exocanthion
ALARE = (64, 294)  # most lateral alar points (FACEMESH_NOSE); 129/358 lie on the alar-facial groove
NASION, STOMION_UPPER = 168, 13
LID_R, LID_L = (159, 145), (386, 374)  # upper and lower lid margins over each pupil
TARGET = 0.95


def _dist(lm: np.ndarray, a: int, b: int) -> float:
    return float(np.linalg.norm(lm[a] - lm[b]))


def face_width(lm: np.ndarray) -> float:
    return _dist(lm, FACE_R, FACE_L)


def ipd_index(lm: np.ndarray) -> float:
    """Inter-pupillary distance / face width."""
    return _dist(lm, IRIS_R, IRIS_L) / face_width(lm)


def intercanthal_index(lm: np.ndarray) -> float:
    """Inner canthal distance / inter-pupillary distance: telecanthus widens the first, not the second."""
    return _dist(lm, EN_R, EN_L) / _dist(lm, IRIS_R, IRIS_L)


def mouth_index(lm: np.ndarray) -> float:
    """Cheilion-cheilion distance / face width."""
    return _dist(lm, CHEILION_R, CHEILION_L) / face_width(lm)


def philtrum_index(lm: np.ndarray) -> float:
    """Subnasale-labiale superius distance / face height (landmark 10 to 152)."""
    return _dist(lm, SUBNASALE, LABIALE_SUPERIUS) / _dist(lm, FACE_TOP, FACE_BOTTOM)


def canthal_angle(lm: np.ndarray) -> float:
    """Mean canthal axis angle of both eyes in degrees; positive when the outer canthus is higher.

    Image y grows downwards, so "higher" is a smaller y.
    """
    angles = []
    for inner, outer in ((EN_R, EX_R), (EN_L, EX_L)):
        dx = abs(lm[outer, 0] - lm[inner, 0])
        dy = lm[inner, 1] - lm[outer, 1]
        angles.append(math.degrees(math.atan2(dy, dx)))
    return float(np.mean(angles))


def fissure_length_index(lm: np.ndarray) -> float:
    """Mean palpebral fissure length (endocanthion to exocanthion) / face width."""
    return (_dist(lm, EN_R, EX_R) + _dist(lm, EN_L, EX_L)) / 2 / face_width(lm)


def fissure_height_index(lm: np.ndarray) -> float:
    """Mean palpebral fissure height (upper to lower lid margin over the pupil) / fissure length."""
    return (_dist(lm, *LID_R) + _dist(lm, *LID_L)) / (_dist(lm, EN_R, EX_R) + _dist(lm, EN_L, EX_L))


def alar_index(lm: np.ndarray) -> float:
    """Alar width / face width."""
    return _dist(lm, *ALARE) / face_width(lm)


def face_length_index(lm: np.ndarray) -> float:
    """Nasion-menton / face width."""
    return _dist(lm, NASION, FACE_BOTTOM) / face_width(lm)


def nose_length_index(lm: np.ndarray) -> float:
    """Nasion-subnasale / nasion-menton."""
    return _dist(lm, NASION, SUBNASALE) / _dist(lm, NASION, FACE_BOTTOM)


def upper_lip_index(lm: np.ndarray) -> float:
    """Upper vermilion height at the midline / nasion-menton."""
    return _dist(lm, LABIALE_SUPERIUS, STOMION_UPPER) / _dist(lm, NASION, FACE_BOTTOM)


@dataclass(frozen=True)
class Check:
    """One feature and the index that must move for it."""

    hpo_id: str
    index: Callable[[np.ndarray], float]
    direction: int  # +1: the index must grow; -1: shrink
    unit: str  # how the mean change is printed


CHECKS: tuple[Check, ...] = (
    Check("HP:0000316", ipd_index, +1, "ratio"),
    Check("HP:0000601", ipd_index, -1, "ratio"),
    Check("HP:0000154", mouth_index, +1, "ratio"),
    Check("HP:0000160", mouth_index, -1, "ratio"),
    Check("HP:0000343", philtrum_index, +1, "ratio"),
    Check("HP:0000322", philtrum_index, -1, "ratio"),
    Check("HP:0000582", canthal_angle, +1, "deg"),
    Check("HP:0000494", canthal_angle, -1, "deg"),
    Check("HP:0000445", alar_index, +1, "ratio"),
    Check("HP:0000276", face_length_index, +1, "ratio"),
    Check("HP:0003196", nose_length_index, -1, "ratio"),
    Check("HP:0000219", upper_lip_index, -1, "ratio"),
    Check("HP:0000506", intercanthal_index, +1, "ratio"),
    Check("HP:0000637", fissure_length_index, +1, "ratio"),
    Check("HP:0012745", fissure_length_index, -1, "ratio"),
    Check("HP:0045025", fissure_height_index, -1, "ratio"),
)


class Mesh:
    """MediaPipe Face Mesh on single images; returns (478, 2) float64 landmarks in pixels, or None."""

    def __init__(self) -> None:
        import mediapipe as mp  # heavy import, only where used

        self._mesh = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, refine_landmarks=True, max_num_faces=1, min_detection_confidence=0.5
        )

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        result = self._mesh.process(rgb)
        if not result.multi_face_landmarks:
            return None
        h, w = rgb.shape[:2]
        pts = result.multi_face_landmarks[0].landmark
        return np.array([(p.x * w, p.y * h) for p in pts], dtype=np.float64)


def show_landmarks(path: Path, seed: int, size: int) -> None:
    """Save a render with the landmarks this check uses drawn and numbered, to verify the indices by eye."""
    import cv2

    spec = random_specs(1, seed, size=size, syndromes=["unaffected"])[0]
    image = draw_face(spec).unmarked.copy()
    lm = Mesh()(image)
    if lm is None:
        raise SystemExit("no mesh found on the landmark preview render")
    scale = 1024 / image.shape[0]  # draw at 1024 px so the numbers are readable
    big = cv2.resize(image, (1024, 1024), interpolation=cv2.INTER_CUBIC)
    used = {
        IRIS_R,
        IRIS_L,
        FACE_R,
        FACE_L,
        FACE_TOP,
        FACE_BOTTOM,
        CHEILION_R,
        CHEILION_L,
        SUBNASALE,
        LABIALE_SUPERIUS,
        EN_R,
        EX_R,
        EN_L,
        EX_L,
        *ALARE,
        129,
        358,
    }
    for i in sorted(used):
        x, y = (lm[i] * scale).astype(int)
        colour = (255, 0, 0) if i not in (129, 358) else (0, 0, 255)  # the alternative alare in blue
        cv2.circle(big, (x, y), 4, colour, -1)
        cv2.putText(big, str(i), (x + 5, y - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
    from models import provenance

    provenance.save_png(big, path, provenance.png_metadata(generator="benchmarks.phenotype_check", seed=seed))
    print(f"landmark preview: {path}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.phenotype_check", description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", type=bounded(int, 1), default=200, help="children per feature (default: 200)")
    p.add_argument("--seed", type=bounded(int, 0), default=0, help="benchmark seed (default: 0)")
    p.add_argument("--size", type=bounded(int, 1), default=256, help="render size in pixels (default: 256)")
    p.add_argument(
        "--features",
        type=str,
        default=None,
        help="comma-separated HPO ids to check, a subset of those above (default: all)",
    )
    p.add_argument(
        "--engine",
        choices=(PHENOTYPE, PHENOTYPE_3D),
        default=PHENOTYPE,
        help="the phenotype engine to check (default: %(default)s)",
    )
    p.add_argument(
        "--show-landmarks",
        type=Path,
        default=None,
        metavar="PNG",
        help="only save one render with the landmarks used drawn and numbered, then exit",
    )
    json_flag(p, "phenotype_check")
    args = p.parse_args(argv)
    if args.show_landmarks is not None:
        show_landmarks(args.show_landmarks, args.seed, args.size)
        return 0
    checks = CHECKS if args.features is None else [c for c in CHECKS if c.hpo_id in args.features.split(",")]

    mesh = Mesh()
    children = [
        replace(s, features=(), intensity=1.0)
        for s in random_specs(args.pairs, args.seed, size=args.size, syndromes=["unaffected"])
    ]
    base = [mesh(draw_face(s, args.engine).unmarked) for s in children]
    print(
        f"{args.pairs} unaffected children at {args.size} px; mesh found on {sum(b is not None for b in base)} "
        "without features"
    )
    print(f"{'feature':<48} {'pairs':>5} {'moved':>7} {'mean change':>12} {'no mesh':>7}  target {TARGET:.0%}")
    results = []
    for check in checks:
        deltas, no_mesh = [], 0
        for spec, lm0 in zip(children, base, strict=True):
            lm1 = mesh(draw_face(replace(spec, features=(check.hpo_id,)), args.engine).unmarked)
            if lm0 is None or lm1 is None:
                no_mesh += 1
                continue
            deltas.append(check.index(lm1) - check.index(lm0))
        deltas_arr = np.array(deltas)
        moved = float(np.mean(np.sign(deltas_arr) == check.direction)) if len(deltas) else float("nan")
        sign = "+" if check.direction > 0 else "-"
        label = f"{FEATURES[check.hpo_id].name} {check.hpo_id} ({sign})"
        mean = f"{deltas_arr.mean():+.4f} {check.unit}" if len(deltas) else "n/a"
        verdict = "PASS" if moved >= TARGET else "FAIL"
        print(f"{label:<48} {len(deltas):>5} {moved:>7.1%} {mean:>12} {no_mesh:>7}  {verdict}")
        results.append({
            "hpo_id": check.hpo_id, "name": FEATURES[check.hpo_id].name, "direction": check.direction,
            "unit": check.unit, "pairs": len(deltas), "moved": round(moved, 4), "no_mesh": no_mesh,
            "mean_change": round(float(deltas_arr.mean()), 4) if len(deltas) else None,
        })  # fmt: skip
    figures = {"engine": args.engine, "pairs": args.pairs, "size_px": args.size, "target": TARGET}
    write_result(args.json, {**figures, "features": results}, p.prog, argv)
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
