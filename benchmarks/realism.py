"""Do face models trained on real photographs read our synthetic children as distinct children of their age and sex?

    pip install -e ".[realism]"                       # dlib-bin and face-recognition-models (their weights)
    npm install --prefix ~/face-api @vladmandic/face-api@1.7.15 @tensorflow/tfjs@4.22.0 \\
        @tensorflow/tfjs-backend-wasm@4.22.0          # an age and sex estimator, run offline in node
    python -m benchmarks.realism --engine phenotype_3d --face-api ~/face-api/node_modules \\
        --json benchmarks/results/realism_3d.json

The judges are not ours and never saw our faces:

* identity: dlib's face-recognition descriptor (ResNet, 128-D; its documented same-person threshold is a
  Euclidean distance of 0.6), on faces found by dlib's HOG detector and aligned by its 5-point model.
  Two figures: the share of pairs of *different* children placed further apart than 0.6 (target >= 90 %),
  in a random cohort and in the hardest set (10 unaffected girls of one age and skin tone); and the share
  of children placed within 0.6 of themselves one year older (target >= 90 %).
* age and sex: face-api's age and gender network (@vladmandic/face-api, TensorFlow.js on WebAssembly),
  run by ``benchmarks/face_api_age.cjs``. Figures: Spearman's rank correlation between estimated and
  requested age across a cohort of 0-18 years (target >= 0.8), the mean estimate for children of 0-2
  years (target < 4), the share of identities whose estimates rank their ages 1 < 4 < 8 < 12 < 16 (the
  issue asks for the ranking; we report the share), and sex accuracy for children of 10 years and older
  (target >= 80 %).

Frontal portraits at 256 px without the visible SYNTHETIC label. Faces a judge does not find are
counted and left out of its figure.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.common import bounded, json_flag, random_specs, run_benchmark, write_result
from models.faces import PHENOTYPE, PHENOTYPE_3D, draw_face
from models.phenotype.spec import RenderSpec

SAME_PERSON = 0.6  # dlib's documented threshold for its face descriptor
TARGETS = {"different_apart": 0.9, "same_child_older_within": 0.9, "age_spearman": 0.8, "infant_mean_age": 4.0,
           "sex_accuracy_10_plus": 0.8}  # fmt: skip
STRIP_AGES = (1.0, 4.0, 8.0, 12.0, 16.0)


class Dlib:
    """dlib's HOG detector, 5-point aligner and face-recognition descriptor (weights from face-recognition-models)."""

    def __init__(self) -> None:
        try:
            import dlib
        except ImportError:
            raise ValueError('dlib is not installed; pip install -e ".[realism]"') from None
        spec = importlib.util.find_spec("face_recognition_models")
        if spec is None:
            raise ValueError('face-recognition-models is not installed; pip install -e ".[realism]"')
        # its __init__ needs pkg_resources; the weights are plain files beside it
        base = Path(spec.submodule_search_locations[0]) / "models"
        self.detect = dlib.get_frontal_face_detector()
        self.align = dlib.shape_predictor(str(base / "shape_predictor_5_face_landmarks.dat"))
        self.describe = dlib.face_recognition_model_v1(str(base / "dlib_face_recognition_resnet_model_v1.dat"))

    def __call__(self, rgb: np.ndarray) -> np.ndarray | None:
        """(128,) float64 descriptor of the largest face, or None where none is found."""
        found = self.detect(rgb, 1)
        if not found:
            return None
        face = max(found, key=lambda r: r.area())
        return np.asarray(self.describe.compute_face_descriptor(rgb, self.align(rgb, face)), dtype=np.float64)


