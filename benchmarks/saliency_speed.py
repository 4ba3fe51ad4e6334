"""Seconds per saliency map and milliseconds per classification at 112 px, on this machine's CPU.

    python -m benchmarks.saliency_speed --model out/models/resnet18 --n 10

Times each method of `models.saliency.attribute` at the app's settings (IG 32 steps, Occlusion
window 16 px / stride 8 px, SmoothGrad = 8 noise samples of 32-step IG; read from `attribute`'s
defaults) on `--n` aligned renders, after one untimed map per method, and classifier inference
(batch 1, ``torch.inference_mode``, after warm-up). Targets: IG under 0.4 s, every method under
1 s, inference under 10 ms. Where a method misses 1 s it proposes the largest capped setting that
fits, from the measured cost of one IG step / one occluded window. Wall-clock time: the machine
should be otherwise idle. Research and education only; not for diagnosis.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from benchmarks.common import bounded, random_specs, run_benchmark, write_result
from benchmarks.saliency_common import ATTRIBUTE_DEFAULTS, add_setting_args, choose_target, to_batch
from models.alignment import align_face
from models.constants import UNAFFECTED
from models.faces import draw_face
from models.saliency import METHODS, attribute

IG_TARGET_S = 0.4  # one 32-step IG map
METHOD_TARGET_S = 1.0  # every method in the app
INFERENCE_TARGET_MS = 10.0  # batch 1


def time_maps(
    model: nn.Module, crops: Sequence[np.ndarray], methods: Sequence[str] = METHODS, **settings
) -> dict[str, np.ndarray]:
    """Method -> (len(crops),) float64 seconds per map (target: the contrast rule), after one untimed map."""
    settings = {**ATTRIBUTE_DEFAULTS, **settings}
    out = {}
    for method in methods:
        seconds = []
        for i, crop in enumerate([crops[0], *crops]):
            t, c = choose_target(model, crop)
            t0 = time.perf_counter()
            attribute(model, crop, method, target=t, contrast=c, baseline="blurred", **settings)
            if i:  # the first one warms up
                seconds.append(time.perf_counter() - t0)
        out[method] = np.array(seconds)
    return out


def time_inference(model: nn.Module, crop: np.ndarray, calls: int = 50, warmup: int = 10) -> np.ndarray:
    """(calls,) float64 milliseconds per forward pass of one (1, 3, 112, 112) crop under inference mode."""
    x = to_batch(crop[None], "cpu")
    ms = []
    with torch.inference_mode():
        for i in range(warmup + calls):
            t0 = time.perf_counter()
            model(x)
            if i >= warmup:
                ms.append((time.perf_counter() - t0) * 1e3)
    return np.array(ms)


def time_app_settings(model: nn.Module, crops: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Seconds per map of every method at the settings the app uses here (`models.saliency.app_settings`)."""
    from models.saliency import app_settings

    out = {}
    for method in METHODS:
        out[method] = time_maps(model, crops, [method], **{**ATTRIBUTE_DEFAULTS, **app_settings(method)})[method]
    return out


def ig_precisions(model: nn.Module, crops: Sequence[np.ndarray], steps: int = 32) -> dict[str, float]:
    """One `steps`-step IG map in float32 and under bfloat16 autocast: median seconds of each, and the
    median Spearman rank correlation between the two maps of the same crop (1 = same ranking of pixels)."""
    from scipy.stats import spearmanr

    out: dict[str, float] = {}
    maps: dict[str, list[np.ndarray]] = {}
    for precision in ("fp32", "bf16"):
        seconds, maps[precision] = [], []
        for i, crop in enumerate([crops[0], *crops]):
            t, c = choose_target(model, crop)
            t0 = time.perf_counter()
            a = attribute(model, crop, target=t, contrast=c, baseline="blurred", steps=steps, precision=precision)
            if i:
                seconds.append(time.perf_counter() - t0)
                maps[precision].append(a.heatmap.ravel())
        out[f"{precision}_s"] = float(np.median(seconds))
    rho = [spearmanr(a, b).statistic for a, b in zip(maps["fp32"], maps["bf16"], strict=True)]
    out["spearman"] = float(np.median(rho))
    return out


