"""Check features judged in profile on the profile *silhouette* of the 3D engine's image, not its own landmarks.

    python -m benchmarks.profile_check --pairs 100 --json benchmarks/results/profile_check_3d.json

For each feature, `--pairs` unaffected children (random age, sex, skin tone, ancestry and identity, the
same children for every feature) are drawn in right profile twice, without and with the feature, and an
index is read from the image alone: the foreground is every pixel that differs from the backdrop (taken
from the image's top corner), the facial profile is its front edge (the rightmost foreground pixel of
each row, to a fraction of a pixel from the anti-aliased edge's coverage; the child faces right),
pronasale is the most anterior point of rows 47-69 % down the image, and ``L``, the distance from
pronasale up to the top of the head, is the unit. We count the pairs where the index moves the defined
way (target >= 95 %).

Indices (anterior distances are in units of L, from pronasale's column):
    Micrognathia HP:0000347 (-), Retrognathia HP:0000278 (-), Mandibular prognathia HP:0000303 (+):
        the most anterior point of the lower face (0.35 L to 0.8 L below pronasale).
    Frontal bossing HP:0002007 (+): the most anterior point of the forehead (0.45 L to 0.85 L above
        pronasale).
    Midface retrusion HP:0011800 (-): pronasale's projection beyond the mean of the forehead's and the
        lower face's most anterior points.
    Depressed nasal bridge HP:0005280 (-), Prominent nasal bridge HP:0000426 (+): the nasal root's position
        relative to the forehead: the mean anterior position of the profile between the forehead and the
        nose (0.38 L to 0.12 L above pronasale, where nasion lies) behind the forehead's most anterior point.
        Until 2026-12-07 the index took the most posterior point of that band in whole pixels: in every pair
        where it missed (8-10 %) it had not moved at all, held by the flat forehead rows at the band's top
        or by a pixel that did not change. A silhouette sees the nasion only where nothing stands in front
        of it: in a child with a low nasal root the near eye's cornea and lashes often do, so this index
        still misses part of the change.

The ears lie inside the head's outline, where no silhouette reaches them: they are read from the renderer's ear
mask as the image shows it, not from the head's own vertices, and a pair counts only where the hair leaves at
least 90 % of the ear in view in both images (`EAR_SHOWN`; a covered ear's visible part has another axis and
top; the pairs skipped are counted):
    Low-set ears HP:0000369 (-): the ear's top above the eye's centre (the eye mask's mean row), in L.
    Posteriorly rotated ears HP:0000358 (+): the tilt of the ear's long axis (the principal axis of its visible
        pixels) from vertical, in degrees, positive with its top towards the back of the head.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from benchmarks.common import bounded, json_flag, random_specs, run_benchmark, write_result
from models.faces import PHENOTYPE_3D, draw_face
from models.phenotype.morphology import FEATURES

TARGET = 0.95


@dataclass(frozen=True)
class Profile:
    """The facial profile read from an image: ``x[row]`` the front edge, pronasale's row and column, and L."""

    x: np.ndarray
    prn_row: int
    prn_x: float
    unit: float

    def anterior(self, below_from: float, below_to: float) -> float:
        """Most anterior point of the rows from `below_from` L to `below_to` L below pronasale (negative: above),
        relative to pronasale's column, in L."""
        a, b = sorted((self.prn_row + below_from * self.unit, self.prn_row + below_to * self.unit))
        rows = self.x[int(max(a, 0)) : int(min(b, len(self.x) - 1)) + 1]
        rows = rows[rows >= 0]
        return float((rows.max() - self.prn_x) / self.unit) if len(rows) else float("nan")


