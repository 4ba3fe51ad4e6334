"""Are the saliency maps faithful? Three checks that renders make possible.

    python -m benchmarks.saliency_faithfulness --model out/models/resnet18 --n 20 --out out/bench/saliency

1. Single-feature localisation. Unaffected children with exactly one feature switched on
   (``RenderSpec(syndrome="unaffected", features=(hpo,))``) differ from their twin
   (``features=()``) only in the region that feature changes (`FEATURE_REGIONS`). Per method and
   feature: how often the region with the densest positive attribution (share / area, as the app
   shows it) is that region; chance is 1 / number of regions in the crop. IG and SmoothGrad use the
   twin, warped with the child's transform, as baseline. A ``pixel_difference`` row ranks regions by
   ``|x - twin|``: where the pixels changed after alignment (aligning on the pupils rescales the
   whole face of a child with hyper- or hypotelorism, so eye features also move brows and forehead).
   IG against the twin is ``(x - twin) * mean gradient``, so it inherits that localisation even with
   random weights (check 3 shows how much): read its hit rate beside ``pixel_difference``.
2. Deletion curve (Petsiuk et al. 2018, RISE) on syndromic renders: pixels are replaced by the
   blurred image (sigma 6 px) in order of decreasing attribution, in `--deletion-steps` equal
   steps; the target score is tracked. Area under the curve over the fraction removed (0-1): raw,
   in score units, and normalised to (s - s_end) / (s_0 - s_end) so 1 is the intact score and 0
   the fully blurred one (left out where blurring does not lower the score by at least a tenth of
   the curve's range). Lower is better; a random pixel order is the reference.
3. Model-randomisation sanity check (Adebayo et al. 2018, NeurIPS): re-initialise the weights
   from the head down, one top-level block of the backbone at a time (cascading; ``--randomisation
   full`` only the last stage, everything random), and compare each map with the trained model's by
   Spearman rank correlation (of the absolute and the signed map). A faithful method's maps change,
   so the correlation should be low. The class explained is fixed to the trained model's choice.
   IG against the counterfactual is exactly 0 wherever the child equals its twin, whatever the
   weights, so its whole-image correlation is inflated by construction; the third figure ranks
   only the pixels the syndrome changed.

Target (``--target``): ``contrast`` (default), the model's top predicted syndrome minus the
``unaffected`` logit, chosen once per image on the trained model; ``syndrome``, the predicted class's
plain logit. Prints tables and writes CSV files and ``summary.json`` to ``--out``. Research and
education only; not for diagnosis.
"""

from __future__ import annotations

import argparse
import copy
import csv
import dataclasses
import json
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from scipy.stats import spearmanr
from torch import nn

from benchmarks.common import bounded, random_specs, run_benchmark
from benchmarks.saliency_common import (
    ATTRIBUTE_DEFAULTS,
    TARGET_MODES,
    Case,
    add_setting_args,
    choose_target,
    prepare,
    scores,
    twin_of,
)
from models.constants import UNAFFECTED
from models.faces import APP_ENGINE, add_engine_flag
from models.phenotype.catalog import load_catalog
from models.phenotype.morphology import FEATURES
from models.phenotype.spec import SEXES, RenderSpec
from models.saliency import METHODS, attribute, make_baseline, region_breakdown

#: HPO id -> the render region its morphological operation changes (models.phenotype.morphology).
FEATURE_REGIONS: dict[str, str] = {
    "HP:0000316": "eyes",  # Hypertelorism
    "HP:0000601": "eyes",  # Hypotelorism
    "HP:0000582": "eyes",  # Upslanted palpebral fissure
    "HP:0000664": "brows",  # Synophrys
    "HP:0000445": "nose",  # Wide nose
    "HP:0000343": "mouth",  # Long philtrum
    "HP:0000322": "mouth",  # Short philtrum
    "HP:0000154": "mouth",  # Wide mouth
    "HP:0000347": "chin",  # Micrognathia
}
PIXEL_DIFFERENCE = "pixel_difference"