def inference_variants(model: nn.Module, crop: np.ndarray) -> dict[str, float]:
    """Median milliseconds of one batch-1 classification: eager float32, channels-last, bfloat16 autocast,
    and `models.classifier.inference.fast_predictor`."""
    import copy

    out = {"float32": float(np.median(time_inference(model, crop)))}
    cl = copy.deepcopy(model).to(memory_format=torch.channels_last)
    out["float32, channels_last"] = float(np.median(time_inference(cl, crop)))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out["bfloat16 autocast"] = float(np.median(time_inference(model, crop)))
    from models.classifier.inference import fast_predictor

    fast = fast_predictor(model)
    out["TorchScript frozen + oneDNN fusion"] = float(np.median(time_inference(fast, crop)))
    return out


def propose_caps(median_s: dict[str, float], settings: dict[str, int], budget_s: float = METHOD_TARGET_S) -> dict:
    """Capped settings that fit `budget_s`, for methods whose median exceeds it.

    Cost models (linear in passes): IG and SmoothGrad cost ``steps * samples`` forward/backward
    passes, Occlusion ``((112 - window) // stride + 1) ** 2`` forward passes with stride window / 2.
    Keeps 20 % headroom. Returns method -> proposed settings with their predicted seconds.
    """
    caps: dict[str, dict] = {}
    head = 0.8 * budget_s
    per_step = median_s.get("integrated_gradients", float("nan")) / settings["steps"]
    if median_s.get("integrated_gradients", 0) > IG_TARGET_S:
        steps = max(4, int(IG_TARGET_S * 0.8 / per_step))
        caps["integrated_gradients"] = {"steps": steps, "predicted_s": round(steps * per_step, 3)}
    if median_s.get("smoothgrad", 0) > budget_s:
        per_pass = median_s["smoothgrad"] / (settings["steps"] * settings["samples"])
        best = None
        for samples in (8, 6, 4, 3, 2):
            steps = int(head / (per_pass * samples))
            if steps >= 8:
                best = {"samples": samples, "steps": steps, "predicted_s": round(samples * steps * per_pass, 3)}
                break
        caps["smoothgrad"] = best or {"samples": 2, "steps": 4, "predicted_s": round(8 * per_pass, 3)}
    if median_s.get("occlusion", 0) > budget_s:

        def windows(w: int) -> int:
            return ((112 - w) // max(1, w // 2) + 1) ** 2

        per_window = median_s["occlusion"] / windows(settings["window"])
        w = settings["window"]
        while w < 56 and windows(w) * per_window > head:
            w += 2
        caps["occlusion"] = {"window": w, "stride": w // 2, "predicted_s": round(windows(w) * per_window, 3)}
    return caps


def report(times: dict[str, np.ndarray], inference_ms: np.ndarray, settings: dict) -> dict:
    """The table's numbers as a dict (medians, targets, pass/fail, proposed caps)."""
    median = {m: float(np.median(s)) for m, s in times.items()}
    rows = {
        m: {
            "median_s": round(median[m], 4),
            "p90_s": round(float(np.percentile(s, 90)), 4),
            "target_s": IG_TARGET_S if m == "integrated_gradients" else METHOD_TARGET_S,
        }
        for m, s in times.items()
    }
    for r in rows.values():
        r["pass"] = r["median_s"] < r["target_s"]
    inf = {"median_ms": round(float(np.median(inference_ms)), 3), "target_ms": INFERENCE_TARGET_MS}
    inf["pass"] = inf["median_ms"] < INFERENCE_TARGET_MS
    return {
        "settings": settings,
        "threads": torch.get_num_threads(),
        "maps": rows,
        "inference": inf,
        "proposed_caps": propose_caps(median, settings),
    }


def print_report(r: dict) -> None:
    s = r["settings"]
    detail = {
        "integrated_gradients": f"{s['steps']} steps",
        "smoothgrad": f"{s['samples']} x {s['steps']} steps",
        "occlusion": f"window {s['window']}, stride {s['window'] // 2}",
    }
    print(f"112 px crops, {r['threads']} torch threads")
    print(f"{'method':<22}{'settings':<22}{'median s':>9}{'p90 s':>8}{'target':>8}  ")
    for m, row in r["maps"].items():
        ok = "PASS" if row["pass"] else "FAIL"
        print(f"{m:<22}{detail.get(m, ''):<22}{row['median_s']:>9.3f}{row['p90_s']:>8.3f}{row['target_s']:>7g}s  {ok}")
    inf = r["inference"]
    ok = "PASS" if inf["pass"] else "FAIL"
    print(f"{'inference (batch 1)':<44}{inf['median_ms']:>7.2f}ms{'':>8}{inf['target_ms']:>6g}ms  {ok}")
    for m, cap in r["proposed_caps"].items():
        print(f"proposed cap for {m}: {cap}")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.saliency_speed", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, required=True, help="classifier folder (config.json, model.safetensors)")
    p.add_argument("--n", type=bounded(int, 1), default=10, help="timed maps per method (default: 10)")
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS), help="methods (default: all)")
    p.add_argument("--seed", type=bounded(int, 0), default=0, help="seed of the renders (default: 0)")
    add_setting_args(p)
    p.add_argument("--threads", type=bounded(int, 1), default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--json", type=Path, default=None, help="also write the report as JSON here")
    p.add_argument(
        "--app",
        action="store_true",
        help="time every method at the app's own capped settings (models.saliency.app_settings) and "
        "inference in float32, channels-last and bfloat16",
    )
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from models.classifier.model import load_classifier

    model = load_classifier(args.model)
    specs = random_specs(args.n, args.seed, syndromes=[c for c in model.config.classes if c != UNAFFECTED])
    crops = [align_face(x.image, landmarks=x.landmarks).image for x in (draw_face(s).sample for s in specs)]
    if args.app:
        from models.saliency import app_settings

        app_times = time_app_settings(model, crops)
        print(f"app settings, 112 px crops, {torch.get_num_threads()} torch threads")
        for m, t in app_times.items():
            ok = "PASS" if np.median(t) < METHOD_TARGET_S else "FAIL"
            setting = str(app_settings(m) or "no settings")
            print(f"  {m:<22}{setting:<32}{np.median(t):>7.3f} s (p90 {np.percentile(t, 90):.3f})  {ok}")
        inference = inference_variants(model, crops[0])
        for name, ms in inference.items():
            ok = "PASS" if ms < INFERENCE_TARGET_MS else "FAIL"
            print(f"  inference, batch 1, {name:<26}{ms:>7.2f} ms  {ok}")
        ig = ig_precisions(model, crops)
        for precision in ("fp32", "bf16"):
            ok = "PASS" if ig[f"{precision}_s"] < IG_TARGET_S else "FAIL"
            print(f"  IG, 32 steps, {precision:<34}{ig[f'{precision}_s']:>7.3f} s  {ok}")
        print(f"  IG maps, bf16 against fp32: median Spearman rho {ig['spearman']:.3f}")
        figures = {
            "threads": torch.get_num_threads(),
            "app_maps_s": {m: round(float(np.median(t)), 3) for m, t in app_times.items()},
            "app_settings": {m: app_settings(m) for m in app_times},
            "inference_batch1_ms": {name: round(ms, 2) for name, ms in inference.items()},
            "ig_32_steps_s": {k: round(v, 3) for k, v in ig.items()},
        }
        write_result(args.json, figures, p.prog, argv)
        return 0
    settings = {"steps": args.steps, "samples": args.samples, "window": args.window}
    times = time_maps(model, crops, args.methods, **settings)
    r = report(times, time_inference(model, crops[0]), settings)
    print_report(r)
    write_result(args.json, r, p.prog, argv)
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
