"""Do off-the-shelf face detectors find our synthetic faces?

    python -m benchmarks.detection --n 500 --seed 0 --out out/bench/detection

Renders `--n` random frontal children at 256 px (every catalogue syndrome and unaffected, ages
0-18 uniform, both sexes, Monk skin tones 1-10, seeded) and runs three detectors on each:

* MediaPipe face detection, short-range model (``model_selection=0``). MediaPipe documents it as
  the model for faces within 2 m of the camera, i.e. portraits and selfies like ours; this is the
  number we hold to the target (>= 99 %).
* MediaPipe face detection, full-range model (``model_selection=1``), documented for faces up to
  5 m away; reported for comparison only.
* OpenCV's Haar cascade ``haarcascade_frontalface_default.xml`` (``detectMultiScale`` on
  grayscale, scaleFactor=1.1, minNeighbors=5), a classical detector that knows nothing of our
  renderer (target >= 95 %).

Prints detection rates overall and per syndrome, skin tone and age band, and renders per second;
writes a labelled contact sheet of the misses of each detector to ``--out``. Images are checked
without the visible SYNTHETIC label, which sits in a corner and is not part of the face.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from benchmarks.common import Timer, bounded, grid, json_flag, random_specs, run_benchmark, save_sheet, write_result
from models.constants import age_band
from models.faces import PHENOTYPE, PHENOTYPE_3D, draw_face
from models.phenotype.spec import RenderSpec

TARGETS = {"mediapipe_short": 0.99, "haar": 0.95}  # fraction of faces found
#: The 3D engine's targets (the phenotype-engine issue): MediaPipe >= 99.5 %, Haar >= 97 % in every Monk band.
TARGETS_3D = {"mediapipe_short": 0.995, "haar": 0.97}


def make_detectors(min_confidence: float) -> dict[str, Callable[[np.ndarray], bool]]:
    """Detector name -> function (H, W, 3) uint8 RGB -> True when at least one face is found."""
    import mediapipe as mp  # heavy import, only where used

    detectors: dict[str, Callable[[np.ndarray], bool]] = {}
    for name, selection in (("mediapipe_short", 0), ("mediapipe_full", 1)):
        model = mp.solutions.face_detection.FaceDetection(
            model_selection=selection, min_detection_confidence=min_confidence
        )
        detectors[name] = lambda rgb, m=model: bool(m.process(rgb).detections)
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    if cascade.empty():
        raise RuntimeError("OpenCV could not load haarcascade_frontalface_default.xml")

    def haar(rgb: np.ndarray) -> bool:
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        return len(cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5)) > 0

    detectors["haar"] = haar
    return detectors


def report(name: str, hits: Sequence[bool], specs: Sequence[RenderSpec], targets: dict = TARGETS) -> dict:
    """Print the detection rate of one detector overall and per syndrome, skin tone and age band; return them."""
    rate = float(np.mean(hits))
    figures = {"found": int(sum(hits)), "n": len(hits), "rate": round(rate, 4), "target": targets.get(name)}
    target = targets.get(name)
    verdict = "" if target is None else f"  target {target:.1%}: {'PASS' if rate >= target else 'FAIL'}"
    print(f"\n== {name}: {sum(hits)}/{len(hits)} = {rate:.1%}{verdict}")
    for title, key, order in (
        ("syndrome", lambda s: s.syndrome, str),
        ("skin tone", lambda s: s.skin_tone, int),
        ("age band (years)", lambda s: age_band(s.age), lambda band: float(band.split("-")[0])),
    ):
        groups: dict = defaultdict(list)
        for hit, spec in zip(hits, specs, strict=True):
            groups[key(spec)].append(hit)
        ordered = sorted(groups.items(), key=lambda kv: order(kv[0]))
        figures[f"by_{title.split(' (')[0].replace(' ', '_')}"] = {
            str(k): {"rate": round(float(np.mean(v)), 4), "n": len(v)} for k, v in ordered
        }
        print(f"  per {title}: " + ", ".join(f"{k}: {np.mean(v):.0%} ({len(v)})" for k, v in ordered))
        below = [f"{k} {np.mean(v):.0%}" for k, v in ordered if not all(v)]
        if below:
            print(f"    below 100 %: {', '.join(below)}")
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.detection", description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=bounded(int, 1), default=500, help="number of random frontal renders (default: 500)")
    p.add_argument("--seed", type=bounded(int, 0), default=0, help="benchmark seed (default: 0)")
    p.add_argument("--size", type=bounded(int, 1), default=256, help="render size in pixels (default: 256)")
    p.add_argument(
        "--min-confidence",
        type=float,
        default=0.5,
        help="MediaPipe min_detection_confidence (default: 0.5, MediaPipe's own default)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("out/bench/detection"),
        help="folder for the contact sheets of misses (default: out/bench/detection)",
    )
    p.add_argument(
        "--engine",
        choices=(PHENOTYPE, PHENOTYPE_3D),
        default=PHENOTYPE,
        help="the phenotype engine to draw with (default: %(default)s; phenotype_3d: the 3D child)",
    )
    json_flag(p, "detection")
    args = p.parse_args(argv)

    specs = random_specs(args.n, args.seed, size=args.size, view="frontal")
    targets = TARGETS_3D if args.engine == PHENOTYPE_3D else TARGETS
    detectors = make_detectors(args.min_confidence)
    render_time = Timer()
    hits: dict[str, list[bool]] = {name: [] for name in detectors}
    misses: dict[str, list[tuple[np.ndarray, str]]] = {name: [] for name in detectors}
    for spec in specs:
        image = render_time(draw_face, spec, args.engine).unmarked
        for name, detect in detectors.items():
            found = detect(image)
            hits[name].append(found)
            if not found:
                misses[name].append((image, f"{spec.syndrome[:14]} {spec.age:.0f}y t{spec.skin_tone}"))

    print(f"{args.n} frontal renders at {args.size} px: {render_time.rate:.1f} renders/s (rendering only)")
    figures = {name: report(name, hits[name], specs, targets) for name in detectors}
    by_tone = figures["haar"]["by_skin_tone"]
    worst = min(by_tone, key=lambda k: by_tone[k]["rate"])
    print(f"haar's weakest Monk band: {worst} at {by_tone[worst]['rate']:.1%}")
    result = {"engine": args.engine, "n": args.n, "size_px": args.size, "detectors": figures}
    result["haar_weakest_monk_band"] = {"tone": int(worst), **by_tone[worst]}
    write_result(args.json, result, p.prog, argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, missed in misses.items():
        if missed:
            thumbs = [cv2.resize(im, (128, 128), interpolation=cv2.INTER_AREA) for im, _ in missed[:120]]
            sheet = grid(thumbs, [c for _, c in missed[:120]], cols=10, title=f"{name} misses ({len(missed)})")
            path = args.out / f"misses_{name}.png"
            save_sheet(sheet, path)
            print(f"misses of {name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