def single_feature_cases(
    n: int,
    seed: int,
    features: Sequence[str] = tuple(FEATURE_REGIONS),
    size: int = 256,
    align: str = "mesh",
    engine: str = APP_ENGINE,
) -> list[Case]:
    """`n` unaffected children, each rendered once per feature with only that feature on (twin: ``features=()``)."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(n):
        base = RenderSpec(
            syndrome="unaffected",
            age=round(float(rng.uniform(2, 16)), 2),
            sex=str(rng.choice(SEXES)),
            skin_tone=int(rng.integers(1, 11)),
            seed=int(rng.integers(0, 2**31 - 1)),
            size=size,
            features=(),
        )
        for hpo in features:
            spec = dataclasses.replace(base, features=(hpo,))
            cases.append(prepare(spec, base, f"child{i}/{hpo}", align, engine))
    return cases


def syndromic_cases(
    n: int,
    seed: int,
    size: int = 256,
    align: str = "mesh",
    syndromes: Sequence[str] | None = None,
    engine: str = APP_ENGINE,
) -> list[Case]:
    """`n` random syndromic children (of `syndromes`, default every catalogue syndrome), twin at intensity 0."""
    keys = [k for k in (syndromes or load_catalog().keys()) if k != UNAFFECTED]
    return [
        prepare(spec, twin_of(spec), f"{spec.syndrome}/seed{spec.seed}", align, engine)
        for spec in random_specs(n, seed + 1, size=size, syndromes=keys)
    ]


def maps_of(
    model: nn.Module, case: Case, methods: Sequence[str], target: int, contrast: int | None, **settings
) -> dict[str, np.ndarray]:
    """Method -> (112, 112) float32 signed heat map of `case`; IG and SmoothGrad against the counterfactual."""
    return {
        m: attribute(model, case.crop, m, target=target, contrast=contrast, baseline=case.baseline, **settings).heatmap
        for m in methods
    }


def top_region(heatmap: np.ndarray, regions: dict[str, np.ndarray], expected: str) -> tuple[str | None, int]:
    """(densest region or None when nothing is positive, 1-based density rank of `expected`)."""
    ranked = region_breakdown(heatmap, regions)
    if not ranked or ranked[0].density <= 0:
        return None, len(ranked)
    names = [r.region for r in ranked]
    return names[0], names.index(expected) + 1 if expected in names else len(names)


def localisation(
    model: nn.Module, cases: Sequence[Case], methods: Sequence[str], mode: str = "contrast", **settings
) -> list[dict]:
    """One row per (case, method, pixel-difference reference): expected and top region, hit, rank, chance."""
    rows = []
    for case in cases:
        hpo = case.features[0]
        expected = FEATURE_REGIONS[hpo]
        t, c = choose_target(model, case.crop, mode)
        maps = maps_of(model, case, methods, t, c, **settings)
        maps[PIXEL_DIFFERENCE] = np.abs(case.crop.astype(np.float32) - case.baseline).sum(2)
        for method, heat in maps.items():
            top, rank = top_region(heat, case.regions, expected)
            rows.append(
                {
                    "case": case.name,
                    "hpo": hpo,
                    "feature": FEATURES[hpo].name if hpo in FEATURES else hpo,
                    "present": hpo in case.present,
                    "method": method,
                    "target": model.config.classes[t],
                    "expected_region": expected,
                    "top_region": top or "",
                    "hit": top == expected,
                    "rank": rank,
                    "n_regions": len(case.regions),
                    "chance": 1.0 / max(1, len(case.regions)),
                }
            )
    return rows


def _auc(y: np.ndarray, x: np.ndarray) -> float:
    return float(((y[1:] + y[:-1]) / 2 * np.diff(x)).sum())  # trapezoid rule


def deletion_curve(
    model: nn.Module,
    crop: np.ndarray,
    order: np.ndarray,
    target: int,
    contrast: int | None,
    steps: int = 20,
) -> tuple[np.ndarray, np.ndarray]:
    """Target score as pixels are replaced by the blurred crop in `order`.

    Args:
        crop: (S, S, 3) uint8.
        order: (S * S,) pixel indices, first removed first.
        steps: the curve has ``steps + 1`` points, fractions 0, 1/steps, ..., 1.

    Returns:
        fractions (steps + 1,) in [0, 1] and scores (steps + 1,) float64.
    """
    fractions = np.linspace(0.0, 1.0, steps + 1)
    blurred = make_baseline(crop, "blurred")
    flat, blur = crop.reshape(-1, 3), blurred.reshape(-1, 3)
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))  # when each pixel goes
    counts = np.round(fractions * len(order)).astype(np.int64)
    batch = np.stack([np.where((rank < k)[:, None], blur, flat).reshape(crop.shape) for k in counts])  # (T, S, S, 3)
    return fractions, scores(model, batch, target, contrast)


def _order(heatmap: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pixel indices by decreasing attribution; ties (e.g. Grad-CAM's zeros) in random order."""
    return np.lexsort((rng.random(heatmap.size), -heatmap.ravel()))


