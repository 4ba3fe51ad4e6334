"""Synthetic-only versus real-only training, across synthetic scales and backbones, as one command.

    python -m models.experiments.synthetic_vs_real --preset smoke --out out/exp-smoke
    python -m models.experiments.synthetic_vs_real --preset paper --out out/exp-paper [--real-data DIR]

The protocol follows "Synthetic Data Alone is Enough? Rethinking Data Scarcity in Pediatric
Rare Disease Recognition" (2026): few real photographs per condition (about 5; RDFace), a
generator fine-tuned on them, classifiers trained on synthetic sets of growing size, top-1/5/10
accuracy on held-out real photographs.

1. "Real" data: by default simulated cohorts from the phenotype model (training: 5 children per
   class; validation; a test cohort of new identities); with ``--real-data``, a metadata.csv
   folder split by subject_id into the same three parts.
2. The generator (`models.generator.train`, conditioned on HPO terms and shape with the
   feature-weighted loss, as the shipped one) is pretrained on one of two priors and fine-tuned on
   the real training images only (with their annotated HPO terms), then sampled at the largest
   scale, each child's features drawn from its syndrome's HPO frequencies; smaller scales are
   nested subsets of it. The priors run side by side (`Preset.priors`): a face prior of unaffected
   children, which knows no features, and a feature prior of children drawn with features at their
   prevalence among children with the catalogue's syndromes but with no syndrome
   (`data.feature_subjects`), conditioned on their features: it knows features, not syndromes.
3. Arms, per prior: real-only (once); synthetic-only at each scale; real plus synthetic at the scale with the best
   synthetic-only validation accuracy (chosen per backbone on the validation set, never the test
   set), each of its batches drawn half from the real and half from the synthetic images. Every
   arm sees aligned crops at the generator's resolution (real images are brought to it, so no arm
   can learn resolution or blur as a cue) and trains for the same number of optimiser steps, so
   the data are the only difference.
4. Metrics on the test set: top-1, top-5, top-10 accuracy as the per-syndrome mean, balanced
   accuracy; mean and standard deviation over seeds.

Each stage and each cell (backbone x arm x seed) writes its own file, so a stopped run resumes
and finished cells are skipped. Outputs in ``--out``: ``results.csv`` (every run),
``results.md`` (table), ``accuracy_vs_scale.png``. The stages live beside this runner:
`models.experiments.data` (splits and crops), `.synthetic` (the generator, its samples and their
judge), `.cells` (one classifier per cell), `.results` (tables and plot), `.presets` (the sizes).

On simulated "real" data this tests the pipeline and the protocol, not the clinical claim, which
needs real photographs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.constants import UNAFFECTED
from models.experiments.cells import run_cell
from models.experiments.data import crops as load_crops
from models.experiments.data import simulate_splits, split_real, synthetic_subset, write_subset
from models.experiments.presets import BACKBONES, FEATURE_PRIOR, PRESETS, Preset
from models.experiments.results import add_time, write_results
from models.experiments.synthetic import DEFAULT_JUDGE, judge_synthetic, sample_synthetic, suffix, train_generator


def run(preset: Preset, out: Path, real_data: Path | None = None, threads: int | None = None,
        log=print, judge: Path | None = DEFAULT_JUDGE) -> list[dict[str, Any]]:  # fmt: skip
    """Run (or resume) every stage and cell; writes results.csv, results.md and the plot. Returns every record."""
    t0 = time.time()
    out.mkdir(parents=True, exist_ok=True)
    (out / "preset.json").write_text(json.dumps(asdict(preset), indent=1) + "\n")
    if real_data is None:
        folders = simulate_splits(preset, out)
    else:
        from models.classifier.data import load_rows

        rows = load_rows(real_data)
        split = split_real(real_data, preset, out)
        folders = {s: write_subset(real_data, [rows[i] for i in split[s]], out / "data" / s) for s in split}
        only_pretrain = replace(preset, real_train_per_class=0, val_per_class=0, test_per_class=0,
                                classes=(UNAFFECTED,))  # fmt: skip
        folders["pretrain"] = simulate_splits(only_pretrain, out)["pretrain"]
    log(f"[{time.time() - t0:.0f} s] data ready")
    crops = {s: load_crops(folders[s], preset.resolution) for s in ("train", "val", "test")}
    add_time(out, "data", time.time() - t0)  # cohorts and their aligned crops
    present = {r["syndrome"] for r in crops["train"][1]}
    classes = (
        [UNAFFECTED] + sorted(c for c in present if c != UNAFFECTED) if UNAFFECTED in present else sorted(present)
    )

    def xy(split: str) -> tuple[np.ndarray, np.ndarray]:
        images, rows = crops[split]
        keep = [i for i, r in enumerate(rows) if r["syndrome"] in classes]
        return images[keep], np.array([classes.index(rows[i]["syndrome"]) for i in keep])

    real, val, test = xy("train"), xy("val"), xy("test")
    generators, synthetic, checks = {}, {}, {}
    for prior in preset.priors:
        t1 = time.time()
        pretrain = folders["pretrain_features" if prior == FEATURE_PRIOR else "pretrain"]
        generators[prior] = train_generator(preset, folders["train"], pretrain, out, threads, prior)
        add_time(out, "generator", time.time() - t1)
        log(f"[{time.time() - t0:.0f} s] generator with the {prior} prior ready: {generators[prior]}")
        t1 = time.time()
        synthetic[prior] = sample_synthetic(preset, generators[prior], classes, out, prior)
        add_time(out, "sampling", time.time() - t1)
        log(f"[{time.time() - t0:.0f} s] {len(synthetic[prior][1])} synthetic images ready ({prior} prior)")
        checks[prior] = judge_synthetic(*synthetic[prior], classes, out, judge, prior)
        check = checks[prior]
        if check is not None:
            log(f"[{time.time() - t0:.0f} s] the judge names the intended syndrome for {check['mean_top1']:.1%} of "
                f"the {prior} prior's samples (chance {check['chance']:.1%})")  # fmt: skip

    records = []
    for backbone in preset.backbones:
        base = {"classes": classes, "val": val, "test": test}
        cells = out / "cells" / backbone
        for seed in preset.seeds:
            records.append(run_cell(cells / f"real_only-s{seed}.json", backbone, "real_only", 0, seed,
                                    {**base, "arm": real}, preset))  # fmt: skip
        for prior in preset.priors:
            synth, name = synthetic[prior], suffix(prior).lstrip("_")
            tag = f"{name}-" if name else ""  # the face prior's cells keep their names, so earlier runs resume
            mine = []
            for seed in preset.seeds:
                for scale in preset.scales:
                    data = {**base, "arm": synthetic_subset(*synth, scale, max(preset.scales))}
                    mine.append(run_cell(cells / f"{tag}synthetic_{scale}-s{seed}.json", backbone, "synthetic_only",
                                         scale, seed, data, preset, prior))  # fmt: skip
            synth_val = {s: np.mean([r["val"]["top1"] for r in mine if r["synthetic_per_class"] == s])
                         for s in preset.scales}  # fmt: skip
            best = max(preset.scales, key=lambda s: (synth_val[s], -s))
            for seed in preset.seeds:
                sx, sy = synthetic_subset(*synth, best, max(preset.scales))
                # each batch half real, half synthetic (`cells.batch_indices`)
                mixed = np.concatenate([np.zeros(len(real[1]), bool), np.ones(len(sy), bool)])
                data = {**base, "arm": (np.concatenate([real[0], sx]), np.concatenate([real[1], sy]), mixed)}
                mine.append(run_cell(cells / f"{tag}real_plus_synthetic_{best}-s{seed}.json", backbone,
                                     "real_plus_synthetic", best, seed, data, preset, prior))  # fmt: skip
            records += mine
            log(f"[{time.time() - t0:.0f} s] {backbone}, {prior} prior, done (real + synthetic at {best} per class, "
                "chosen on validation)")  # fmt: skip
    write_results(records, preset, out, time.time() - t0, real_data, checks)
    return records


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (also used by ``--help``)."""
    p = argparse.ArgumentParser(
        prog="python -m models.experiments.synthetic_vs_real",
        description="Rerun the research protocol: classifiers trained on synthetic faces only versus on few real "
        "images, across synthetic scales and backbones. Resumable: finished stages and cells are skipped.",
    )
    p.add_argument("--preset", choices=sorted(PRESETS), required=True,
                   help="smoke: every stage, tiny, a minute or two; paper: the research setting sized for about 8 h "
                   "on a 2-core CPU")  # fmt: skip
    p.add_argument("--out", type=Path, required=True, help="output folder; rerun with the same folder to resume")
    p.add_argument("--real-data", type=Path, default=None,
                   help="folder with metadata.csv of licensed real photographs, split by subject_id into train "
                   "(5 children per class), validation and test; default: simulated cohorts")  # fmt: skip
    p.add_argument(
        "--backbones",
        default=None,
        help=f"comma-separated timm backbones to run instead of the preset's ({','.join(BACKBONES)})",
    )
    p.add_argument("--num-threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--gen-precision", choices=("no", "bf16", "fp16"), default=None,
                   help="the generator's mixed precision instead of the preset's (paper: bf16, about twice as fast "
                   "on CPUs with native bfloat16 and on GPUs; 'no' where bfloat16 would be emulated)")  # fmt: skip
    p.add_argument(
        "--judge",
        type=Path,
        default=DEFAULT_JUDGE,
        help="trained classifier folder that checks whether the synthetic samples show their syndrome "
        "(default: the shipped classifier; skipped when it does not know every class of the run)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run; returns 0, or 2 with a one-line message for bad arguments."""
    args = build_parser().parse_args(argv)
    preset = PRESETS[args.preset]
    try:
        if args.real_data is not None and not (args.real_data / "metadata.csv").is_file():
            raise ValueError(f"--real-data {args.real_data} has no metadata.csv")
        if args.backbones:
            import timm

            names = tuple(b.strip() for b in args.backbones.split(",") if b.strip())
            unknown = [b for b in names if b not in timm.list_models()]
            if not names or unknown:
                raise ValueError(f"unknown timm backbone(s): {', '.join(unknown) or '(none given)'}")
            preset = replace(preset, backbones=names)
        if args.gen_precision:
            preset = replace(preset, gen_precision=args.gen_precision)
        saved = args.out / "preset.json"
        if saved.is_file():
            previous = json.loads(saved.read_text())
            if previous.get("name") != preset.name:
                raise ValueError(f"{args.out} holds a '{previous.get('name')}' run; use another --out")
        if args.num_threads:
            torch.set_num_threads(args.num_threads)
        run(preset, args.out, args.real_data, args.num_threads, log=lambda m: print(m, file=sys.stderr, flush=True),
            judge=args.judge)  # fmt: skip
        print((args.out / "results.md").read_text(encoding="utf-8"))
        return 0
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
