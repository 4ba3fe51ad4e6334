"""Train a syndrome classifier on a simulated cohort.

    python -m models.classifier.train --data out/cohort --backbone resnet18 --out out/clf --epochs 30 --seed 0
    accelerate launch -m models.classifier.train --data out/cohort --backbone convnext_atto --out out/clf

Reads the cohort's ``metadata.csv`` (`models.phenotype.cohort`), aligns every image once
(`models.alignment`, cached), splits by ``subject_id`` (no child in both training and
validation), trains ``timm.create_model(backbone, pretrained=False)`` with class-weighted
cross-entropy and face-appropriate augmentation, and writes to ``--out``: ``model.safetensors``,
``config.json`` (backbone, classes in order, input size, normalisation), ``train_args.json``,
``metrics.jsonl`` (one line per epoch) and a model card ``README.md``. Checkpoints go to
``--out/checkpoint-<step>``; ``--resume_from_checkpoint latest`` continues a stopped run.
The run is a function of its arguments and seed. Research and education only; not for diagnosis.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from models.classifier import metrics
from models.classifier.config import ClassifierConfig
from models.classifier.data import CropDataset, aligned_crops, class_list, load_rows, split_by_subject
from models.classifier.data import train_transform as make_train_transform
from models.classifier.model import Classifier, save_weights
from models.classifier.model_card import write_model_card
from models.classifier.recipe import optimisation
from models.training import (
    add_run_args,
    bf16_warning,
    check_out_is_free,
    find_checkpoint,
    prune_checkpoints,
    run_cli,
)


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (also used by ``--help``)."""
    p = argparse.ArgumentParser(
        prog="python -m models.classifier.train",
        description="Train a syndrome classifier on synthetic faces (timm backbone, Accelerate). "
        "Research and education only; not for diagnosis.",
    )
    p.add_argument("--data", type=Path, required=True, help="cohort folder with metadata.csv and images/")
    p.add_argument("--out", type=Path, required=True, help="output folder for weights, config, metrics, model card")
    p.add_argument(
        "--backbone",
        default="resnet18",
        help="timm model name, built without pretrained weights; tested: resnet18, efficientnet_b0, "
        "mobilenetv3_large_100, convnext_atto (default: resnet18)",
    )
    p.add_argument("--epochs", type=int, default=30, help="passes over the training set (default: 30)")
    p.add_argument(
        "--batch-size", "--batch_size", type=int, default=32, help="images per step per process (default: 32)"
    )
    p.add_argument(
        "--lr", "--learning_rate", type=float, default=2e-3, help="peak AdamW learning rate (default: 2e-3)"
    )
    p.add_argument(
        "--weight-decay", "--weight_decay", type=float, default=0.05, help="AdamW weight decay (default: 0.05)"
    )
    p.add_argument(
        "--warmup-epochs",
        "--warmup_epochs",
        type=float,
        default=1.0,
        help="linear learning-rate warm-up, in epochs, before cosine decay to 0 (default: 1)",
    )
    p.add_argument(
        "--label-smoothing",
        "--label_smoothing",
        type=float,
        default=0.1,
        help="cross-entropy label smoothing (default: 0.1)",
    )
    p.add_argument(
        "--drop-rate", "--drop_rate", type=float, default=0.2, help="dropout before the head (default: 0.2)"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the split, initialisation, shuffling and augmentation (default: 0)",
    )
    p.add_argument(
        "--val-fraction",
        "--val_fraction",
        type=float,
        default=0.2,
        help="fraction of each class's children held out for validation, 0 for none (default: 0.2)",
    )
    p.add_argument(
        "--init-checkpoint",
        "--init_checkpoint",
        type=Path,
        default=None,
        help="local .safetensors or .pt state dict to start from (e.g. timm weights already on disk); "
        "the classifier head is skipped when its shape differs; nothing is downloaded",
    )
    p.add_argument(
        "--checkpointing_steps",
        "--checkpointing-steps",
        default="epoch",
        help="save a resumable checkpoint every N steps, or 'epoch' at the end of each epoch (default: epoch)",
    )
    p.add_argument(
        "--num-workers", "--num_workers", type=int, default=0, help="data loader worker processes (default: 0)"
    )
    p.add_argument(
        "--cache-dir",
        "--cache_dir",
        type=Path,
        default=None,
        help="folder for the aligned-crop cache (default: <data>/.cache; unwritable: no cache)",
    )
    add_run_args(p, "autocast precision; fp16 needs a GPU, bf16 works on recent CPUs and GPUs (default: no)")
    return p