def read_profile(rgb: np.ndarray) -> Profile | None:
    """The profile of a right-facing portrait, or None when no head stands out from the backdrop."""
    image = rgb.astype(np.int16)
    backdrop = np.median(image[:6, :6].reshape(-1, 3), axis=0)
    contrast = np.abs(image - backdrop).max(axis=2)
    fg = contrast > 12
    h, w = fg.shape
    cols = np.arange(w)
    edge = np.where(fg, cols[None, :], -1).max(axis=1)
    x = edge.astype(np.float64)
    # to a fraction of a pixel: the renderer's anti-aliased edge covers the next pixel in part, in proportion
    # to how far it differs from the backdrop (a nasal bridge moves 1-2 pixels at 256 px, whole pixels hid it)
    # (the last pixel above the threshold may be partly covered too: measured against the one inside it)
    rows = np.nonzero((edge >= 1) & (edge < w - 1))[0]
    inner = np.maximum(contrast[rows, edge[rows] - 1], 1).astype(np.float64)
    cover = np.clip(contrast[rows, edge[rows]] / inner, 0.0, 1.0) + np.clip(
        contrast[rows, edge[rows] + 1] / inner, 0.0, 1.0
    )
    x[rows] += cover - 1.0
    # pronasale: the most anterior point of the rows where the portrait's framing puts the nose (below the
    # forehead, above the chin, for every age: the camera frames the head by its height)
    band = x[int(0.47 * h) : int(0.69 * h)]
    if (band < 0).all():
        return None
    prn_row = int(0.47 * h) + int(np.argmax(band))
    top = int(np.argmax(fg.any(axis=1)))
    unit = float(prn_row - top)
    return Profile(x, prn_row, float(x[prn_row]), unit) if unit > 10 else None


def lower_face(p: Profile) -> float:
    return p.anterior(0.35, 0.8)


def forehead(p: Profile) -> float:
    return p.anterior(-0.85, -0.45)


def midface(p: Profile) -> float:
    return -(forehead(p) + lower_face(p)) / 2  # pronasale's projection beyond the two


def nasal_root(p: Profile) -> float:
    a, b = int(p.prn_row - 0.38 * p.unit), int(p.prn_row - 0.12 * p.unit)
    rows = p.x[max(a, 0) : max(b, 0) + 1]
    rows = rows[rows >= 0]
    return float((rows.mean() - p.prn_x) / p.unit) - forehead(p) if len(rows) else float("nan")


@dataclass(frozen=True)
class Ear:
    """The visible ear of a right-facing portrait, from the renderer's ear mask: its top row's height above the
    eye's centre in L, the tilt of its long axis from vertical in degrees (+: top towards the back), its area."""

    height: float
    tilt: float
    area: int


def read_ear(masks, profile: Profile | None) -> Ear | None:
    """The visible ear (`Ear`), or None when under 40 pixels of it show or the image has no profile."""
    ear, eyes = np.asarray(masks["ears"]), np.asarray(masks["eyes"])
    if profile is None or ear.sum() < 40 or not eyes.any():
        return None
    rows, cols = np.nonzero(ear)
    values, vectors = np.linalg.eigh(np.cov(np.stack([cols, rows]).astype(np.float64)))
    dx, dy = vectors[:, int(np.argmax(values))]
    if dy > 0:  # point the axis up the image
        dx, dy = -dx, -dy
    tilt = float(np.degrees(np.arctan2(-dx, -dy)))  # the child faces right: its back is to the left (-x)
    height = float((np.nonzero(eyes)[0].mean() - rows.min()) / profile.unit)
    return Ear(height, tilt, int(ear.sum()))


def ear_visibility(spec) -> float:
    """The share of the near ear's pixels that the hair leaves in view: its mask with the hair drawn over its mask
    without (from the renderer's vertex-id pass, as `read_ear` reads it)."""
    from models.phenotype import engine3d
    from models.phenotype.head_render import render_head

    head = engine3d._build(engine3d.validate_spec_3d(spec))
    shown = []
    for dressing in (head.dressing, replace(head.dressing, hair=None, scalp=None)):
        ids = render_head(head.vertices, head.model.faces, head.model.face_region, spec.view, spec.size, head.look,
                          dressing, ids=True)  # fmt: skip
        shown.append(int(engine3d._masks(head.model, dressing, ids)["ears"].sum()))
    return shown[0] / max(shown[1], 1)


def ear_height(e: Ear) -> float:
    return e.height