def deletion(
    model: nn.Module,
    cases: Sequence[Case],
    maps: Sequence[dict[str, np.ndarray]],
    targets: Sequence[tuple[int, int | None]],
    steps: int = 20,
    random_orders: int = 3,
    seed: int = 0,
) -> list[dict]:
    """One row per (case, method or ``random``): raw and normalised deletion AUC and the curve."""
    rng = np.random.default_rng(seed)
    rows = []
    for case, case_maps, (t, c) in zip(cases, maps, targets, strict=True):
        orders = {m: [_order(h, rng)] for m, h in case_maps.items()}
        orders["random"] = [rng.permutation(case.crop.shape[0] * case.crop.shape[1]) for _ in range(random_orders)]
        for method, group in orders.items():
            curves = [deletion_curve(model, case.crop, o, t, c, steps) for o in group]
            x, y = curves[0][0], np.mean([cv[1] for cv in curves], axis=0)
            span = y[0] - y[-1]
            # normalised only where deletion lowers the score by at least a tenth of the curve's range
            norm = (y - y[-1]) / span if span > max(1e-6, 0.1 * np.ptp(y)) else np.full_like(y, np.nan)
            rows.append(
                {
                    "case": case.name,
                    "method": method,
                    "target": model.config.classes[t],
                    "score": float(y[0]),
                    "score_blurred": float(y[-1]),
                    "auc": _auc(y, x),
                    "auc_norm": _auc(norm, x),
                    "curve": [round(float(v), 4) for v in y],
                }
            )
    return rows