def check_args(args: argparse.Namespace) -> None:
    """Raise ValueError with a one-line message for bad arguments."""
    if not (args.data / "metadata.csv").is_file():
        raise ValueError(f"--data has no metadata.csv: {args.data}")
    if args.epochs < 1 or args.batch_size < 1:
        raise ValueError("--epochs and --batch-size must be >= 1")
    if not 0 <= args.val_fraction < 1:
        raise ValueError(f"--val-fraction must be in [0, 1), got {args.val_fraction}")
    if args.checkpointing_steps != "epoch" and not str(args.checkpointing_steps).isdigit():
        raise ValueError(
            f"--checkpointing_steps must be 'epoch' or a positive integer, got {args.checkpointing_steps!r}"
        )
    if args.mixed_precision == "fp16" and not torch.cuda.is_available():
        raise ValueError(
            "--mixed_precision fp16 needs a CUDA GPU and none is available; use bf16 or no on this machine"
        )
    if args.init_checkpoint is not None and not args.init_checkpoint.is_file():
        raise ValueError(f"--init-checkpoint not found: {args.init_checkpoint}")
    import timm

    if not timm.is_model(args.backbone):
        raise ValueError(f"unknown timm backbone {args.backbone!r} (see timm.list_models())")
    check_out_is_free(args.out, args.resume_from_checkpoint)


