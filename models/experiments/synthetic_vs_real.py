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
2. The generator (`models.generator.train`) is pretrained on simulated unaffected children and
   fine-tuned on the real training images only, then sampled at the largest scale; smaller
   scales are nested subsets of it.
3. Arms: real-only; synthetic-only at each scale; real plus synthetic at the scale with the best
   synthetic-only validation accuracy (chosen per backbone on the validation set, never the test
   set). Every arm sees aligned crops at the generator's resolution (real images are brought to
   it, so no arm can learn resolution or blur as a cue) and trains for the same number of
   optimiser steps, so the data are the only difference.
4. Metrics on the test set: top-1, top-5, top-10 accuracy as the per-syndrome mean, balanced
   accuracy; mean and standard deviation over seeds.

Each stage and each cell (backbone x arm x seed) writes its own file, so a stopped run resumes
and finished cells are skipped. Outputs in ``--out``: ``results.csv`` (every run),
``results.md`` (table), ``accuracy_vs_scale.png`` (written by `models.experiments.results`; the
sizes of each preset are in `models.experiments.presets`). On simulated "real" data this tests the
pipeline and the protocol, not the clinical claim, which needs real photographs.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.experiments.presets import BACKBONES, PRESETS, UNAFFECTED, Preset
from models.experiments.results import write_results

#: The classifier that judges whether synthetic samples show their syndrome (`judge_synthetic`).
DEFAULT_JUDGE = Path(__file__).resolve().parents[2] / "assets" / "classifier"

# ----------------------------------------------------------------------------------------------
# data


def _crops(folder: Path, resolution: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
    from models.generator.data import load_training_set

    return load_training_set(folder, resolution)


def simulate_splits(preset: Preset, out: Path) -> dict[str, Path]:
    """Write the simulated cohorts (train, val, test, and unaffected children for pretraining) once.

    New identities in every split: each cohort has its own seed. Returns split name -> folder.
    """
    from models.phenotype.cohort import cohort_classes, draw_subjects, write_cohort

    classes = cohort_classes(list(preset.classes) if preset.classes else None)
    plan = {
        "train": (classes, preset.real_train_per_class, 101),
        "val": (classes, preset.val_per_class, 102),
        "test": (classes, preset.test_per_class, 103),
        "pretrain": ([UNAFFECTED], preset.pretrain_images, 104),
    }
    folders = {}
    for split, (keys, per_class, seed) in plan.items():
        folder = out / "data" / split
        if not (folder / "metadata.csv").is_file():  # written last, so its presence means done
            write_cohort(folder, draw_subjects(keys, per_class, seed), size=preset.render_size, mark=False)
        folders[split] = folder
    return folders


def split_real(folder: Path, preset: Preset, out: Path, seed: int = 0) -> dict[str, list[int]]:
    """Split a real metadata.csv folder by subject_id: per class, train first, then val, test the rest.

    Each class keeps at least one child for test; classes with fewer than 3 children are left
    out (they cannot fill three splits). The split is saved to ``out/real_split.json``.

    Returns:
        split name -> row indices into `models.classifier.data.load_rows(folder)`.
    """

    from models.classifier.data import load_rows, subjects_by_class

    path = out / "real_split.json"
    if path.is_file():
        return json.loads(path.read_text())
    rows = load_rows(folder)
    by_class = subjects_by_class(rows)
    rng = np.random.default_rng(seed)
    part: dict[str, str] = {}
    for cls in sorted(by_class):
        ids = sorted(by_class[cls])
        if len(ids) < 3:
            print(f"warning: {cls} has {len(ids)} children; left out (needs 3)", file=sys.stderr)
            continue
        ids = [ids[i] for i in rng.permutation(len(ids))]
        n_train = min(preset.real_train_per_class, len(ids) - 2)
        n_val = min(preset.val_per_class, len(ids) - n_train - 1)
        for i, sid in enumerate(ids):
            part[sid] = "train" if i < n_train else "val" if i < n_train + n_val else "test"
    split = {s: [i for i, r in enumerate(rows) if part.get(r["subject_id"]) == s] for s in ("train", "val", "test")}
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(split))
    return split


