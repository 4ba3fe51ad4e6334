"""Renders per second of the phenotype renderer, in one process.

    python -m benchmarks.speed --n 100 --size 256

Draws `--n` random children (every syndrome and unaffected, ages 0-18, sexes, skin tones) per
view, renders a few first to warm caches (catalogue, norms, lazily built tables), then times
each render with `time.perf_counter`. Reports the mean rate per view and overall and the median
and 95th-percentile time per render. Target: >= 20 renders/s at 256 px. The machine should be
otherwise idle: this measures wall-clock time.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np

from benchmarks.common import bounded, json_flag, random_specs, run_benchmark, write_result
from models.phenotype import synthesizer
from models.phenotype.spec import VIEWS

TARGET = 20.0  # renders per second at 256 px


def time_renders(view: str, n: int, seed: int, size: int, warmup: int) -> np.ndarray:
    """Seconds per render, (n,) float64, after `warmup` untimed renders.

    Times the engine alone (`models.phenotype.synthesizer.render`), not `models.faces.draw_faces`
    around it: the target is the renderer's, and the mark and metadata cost the same for any engine.
    """
    specs = random_specs(n + warmup, seed, size=size, view=view)
    for spec in specs[:warmup]:
        synthesizer.render(spec)
    seconds = []
    for spec in specs[warmup:]:
        t0 = time.perf_counter()
        synthesizer.render(spec)
        seconds.append(time.perf_counter() - t0)
    return np.array(seconds)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=bounded(int, 1), default=100, help="timed renders per view (default: 100)")
    p.add_argument("--size", type=bounded(int, 1), default=256, help="render size in pixels (default: 256)")
    p.add_argument("--seed", type=bounded(int, 0), default=0, help="benchmark seed (default: 0)")
    p.add_argument("--warmup", type=bounded(int, 0), default=5, help="untimed renders per view first (default: 5)")
    p.add_argument("--views", type=str, default=",".join(VIEWS), help="comma-separated views (default: all)")
    json_flag(p, "speed")
    args = p.parse_args(argv)

    total, per_view = [], {}
    print(f"{'view':<9} {'renders/s':>9} {'median ms':>9} {'p95 ms':>7}")
    for view in args.views.split(","):
        s = time_renders(view, args.n, args.seed, args.size, args.warmup)
        total.append(s)
        per_view[view] = {
            "renders_per_s": round(len(s) / s.sum(), 1),
            "median_ms": round(float(np.median(s)) * 1e3, 1),
        }
        print(f"{view:<9} {len(s) / s.sum():>9.1f} {np.median(s) * 1e3:>9.1f} {np.percentile(s, 95) * 1e3:>7.1f}")
    s = np.concatenate(total)
    rate = len(s) / s.sum()
    print(f"{'all':<9} {rate:>9.1f}  at {args.size} px; target {TARGET:g}/s: {'PASS' if rate >= TARGET else 'FAIL'}")
    figures = {"size_px": args.size, "n_per_view": args.n, "renders_per_s": round(rate, 1), "target_per_s": TARGET}
    write_result(
        args.json, {**figures, "median_ms": round(float(np.median(s)) * 1e3, 1), "views": per_view}, p.prog, argv
    )
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