def ear_tilt(e: Ear) -> float:
    return e.tilt


@dataclass(frozen=True)
class Check:
    hpo_id: str
    index: Callable[[Any], float]  # of a `Profile`, or of an `Ear` for the ear checks
    direction: int


CHECKS: tuple[Check, ...] = (
    Check("HP:0000347", lower_face, -1),
    Check("HP:0000278", lower_face, -1),
    Check("HP:0000303", lower_face, +1),
    Check("HP:0002007", forehead, +1),
    Check("HP:0011800", midface, -1),
    Check("HP:0005280", nasal_root, -1),
    Check("HP:0000426", nasal_root, +1),
)
#: An ear is read only where the hair leaves at least this share of it in view, in both images of the pair.
EAR_SHOWN = 0.9
EAR_CHECKS: tuple[Check, ...] = (
    Check("HP:0000369", ear_height, -1),
    Check("HP:0000358", ear_tilt, +1),
)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile_check", description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", type=bounded(int, 1), default=100, help="children per feature (default: 100)")
    p.add_argument("--seed", type=bounded(int, 0), default=0, help="benchmark seed (default: 0)")
    p.add_argument("--size", type=bounded(int, 128), default=256, help="render size in pixels (default: 256)")
    json_flag(p, "profile_check_3d")
    args = p.parse_args(argv)

    children = [
        replace(s, features=(), intensity=1.0, view="profile")
        for s in random_specs(args.pairs, args.seed, size=args.size, syndromes=["unaffected"])
    ]
    faces = [draw_face(s, PHENOTYPE_3D, masks=True) for s in children]
    base = [read_profile(f.unmarked) for f in faces]
    base_ears = [read_ear(f.sample.masks, p) for f, p in zip(faces, base, strict=True)]
    shown = [ear_visibility(f.sample.spec) for f in faces]
    print(f"{args.pairs} unaffected children in profile at {args.size} px (3D engine)")
    print(f"{'feature':<40} {'pairs':>5} {'moved':>7} {'mean change':>12}  target {TARGET:.0%}")
    results = []
    for check in (*CHECKS, *EAR_CHECKS):
        on_ear = check in EAR_CHECKS
        deltas, skipped = [], 0
        for spec, p0, e0, shown0 in zip(children, base, base_ears, shown, strict=True):
            face = draw_face(replace(spec, features=(check.hpo_id,)), PHENOTYPE_3D, masks=on_ear)
            p1 = read_profile(face.unmarked)
            if not on_ear:
                if p0 is not None and p1 is not None:
                    deltas.append(check.index(p1) - check.index(p0))
                continue
            e1 = read_ear(face.sample.masks, p1)
            if e0 is None or e1 is None or min(shown0, ear_visibility(face.sample.spec)) < EAR_SHOWN:
                skipped += 1
                continue
            deltas.append(check.index(e1) - check.index(e0))
        d = np.array(deltas)
        moved = float(np.mean(np.sign(d) == check.direction)) if len(d) else float("nan")
        label = f"{FEATURES[check.hpo_id].name} {check.hpo_id} ({'+' if check.direction > 0 else '-'})"
        verdict = "PASS" if moved >= TARGET else "FAIL"
        unit = "deg" if check.index is ear_tilt else "L"
        print(f"{label:<40} {len(d):>5} {moved:>7.1%} {d.mean():>+9.4f} {unit}  {verdict}"
              + (f"  ({skipped} pairs skipped: ear under the hair)" if on_ear else ""))  # fmt: skip
        results.append({
            "hpo_id": check.hpo_id, "name": FEATURES[check.hpo_id].name, "direction": check.direction,
            "pairs": len(d), "moved": round(moved, 4), f"mean_change_{unit}": round(float(d.mean()), 4),
            **({"measure": "ear mask", "skipped": skipped} if on_ear else {}),
        })  # fmt: skip
    figures = {"engine": PHENOTYPE_3D, "pairs": args.pairs, "size_px": args.size, "target": TARGET}
    write_result(args.json, {**figures, "features": results}, p.prog, argv)
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