def write_subset(folder: Path, rows: list[dict[str, Any]], dest: Path) -> Path:
    """Write a metadata.csv in `dest` that points at `rows`' images in `folder` (no image is copied)."""
    from models.phenotype.cohort import COLUMNS
    from models.provenance import atomic_output

    dest.mkdir(parents=True, exist_ok=True)
    if not (dest / "metadata.csv").is_file():
        with atomic_output(dest / "metadata.csv") as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
            w.writeheader()
            for r in rows:
                raw = {k: ("" if r.get(k) is None else r.get(k)) for k in COLUMNS}
                raw["file"] = str((folder / r["file"]).resolve())
                if isinstance(r.get("hpo_terms"), (list, tuple)):
                    raw["hpo_terms"] = ";".join(r["hpo_terms"])
                w.writerow(raw)
    return dest


# ----------------------------------------------------------------------------------------------
# generator


def train_generator(preset: Preset, train: Path, pretrain: Path, out: Path, threads: int | None) -> Path:
    """Pretrain on unaffected children, fine-tune on the real training split; resumes; returns the pipeline folder."""
    from models.generator import train as gen_train

    folder = out / "generator"
    if (folder / "model_index.json").is_file():
        return folder
    argv = [
        "--data", str(train), "--pretrain-data", str(pretrain), "--out", str(folder),
        "--pretrain-steps", str(preset.gen_pretrain_steps), "--max-train-steps", str(preset.gen_finetune_steps),
        "--resolution", str(preset.resolution), "--block-out-channels", ",".join(map(str, preset.gen_channels)),
        "--batch-size", str(preset.gen_batch), "--mixed_precision", preset.gen_precision,
        "--checkpointing_steps", str(max(1, min(250, preset.gen_pretrain_steps + preset.gen_finetune_steps))),
        "--sample-every", "0", "--resume_from_checkpoint", "latest", "--quiet",
    ]  # fmt: skip
    if threads:
        argv += ["--num-threads", str(threads)]
    status = gen_train.cli(argv)
    if status != 0:
        raise RuntimeError(f"generator training failed (exit {status})")
    return folder


def sample_synthetic(
    preset: Preset, generator: Path, classes: Sequence[str], out: Path
) -> tuple[np.ndarray, np.ndarray]:
    """max(scales) samples per class, one file per class (resumable); images (N, R, R, 3) uint8, labels (N,) int."""
    from models.generator.sample import generate, load_generator

    pipe, _ = load_generator(generator)
    n = max(preset.scales)
    folder = out / "synthetic"
    folder.mkdir(parents=True, exist_ok=True)
    images, labels = [], []
    for c, cls in enumerate(classes):
        path = folder / f"{cls}.npz"
        if not path.is_file():
            rng = np.random.default_rng([7, c])
            batch = []
            for start in range(0, n, 32):
                k = min(32, n - start)
                seeds = [c * 100_000 + start + i for i in range(k)]
                got = generate(
                    pipe, None, cls,
                    [float(rng.uniform(1, 16)) for _ in range(k)],
                    [("female", "male")[int(rng.integers(2))] for _ in range(k)],
                    [int(rng.integers(1, 11)) for _ in range(k)],
                    seeds, preset.sample_steps, preset.guidance, "dpm++",
                )  # fmt: skip
                batch += [s.image for s in got]
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, images=np.stack(batch))
            tmp.replace(path)
        with np.load(path) as z:
            images.append(z["images"][:n])
            labels.append(np.full(n, c))
    return np.concatenate(images), np.concatenate(labels)


