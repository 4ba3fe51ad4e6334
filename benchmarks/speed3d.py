"""Speed of the 3D phenotype engine (`models.phenotype.engine3d`) on the CPU, in one process.

    python -m benchmarks.speed3d --n 40 --json benchmarks/results/speed3d.json

Measures, on an otherwise idle machine:

* cold start: a fresh Python process that imports the engine and renders one frontal child at 256 px
  (loading the head model, compiling the OpenGL shaders on Mesa's llvmpipe), wall clock; target < 5 s;
* full samples per second: `render3d` of `--n` random children (every syndrome and unaffected, ages
  0-18, sexes, tones), frontal at 256 px, each with hair grown, the portrait, the vertex-id pass for
  masks and the landmarks; target >= 20 per second (the phenotype-engine issue);
* portraits per second: the rasterisation alone (`head_render.render_head`) of already built and
  dressed children, the part a GPU or a cached child would leave.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence

import numpy as np

from benchmarks.common import bounded, json_flag, random_specs, run_benchmark, write_result

TARGET_RATE, TARGET_COLD_S = 20.0, 5.0
_COLD = (
    "from models.phenotype.engine3d import render3d; from models.phenotype.spec import RenderSpec; "
    "render3d(RenderSpec(syndrome='down', age=6, size=256))"
)


def cold_start() -> float:
    """Seconds for a fresh interpreter to import the engine and render one child."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", _COLD], check=True)
    return time.perf_counter() - t0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.speed3d", description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=bounded(int, 2), default=40, help="children to time (default: 40)")
    p.add_argument("--seed", type=bounded(int, 0), default=0, help="benchmark seed (default: 0)")
    json_flag(p, "speed3d")
    args = p.parse_args(argv)

    from models.phenotype.engine3d import render3d
    from models.phenotype.head_model import HeadModel, HeadParams
    from models.phenotype.head_render import Look, render_head
    from models.phenotype.portrait3d import dress

    cold = min(cold_start() for _ in range(2))
    specs = random_specs(args.n, args.seed, size=256, view="frontal")
    render3d(specs[0])  # warm: head model, shaders
    full = []
    for spec in specs:
        t0 = time.perf_counter()
        render3d(spec)
        full.append(time.perf_counter() - t0)
    model = HeadModel.load()
    scenes = []
    for spec in specs:
        v = model.vertices(HeadParams(spec.age, spec.sex))
        dressing, cloth = dress(model, v, spec.age, spec.sex, np.random.default_rng(spec.seed))
        scenes.append((v, dressing, Look(cloth=cloth)))
    raster = []
    for v, dressing, look in scenes:
        t0 = time.perf_counter()
        render_head(v, model.faces, model.face_region, "frontal", 256, look, dressing)
        raster.append(time.perf_counter() - t0)
    full_rate, raster_rate = 1 / float(np.mean(full)), 1 / float(np.mean(raster))
    print(f"cold start (fresh process, import + first 256 px child): {cold:.2f} s (target < {TARGET_COLD_S:g} s)")
    print(f"full samples (hair, portrait, masks, landmarks): {full_rate:.1f}/s, p95 {np.percentile(full, 95):.3f} s")
    print(f"portrait rasterisation alone: {raster_rate:.1f}/s (target for full samples: >= {TARGET_RATE:g}/s)")
    figures = {
        "size_px": 256,
        "n": args.n,
        "cold_start_s": round(cold, 2),
        "cold_start_target_s": TARGET_COLD_S,
        "full_samples_per_s": round(full_rate, 2),
        "full_sample_p95_s": round(float(np.percentile(full, 95)), 3),
        "portraits_per_s": round(raster_rate, 2),
        "target_per_s": TARGET_RATE,
    }
    write_result(args.json, figures, p.prog, argv)
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