def load_init_checkpoint(model: Classifier, path: Path) -> list[str]:
    """Load a local state dict into the backbone, skipping tensors whose shape differs; returns skipped keys.

    A ``.pt``/``.pth`` file is read with ``weights_only=True``, so a pickle that would run code is refused.

    Raises:
        ValueError: the file is not a readable safetensors file or weights-only state dict.
    """
    import pickle

    from safetensors import SafetensorError

    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
            state = state.get("state_dict", state) if isinstance(state, dict) else state
    except (SafetensorError, pickle.UnpicklingError, OSError, RuntimeError, EOFError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ValueError(f"--init-checkpoint {path} is not a readable state dict ({first[:200]})") from None
    if not isinstance(state, dict):
        raise ValueError(f"--init-checkpoint {path} holds no state dict")
    own = model.net.state_dict()
    keep = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    model.net.load_state_dict(keep, strict=False)
    return sorted(set(own) - set(keep))


def evaluate_loader(model, loader, accelerator, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Softmax probabilities (N, K) float64 and labels (N,) int64 over a loader, gathered across processes."""
    model.eval()
    probs, labels = [], []
    with torch.inference_mode():
        for x, y in loader:
            logits = model(x)  # (B, K)
            p, y = accelerator.gather_for_metrics((logits.float().softmax(1), y))
            probs.append(p.cpu().numpy())
            labels.append(y.cpu().numpy())
    if not probs:
        return np.zeros((0, num_classes)), np.zeros(0, dtype=np.int64)
    return np.concatenate(probs).astype(np.float64), np.concatenate(labels)


def main(args: argparse.Namespace) -> int:
    """Train; returns the exit status (0 ok)."""
    from accelerate import Accelerator
    from accelerate.utils import DataLoaderConfiguration, ProjectConfiguration, set_seed
    from torch.utils.data import DataLoader

    start = time.time()
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    accelerator = Accelerator(
        mixed_precision=args.mixed_precision,
        project_config=ProjectConfiguration(project_dir=str(args.out)),
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True),
    )
    log = (
        (lambda msg: print(msg, file=sys.stderr))
        if accelerator.is_main_process and not args.quiet
        else (lambda _: None)
    )
    slow = bf16_warning(args.mixed_precision, accelerator.device.type != "cpu")
    if slow and accelerator.is_main_process:
        print(slow, file=sys.stderr)
    set_seed(args.seed)
    torch.backends.cudnn.benchmark = False

    rows = load_rows(args.data)
    cache_dir = args.cache_dir if args.cache_dir is not None else args.data / ".cache"
    with accelerator.main_process_first():
        crops, ok = aligned_crops(rows, cache_dir, progress=not args.quiet and accelerator.is_main_process)
    rows = [r for r, good in zip(rows, ok, strict=True) if good]
    crops = crops[ok]
    classes = class_list(rows)
    if len(classes) < 2:
        raise ValueError(f"need at least two classes with found faces, got {classes}")
    labels = [classes.index(r["syndrome"]) for r in rows]
    train_idx, val_idx = split_by_subject(rows, args.val_fraction, args.seed)
    log(
        f"{len(rows)} images of {len({r['subject_id'] for r in rows})} children in {len(classes)} classes; "
        f"{len(train_idx)} train, {len(val_idx)} validation images; {int((~ok).sum())} without a face left out"
    )

    config = ClassifierConfig(backbone=args.backbone, classes=classes, drop_rate=args.drop_rate)
    model = Classifier(config)
    if args.init_checkpoint is not None:
        skipped = load_init_checkpoint(model, args.init_checkpoint)
        log(f"initialised from {args.init_checkpoint}; not loaded: {', '.join(skipped) or 'none'}")
    train_set = CropDataset(crops[train_idx], [labels[i] for i in train_idx], make_train_transform(config))
    val_set = CropDataset(crops[val_idx], [labels[i] for i in val_idx])
    train_loader = DataLoader(
        train_set,
        batch_size=args.batch_size,
        shuffle=True,
        num_workers=args.num_workers,
        drop_last=len(train_set) > args.batch_size,
    )
    val_loader = DataLoader(val_set, batch_size=args.batch_size, shuffle=False, num_workers=args.num_workers)
    steps_per_epoch = math.ceil(len(train_loader) / accelerator.num_processes)
    total_steps, warmup = args.epochs * steps_per_epoch, max(1, round(args.warmup_epochs * steps_per_epoch))
    recipe = optimisation(
        model, [labels[i] for i in train_idx], len(classes), lr=args.lr, weight_decay=args.weight_decay,
        label_smoothing=args.label_smoothing, total_steps=total_steps, warmup_steps=warmup,
    )  # fmt: skip
    loss_fn, optimizer, scheduler = recipe.loss_fn, recipe.optimizer, recipe.scheduler
    model, optimizer, train_loader, val_loader, scheduler, loss_fn = accelerator.prepare(
        model, optimizer, train_loader, val_loader, scheduler, loss_fn
    )

    global_step, first_epoch, resume_step = 0, 0, 0
    if args.resume_from_checkpoint:
        path = find_checkpoint(args.out, args.resume_from_checkpoint)
        if path is None:
            log("no checkpoint found in --out; starting a new run")
        else:
            accelerator.load_state(str(path))
            global_step = int(path.name.split("-")[1])
            first_epoch, resume_step = divmod(global_step, steps_per_epoch)
            log(f"resumed from {path} (step {global_step}, epoch {first_epoch})")

    if accelerator.is_main_process:
        args.out.mkdir(parents=True, exist_ok=True)
        resolved = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
        (args.out / "train_args.json").write_text(json.dumps(resolved, indent=2) + "\n", encoding="utf-8")
        if global_step == 0:
            (args.out / "metrics.jsonl").write_text("", encoding="utf-8")

    def checkpoint() -> None:
        accelerator.wait_for_everyone()
        if accelerator.is_main_process:
            prune_checkpoints(args.out, args.checkpoints_total_limit)
        accelerator.save_state(str(args.out / f"checkpoint-{global_step}"))

    history: list[dict] = []
    for epoch in range(first_epoch, args.epochs):
        model.train()
        train_loader.set_epoch(epoch)
        loader = train_loader
        if epoch == first_epoch and resume_step:
            loader = accelerator.skip_first_batches(train_loader, resume_step)
        losses = []
        for x, y in loader:
            with accelerator.autocast():
                loss = loss_fn(model(x), y)  # model(x): (B, K)
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
            global_step += 1
            if args.checkpointing_steps != "epoch" and global_step % int(args.checkpointing_steps) == 0:
                checkpoint()
        probs, y_val = evaluate_loader(model, val_loader, accelerator, len(classes))
        record = {
            "epoch": epoch + 1,
            "step": global_step,
            "train_loss": float(np.mean(losses)) if losses else None,
            "lr": scheduler.get_last_lr()[0],
            "wall_s": round(time.time() - start, 1),
        }
        if len(y_val):
            record["val_loss"] = float(-np.log(np.clip(probs[np.arange(len(y_val)), y_val], 1e-12, 1)).mean())
            for k in (1, 5):
                record[f"val_top{k}"] = metrics.topk_accuracy(probs, y_val, k)
                record[f"val_per_syndrome_top{k}"] = metrics.per_syndrome_mean_topk(probs, y_val, k)
        history.append(record)
        log(json.dumps(record))
        if accelerator.is_main_process:
            with open(args.out / "metrics.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        if args.checkpointing_steps == "epoch":
            checkpoint()

    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        unwrapped = accelerator.unwrap_model(model)
        save_weights(unwrapped, args.out)
        config.save(args.out)
        if val_idx:
            from models.classifier.calibrate import calibrate

            fitted = calibrate(args.out, args.data, cache_dir)  # writes the temperature into config.json
            config.temperature = fitted["temperature"]
            log(f"temperature {config.temperature:.3f}: validation ECE {fitted['ece_before']:.3f} -> "
                f"{fitted['ece_after']:.3f}")  # fmt: skip
        write_model_card(args, config, rows, train_idx, val_idx, history, wall_s=time.time() - start)
        log(f"wrote {args.out / 'model.safetensors'} in {time.time() - start:.0f} s")
    accelerator.end_training()
    return 0


def cli(argv: Sequence[str] | None = None) -> int:
    """Parse, check and run; bad arguments exit 2 with a one-line message."""
    return run_cli(build_parser, check_args, main, argv)


if __name__ == "__main__":
    sys.exit(cli())