def judge_synthetic(
    images: np.ndarray, labels: np.ndarray, classes: Sequence[str], out: Path, judge: Path | None
) -> dict[str, Any] | None:
    """How often an independent classifier names the syndrome each synthetic sample was drawn for.

    The judge is a trained classifier folder (by default the shipped one, trained on full-size
    phenotype-model renders, which recognises them as well at 64 px as at full size); it tells
    whether the generator drew the syndromes at all, which the arms' accuracies alone cannot. Written
    once to ``synthetic_check.json``.

    Args:
        images: (N, R, R, 3) uint8 synthetic samples; labels: (N,) int indices into `classes`.
        classes: class keys of the run.
        out: run folder.
        judge: classifier folder, or None to skip.

    Returns:
        ``{"judge", "mean_top1", "chance", "per_class"}``, or None when there is no judge or it does not
        know every class of the run (for example on licensed data with other conditions).
    """
    path = out / "synthetic_check.json"
    if path.is_file():
        return json.loads(path.read_text())
    if judge is None or not (judge / "config.json").is_file():
        return None
    from PIL import Image

    from models.classifier.config import load_classifier, to_tensor

    model = load_classifier(judge)
    known = list(model.config.classes)
    if not set(classes) <= set(known):
        return None
    size = model.config.input_size
    pred = []
    with torch.inference_mode():
        for start in range(0, len(images), 64):
            crops = np.stack(
                [
                    np.asarray(Image.fromarray(im).resize((size, size), Image.LANCZOS))
                    for im in images[start : start + 64]
                ]
            )
            pred.append(model(to_tensor(torch.from_numpy(crops))).argmax(1).numpy())
    named = np.array([classes.index(known[i]) if known[i] in classes else -1 for i in np.concatenate(pred)])
    per_class = {c: float(np.mean(named[labels == k] == k)) for k, c in enumerate(classes) if np.any(labels == k)}
    result = {
        "judge": str(judge),
        "mean_top1": float(np.mean(list(per_class.values()))),
        "chance": 1.0 / len(classes),
        "per_class": per_class,
    }
    path.write_text(json.dumps(result, indent=1) + "\n")
    return result


# ----------------------------------------------------------------------------------------------
# classifier cells


def train_cell(
    backbone: str, images: np.ndarray, labels: np.ndarray, classes: Sequence[str], preset: Preset, seed: int
):
    """Train one classifier for exactly ``preset.steps`` steps; returns it in eval mode.

    Batches are drawn with replacement by a seeded generator, class-weighted by inverse
    frequency in the loss, augmented as `models.classifier.data.train_transform`.
    """
    from models.classifier.config import Classifier, ClassifierConfig, to_tensor
    from models.classifier.data import class_weights, train_transform

    torch.manual_seed(seed)
    config = ClassifierConfig(backbone=backbone, classes=list(classes), input_size=preset.resolution, drop_rate=0.2)
    model = Classifier(config)
    augment = train_transform(config)
    x_all = torch.from_numpy(np.ascontiguousarray(images))
    y_all = torch.from_numpy(labels.astype(np.int64))
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights(labels.tolist(), len(classes)), label_smoothing=0.1)
    opt = torch.optim.AdamW(model.parameters(), lr=preset.lr, weight_decay=0.05)
    warm = max(1, preset.steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(1.0, s / preset.steps)))
    )
    g = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(preset.steps):
        idx = torch.randint(len(x_all), (preset.batch,), generator=g)
        x = torch.stack([augment(t).clamp(0, 1) for t in to_tensor(x_all[idx])])
        loss = loss_fn(model(x), y_all[idx])
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
    return model.eval()