def face_api(images: list[np.ndarray], modules: Path) -> list[dict | None]:
    """face-api's age and sex estimates for (S, S, 3) uint8 images, through node (see the module docstring)."""
    node = shutil.which("node")
    if node is None:
        raise ValueError("node is not installed; the age and sex estimator runs in node")
    if not (modules / "@vladmandic" / "face-api").is_dir():
        raise ValueError(f"{modules} holds no @vladmandic/face-api; see the install line in --help")
    size = images[0].shape[0]
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "images.rgb"
        np.stack(images).astype(np.uint8).tofile(raw)
        script = Path(__file__).with_name("face_api_age.cjs")
        done = subprocess.run(
            [node, str(script), str(modules), str(raw), str(len(images)), str(size)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise ValueError(f"face-api failed: {done.stderr.strip()[-300:]}")
    return json.loads(done.stdout)


def _image(spec: RenderSpec, engine: str) -> np.ndarray:
    return draw_face(spec, engine).unmarked


def apart_share(descriptors: list[np.ndarray | None]) -> dict:
    """Share of pairs of different children further apart than `SAME_PERSON`, over the faces found."""
    found = [d for d in descriptors if d is not None]
    dist = [float(np.linalg.norm(a - b)) for i, a in enumerate(found) for b in found[i + 1 :]]
    return {
        "children": len(descriptors),
        "found": len(found),
        "pairs": len(dist),
        "apart": round(float(np.mean(np.array(dist) > SAME_PERSON)), 4) if dist else None,
        "median_distance": round(float(np.median(dist)), 4) if dist else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.realism", description=__doc__.split("\n\n")[0])
    p.add_argument("--engine", choices=(PHENOTYPE, PHENOTYPE_3D), default=PHENOTYPE_3D,
                   help="the phenotype engine to judge (default: %(default)s)")  # fmt: skip
    p.add_argument("--n", type=bounded(int, 4), default=40,
                   help="children in the identity cohorts (default: 40)")  # fmt: skip
    p.add_argument("--n-age", type=bounded(int, 10), default=120,
                   help="children in the age cohort, ages 0-18 (default: 120)")  # fmt: skip
    p.add_argument("--strips", type=bounded(int, 1), default=12,
                   help="identities drawn at 1, 4, 8, 12 and 16 years (default: 12)")  # fmt: skip
    p.add_argument("--seed", type=bounded(int, 0), default=0, help="benchmark seed (default: 0)")
    p.add_argument(
        "--face-api",
        type=Path,
        default=None,
        metavar="NODE_MODULES",
        help="node_modules folder holding @vladmandic/face-api; without it, age and sex are skipped",
    )
    json_flag(p, "realism_3d")
    args = p.parse_args(argv)

    dlib = Dlib()
    figures: dict = {"engine": args.engine, "size_px": 256, "targets": TARGETS}
    cohort = random_specs(args.n, args.seed, size=256)
    figures["different_children_random"] = apart_share([dlib(_image(s, args.engine)) for s in cohort])
    girls = [RenderSpec(age=8.0, sex="female", skin_tone=4, seed=args.seed * 1000 + i, size=256) for i in range(10)]
    figures["different_children_hardest"] = apart_share([dlib(_image(s, args.engine)) for s in girls])
    within, found = [], 0
    for s in cohort:
        s = replace(s, age=min(s.age, 17.0))
        a, b = dlib(_image(s, args.engine)), dlib(_image(replace(s, age=s.age + 1.0), args.engine))
        if a is not None and b is not None:
            found += 1
            within.append(float(np.linalg.norm(a - b)) <= SAME_PERSON)
    figures["same_child_one_year_older"] = {
        "children": len(cohort), "found": found, "within": round(float(np.mean(within)), 4) if within else None,
    }  # fmt: skip
    for name in ("different_children_random", "different_children_hardest"):
        f = figures[name]
        print(
            f"dlib, {name.replace('_', ' ')}: {f['apart']} of {f['pairs']} pairs apart (median {f['median_distance']})"
        )
    print(f"dlib, same child a year older within {SAME_PERSON}: {figures['same_child_one_year_older']['within']}")

    if args.face_api is not None:
        from scipy.stats import spearmanr

        ages = random_specs(args.n_age, args.seed + 1, size=256)
        estimates = face_api([_image(s, args.engine) for s in ages], args.face_api)
        pairs = [(s.age, e["age"], s.sex, e["gender"]) for s, e in zip(ages, estimates, strict=True) if e]
        requested, estimated = np.array([q[0] for q in pairs]), np.array([q[1] for q in pairs])
        infants = estimated[requested < 2.0]
        older = [q for q in pairs if q[0] >= 10.0]
        strips = [
            RenderSpec(age=a, sex=("female", "male")[i % 2], skin_tone=1 + (3 * i) % 10, seed=77_000 + i, size=256)
            for i in range(args.strips)
            for a in STRIP_AGES
        ]
        strip_est = face_api([_image(s, args.engine) for s in strips], args.face_api)
        ranked = 0
        for i in range(args.strips):
            got = strip_est[i * len(STRIP_AGES) : (i + 1) * len(STRIP_AGES)]
            ranked += all(g is not None for g in got) and all(
                got[k]["age"] < got[k + 1]["age"] for k in range(len(got) - 1)
            )
        figures["age"] = {
            "children": len(ages), "found": len(pairs),
            "spearman": round(float(spearmanr(requested, estimated).statistic), 4),
            "mean_estimate_0_2_years": round(float(infants.mean()), 2) if len(infants) else None,
            "n_0_2_years": len(infants),
            "strips_ranked_in_order": ranked, "strips": args.strips,
        }  # fmt: skip
        figures["sex_10_plus"] = {
            "children": len(older),
            "accuracy": round(float(np.mean([q[2] == q[3] for q in older])), 4) if older else None,
        }
        a = figures["age"]
        print(f"face-api age: Spearman {a['spearman']} over {a['found']} children; 0-2 years read as "
              f"{a['mean_estimate_0_2_years']} on average; {ranked} of {args.strips} strips in order")  # fmt: skip
        print(f"face-api sex, 10 years and older: {figures['sex_10_plus']['accuracy']} of {len(older)}")
    write_result(args.json, figures, p.prog, argv)
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