def cascade_stages(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The backbone's top-level blocks that hold weights, head first (resnet18: fc, layer4, ..., conv1)."""
    return [(n, m) for n, m in model.net.named_children() if any(True for _ in m.parameters())][::-1]


def _reinit(module: nn.Module, seed: int) -> None:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for m in module.modules():
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()  # BatchNorm: weight 1, bias 0, running stats reset


def _rho(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")  # a constant map has no ranks
    return float(spearmanr(a.ravel(), b.ravel()).statistic)


def randomisation(
    model: nn.Module,
    cases: Sequence[Case],
    maps: Sequence[dict[str, np.ndarray]],
    targets: Sequence[tuple[int, int | None]],
    cascading: bool = True,
    reinit_seed: int = 0,
    **settings,
) -> list[dict]:
    """One row per (stage, case, method): Spearman rho of trained vs randomised maps (absolute and signed)."""
    methods = list(maps[0]) if maps else []
    random_model = copy.deepcopy(model).eval()
    stages = cascade_stages(random_model)
    rows = []
    for k, (name, module) in enumerate(stages):
        _reinit(module, reinit_seed + k)
        if not cascading and k < len(stages) - 1:
            continue
        label = "full" if k == len(stages) - 1 else f"down to {name}"
        for case, trained, (t, c) in zip(cases, maps, targets, strict=True):
            rand = maps_of(random_model, case, methods, t, c, **settings)
            changed = np.abs(case.crop.astype(np.int16) - case.baseline).sum(2) > 0  # (S, S) pixels the syndrome moved
            for m in methods:
                rows.append(
                    {
                        "stage": label,
                        "depth": k + 1,
                        "case": case.name,
                        "method": m,
                        "rho_abs": _rho(np.abs(trained[m]), np.abs(rand[m])),
                        "rho_signed": _rho(trained[m], rand[m]),
                        "rho_abs_changed": _rho(np.abs(trained[m][changed]), np.abs(rand[m][changed])),
                    }
                )
    return rows


def run(
    model: nn.Module,
    n: int = 20,
    methods: Sequence[str] = METHODS,
    mode: str = "contrast",
    seed: int = 0,
    features: Sequence[str] = tuple(FEATURE_REGIONS),
    size: int = 256,
    align: str = "mesh",
    deletion_steps: int = 20,
    cascading: bool = True,
    engine: str = APP_ENGINE,
    **settings,
) -> dict[str, list[dict]]:
    """All three checks; returns ``{"localisation": rows, "deletion": rows, "randomisation": rows}``.

    Args:
        n: children per feature (localisation) and syndromic renders (deletion, randomisation).
        engine: the phenotype engine that draws the children (the one the classifier was trained on).
        settings: `models.saliency.attribute` settings (steps, samples, window); the app's by default.
    """
    settings = {**ATTRIBUTE_DEFAULTS, **settings, "seed": seed}
    loc = localisation(model, single_feature_cases(n, seed, features, size, align, engine), methods, mode, **settings)
    cases = syndromic_cases(n, seed, size, align, model.config.classes, engine)  # the syndromes the model knows
    targets = [choose_target(model, case.crop, mode) for case in cases]
    maps = [maps_of(model, case, methods, t, c, **settings) for case, (t, c) in zip(cases, targets, strict=True)]
    dele = deletion(model, cases, maps, targets, deletion_steps, seed=seed)
    rand = randomisation(model, cases, maps, targets, cascading, seed, **settings)
    return {"localisation": loc, "deletion": dele, "randomisation": rand}


def summarise(results: dict[str, list[dict]]) -> dict[str, dict]:
    """Per-method (and per-feature / per-stage) means of the rows of `run`."""

    def mean(rows, key):
        v = np.array([r[key] for r in rows], np.float64)
        return round(float(np.nanmean(v)), 4) if len(v) and not np.isnan(v).all() else None

    def group(rows, *keys):
        out = defaultdict(list)
        for r in rows:
            out[tuple(r[k] for k in keys)].append(r)
        return out

    loc = results["localisation"]
    summary: dict[str, dict] = {"localisation": {}, "deletion": {}, "randomisation": {}}
    for (method,), rows in group(loc, "method").items():
        per_feature = {f: mean(g, "hit") for (f,), g in group(rows, "feature").items()}
        summary["localisation"][method] = {
            "hit_rate": mean(rows, "hit"),
            "mean_rank": mean(rows, "rank"),
            "chance": mean(rows, "chance"),
            "n": len(rows),
            "per_feature": per_feature,
        }
    for (method,), rows in group(results["deletion"], "method").items():
        summary["deletion"][method] = {"auc": mean(rows, "auc"), "auc_norm": mean(rows, "auc_norm"), "n": len(rows)}
    for (stage, method), rows in group(results["randomisation"], "stage", "method").items():
        summary["randomisation"].setdefault(stage, {})[method] = {
            "rho_abs": mean(rows, "rho_abs"),
            "rho_signed": mean(rows, "rho_signed"),
            "rho_abs_changed": mean(rows, "rho_abs_changed"),
            "n": len(rows),
        }
    return summary


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.2f}"


def print_tables(summary: dict[str, dict]) -> None:
    """Plain-text tables of `summarise`'s output."""
    loc = summary["localisation"]
    features = sorted({f for s in loc.values() for f in s["per_feature"]})
    print("\n1. Single-feature localisation: top area-normalised region == the feature's region (hit rate)")
    print(f"{'method':<22}" + "".join(f"{f[:14]:>15}" for f in features) + f"{'all':>7}{'rank':>6}{'chance':>8}")
    for method, s in loc.items():
        cells = "".join(f"{_fmt(s['per_feature'].get(f)):>15}" for f in features)
        print(f"{method:<22}{cells}{_fmt(s['hit_rate']):>7}{_fmt(s['mean_rank']):>6}{_fmt(s['chance']):>8}")
    print("\n2. Deletion to blur: area under the target-score curve (lower is better)")
    print(f"{'method':<22}{'AUC (score)':>12}{'AUC (norm.)':>12}")
    for method, s in summary["deletion"].items():
        print(f"{method:<22}{_fmt(s['auc']):>12}{_fmt(s['auc_norm']):>12}")
    print(
        "\n3. Model randomisation: Spearman rho, trained vs randomised maps, should be low "
        "(|map| / signed map / |map| on the pixels the syndrome changed)"
    )
    methods = sorted({m for s in summary["randomisation"].values() for m in s})
    print(f"{'stage':<18}" + "".join(f"{m[:20]:>21}" for m in methods))
    keys = ("rho_abs", "rho_signed", "rho_abs_changed")
    for stage, s in summary["randomisation"].items():
        cells = "".join(f"{'/'.join(_fmt(s[m][k]) for k in keys) if m in s else '-':>21}" for m in methods)
        print(f"{stage:<18}{cells}")


def write(results: dict[str, list[dict]], summary: dict, out: Path) -> None:
    """CSV per check and ``summary.json`` in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in results.items():
        if not rows:
            continue
        with open(out / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows({k: (" ".join(map(str, v)) if isinstance(v, list) else v) for k, v in r.items()} for r in rows)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.saliency_faithfulness", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--model", type=Path, required=True, help="classifier folder (config.json, model.safetensors)")
    p.add_argument(
        "--n", type=bounded(int, 1), default=20, help="children per feature, and syndromic renders (default: 20)"
    )
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS), help="methods (default: all)")
    p.add_argument("--target", choices=TARGET_MODES, default="contrast", help="what is explained (default: contrast)")
    p.add_argument("--seed", type=bounded(int, 0), default=0, help="benchmark seed (default: 0)")
    p.add_argument("--out", type=Path, default=Path("out/bench/saliency"), help="folder for CSV and JSON")
    add_setting_args(p)
    p.add_argument(
        "--deletion-steps", type=bounded(int, 1), default=20, help="points of the deletion curve - 1 (default: 20)"
    )
    p.add_argument("--randomisation", choices=("cascading", "full"), default="cascading", help="(default: cascading)")
    p.add_argument("--align", choices=("mesh", "landmarks"), default="mesh", help="crop alignment (default: mesh)")
    p.add_argument("--threads", type=bounded(int, 1), default=None, help="torch CPU threads (default: torch's)")
    add_engine_flag(p, "the children: the one the classifier was trained on (the shipped classifier's)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from models.classifier.model import load_classifier

    model = load_classifier(args.model)
    results = run(
        model,
        n=args.n,
        methods=args.methods,
        mode=args.target,
        seed=args.seed,
        align=args.align,
        deletion_steps=args.deletion_steps,
        cascading=args.randomisation == "cascading",
        steps=args.steps,
        samples=args.samples,
        window=args.window,
        engine=args.engine,
    )
    summary = summarise(results)
    summary["settings"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    print_tables(summary)
    write(results, summary, args.out)
    print(f"\nwrote {args.out}/{{localisation,deletion,randomisation}}.csv and summary.json")
    return 0


if __name__ == "__main__":
    sys.exit(run_benchmark(main))