def score(model, images: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Per-syndrome mean top-1/5/10 accuracy and balanced accuracy of `model` on (N, R, R, 3) uint8 crops."""
    from sklearn.metrics import balanced_accuracy_score

    from models.classifier.config import to_tensor
    from models.classifier.metrics import per_syndrome_mean_topk

    probs = []
    with torch.inference_mode():
        for start in range(0, len(images), 128):
            x = to_tensor(torch.from_numpy(np.ascontiguousarray(images[start : start + 128])))
            probs.append(model(x).softmax(1).numpy())
    p = np.concatenate(probs).astype(np.float64)
    return {
        "top1": per_syndrome_mean_topk(p, labels, 1),
        "top5": per_syndrome_mean_topk(p, labels, 5),
        "top10": per_syndrome_mean_topk(p, labels, 10),
        "balanced_accuracy": float(balanced_accuracy_score(labels, p.argmax(1))),
    }


def run_cell(path: Path, backbone: str, arm: str, scale: int, seed: int, data, preset: Preset) -> dict[str, Any]:
    """Train and score one cell unless its result file exists; returns the result record."""
    if path.is_file():
        return json.loads(path.read_text())
    images, labels = data["arm"]
    start = time.time()
    model = train_cell(backbone, images, labels, data["classes"], preset, seed)
    record = {
        "backbone": backbone,
        "arm": arm,
        "synthetic_per_class": scale,
        "seed": seed,
        "train_images": int(len(labels)),
        "steps": preset.steps,
        "val": score(model, *data["val"]),
        "test": score(model, *data["test"]),
        "wall_s": round(time.time() - start, 1),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1))
    tmp.replace(path)
    return record


def synthetic_subset(
    images: np.ndarray, labels: np.ndarray, per_class: int, n_max: int
) -> tuple[np.ndarray, np.ndarray]:
    """The first `per_class` samples of every class from a set stored class by class, `n_max` per class."""
    keep = np.concatenate([np.where(labels == c)[0][:per_class] for c in np.unique(labels)])
    return images[keep], labels[keep]


# ----------------------------------------------------------------------------------------------
# the whole protocol


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
    crops = {s: _crops(folders[s], preset.resolution) for s in ("train", "val", "test")}
    present = {r["syndrome"] for r in crops["train"][1]}
    classes = (
        [UNAFFECTED] + sorted(c for c in present if c != UNAFFECTED) if UNAFFECTED in present else sorted(present)
    )

    def xy(split: str) -> tuple[np.ndarray, np.ndarray]:
        images, rows = crops[split]
        keep = [i for i, r in enumerate(rows) if r["syndrome"] in classes]
        return images[keep], np.array([classes.index(rows[i]["syndrome"]) for i in keep])

    real, val, test = xy("train"), xy("val"), xy("test")
    generator = train_generator(preset, folders["train"], folders["pretrain"], out, threads)
    log(f"[{time.time() - t0:.0f} s] generator ready: {generator}")
    synth = sample_synthetic(preset, generator, classes, out)
    log(f"[{time.time() - t0:.0f} s] {len(synth[1])} synthetic images ready")
    check = judge_synthetic(*synth, classes, out, judge)
    if check is not None:
        log(f"[{time.time() - t0:.0f} s] the judge names the intended syndrome for {check['mean_top1']:.1%} of "
            f"synthetic samples (chance {check['chance']:.1%})")  # fmt: skip

    records = []
    for backbone in preset.backbones:
        base = {"classes": classes, "val": val, "test": test}
        for seed in preset.seeds:
            records.append(run_cell(out / "cells" / backbone / f"real_only-s{seed}.json", backbone, "real_only", 0,
                                    seed, {**base, "arm": real}, preset))  # fmt: skip
            for scale in preset.scales:
                data = {**base, "arm": synthetic_subset(*synth, scale, max(preset.scales))}
                records.append(run_cell(out / "cells" / backbone / f"synthetic_{scale}-s{seed}.json", backbone,
                                        "synthetic_only", scale, seed, data, preset))  # fmt: skip
        synth_val = {
            s: np.mean([r["val"]["top1"] for r in records if r["backbone"] == backbone
                        and r["arm"] == "synthetic_only" and r["synthetic_per_class"] == s])
            for s in preset.scales
        }  # fmt: skip
        best = max(preset.scales, key=lambda s: (synth_val[s], -s))
        for seed in preset.seeds:
            sx, sy = synthetic_subset(*synth, best, max(preset.scales))
            data = {**base, "arm": (np.concatenate([real[0], sx]), np.concatenate([real[1], sy]))}
            records.append(run_cell(out / "cells" / backbone / f"real_plus_synthetic_{best}-s{seed}.json", backbone,
                                    "real_plus_synthetic", best, seed, data, preset))  # fmt: skip
        log(f"[{time.time() - t0:.0f} s] {backbone} done (real + synthetic at {best} per class, chosen on validation)")
    write_results(records, preset, out, time.time() - t0, real_data, check)
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
