"""Command-line flags of `models.generator.train`, with the checks that turn bad values into one clear message."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from models.generator.loss import TIMESTEP_BIAS_STRATEGIES
from models.training import add_run_args, check_out_is_free


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (also used by ``--help``)."""
    p = argparse.ArgumentParser(
        prog="python -m models.generator.train",
        description="Train the conditional diffusion generator (diffusers UNet, Accelerate): pretrain on "
        "unaffected children, fine-tune on syndromic children. Research and education only; not for diagnosis.",
    )
    p.add_argument("--data", type=Path, required=True, help="stage-2 (fine-tuning) folder with metadata.csv")
    p.add_argument("--out", type=Path, required=True, help="output folder: the pipeline, checkpoints, samples, card")
    p.add_argument(
        "--pretrain-data",
        "--pretrain_data",
        type=Path,
        default=None,
        help="stage-1 folder of unaffected children with metadata.csv (other classes in it are skipped)",
    )
    p.add_argument(
        "--pretrain-labels",
        "--pretrain_labels",
        choices=("unaffected", "none"),
        default="unaffected",
        help="stage 1's children: 'unaffected' (its unaffected children, as such: a prior of faces that knows no "
        "features) or 'none' (every child, conditioned on its HPO features and none of the syndromes, which "
        "it never sees: a prior that knows features but no syndromes; needs --condition-on-hpo) "
        "(default: unaffected)",
    )
    p.add_argument(
        "--pretrain-steps",
        "--pretrain_steps",
        type=int,
        default=0,
        help="optimiser steps of stage 1 (needs --pretrain-data; default: 0)",
    )
    p.add_argument(
        "--max-train-steps", "--max_train_steps", type=int, default=2000, help="steps of stage 2 (default: 2000)"
    )
    p.add_argument(
        "--init-from",
        "--init_from",
        type=Path,
        default=None,
        help="pipeline folder of an earlier run to start stage 2 from (its classes must cover --data's)",
    )
    p.add_argument(
        "--per-class",
        "--per_class",
        type=int,
        default=None,
        help="stage 2 keeps at most this many children per syndrome, e.g. 5 for the few-shot setting (default: all)",
    )
    p.add_argument("--resolution", type=int, default=64, help="image width and height in pixels (default: 64)")
    p.add_argument(
        "--block-out-channels",
        "--block_out_channels",
        default="32,64,128,128",
        help="UNet channels per level, comma-separated (default: 32,64,128,128: 4.0 M parameters)",
    )
    p.add_argument(
        "--batch-size", "--train_batch_size", type=int, default=32, help="images per step per process (default: 32)"
    )
    p.add_argument("--lr", "--learning_rate", type=float, default=4e-4, help="AdamW learning rate (default: 4e-4)")
    p.add_argument(
        "--lr-warmup-steps", "--lr_warmup_steps", type=int, default=200, help="linear warm-up steps (default: 200)"
    )
    p.add_argument(
        "--condition-dropout",
        "--condition_dropout",
        type=float,
        default=0.1,
        help="probability of the null condition, for classifier-free guidance (default: 0.1)",
    )
    p.add_argument(
        "--condition-on-hpo",
        "--condition_on_hpo",
        action="store_true",
        help="also condition the UNet on the HPO features each training child shows (metadata.csv's hpo_terms; "
        "one slot per term found in --data), so that features shared by several syndromes are learned from all "
        "of them; sampling then draws each new child's features from the phenotype engine. With --init-from a "
        "generator conditioned on the syndrome alone, the new slots start at zero weight, so fine-tuning starts "
        "from what it drew (default: off)",
    )
    p.add_argument(
        "--hpo-dropout",
        "--hpo_dropout",
        type=float,
        default=0.1,
        help="with --condition-on-hpo, probability of hiding a child's HPO features (but not its syndrome), so the "
        "generator also draws a syndrome's gestalt when no features are given (default: 0.1)",
    )
    p.add_argument(
        "--condition-on-shape",
        "--condition_on_shape",
        action="store_true",
        help="also condition the UNet on a map of the face's contour landmarks (eyes, brows, nose, lips, face oval; "
        "found by Face Mesh in each training crop), read as extra input channels; sampling draws each new face's "
        "landmarks from a linear shape model of the condition fitted to --data (see models/generator/shape.py). "
        "With --init-from a generator without it, the new input channels start at zero weight; a generator trained "
        "with it keeps it, its shape model refitted to --data (default: off)",
    )
    p.add_argument(
        "--shape-components",
        "--shape_components",
        type=int,
        default=12,
        help="with --condition-on-shape, principal components of the shape variation that the condition does not "
        "explain, drawn at random for each new face (default: 12)",
    )
    p.add_argument(
        "--feature-loss-weight",
        "--feature_loss_weight",
        type=float,
        default=0.0,
        help="with --condition-on-shape, weigh the loss on the eyes, brows, nose and lips (within 2 px of their "
        "contours in the landmark map) 1 + this many times the rest of the face, each image's weights scaled to "
        "mean 1; the features are small at 64 px and hold most of a syndrome's gestalt (default: 0, equal weights)",
    )
    p.add_argument(
        "--snr_gamma",
        "--snr-gamma",
        type=float,
        default=None,
        help="Min-SNR loss weighting with this ceiling (Hang et al. 2023; 5 is their choice), which trains "
        "faster by stopping low-noise steps from dominating; default: off (plain mean squared error)",
    )
    p.add_argument(
        "--timestep_bias_strategy",
        "--timestep-bias-strategy",
        choices=TIMESTEP_BIAS_STRATEGIES,
        default="none",
        help="draw some training timesteps more often (diffusers' SDXL example flags): 'later' favours the "
        "noisiest --timestep_bias_portion, where the face's layout and so the syndrome's gestalt is drawn; "
        "'earlier' the least noisy; 'range' --timestep_bias_begin..--timestep_bias_end; default: none (uniform)",
    )
    p.add_argument(
        "--timestep_bias_multiplier",
        "--timestep-bias-multiplier",
        type=float,
        default=1.0,
        help="how many times as often the favoured timesteps are drawn (default: 1.0, no bias)",
    )
    p.add_argument(
        "--timestep_bias_portion",
        "--timestep-bias-portion",
        type=float,
        default=0.25,
        help="fraction of the timesteps that 'later' and 'earlier' favour (default: 0.25)",
    )
    p.add_argument(
        "--timestep_bias_begin",
        "--timestep-bias-begin",
        type=int,
        default=0,
        help="first favoured timestep for 'range' (default: 0)",
    )
    p.add_argument(
        "--timestep_bias_end",
        "--timestep-bias-end",
        type=int,
        default=1000,
        help="end (exclusive) of the favoured timesteps for 'range' (default: 1000)",
    )
    p.add_argument(
        "--time-scale-shift",
        "--resnet_time_scale_shift",
        choices=("default", "scale_shift"),
        default="default",
        help="how the timestep-plus-condition embedding enters each ResNet block of a new UNet: 'default' adds "
        "it before the group norm; 'scale_shift' scales and shifts the normalised features (AdaGN, Dhariwal "
        "& Nichol 2021), a stronger conditioning (default: default; ignored with --init-from)",
    )
    p.add_argument(
        "--ema-max-decay", "--ema_max_decay", type=float, default=0.999, help="EMA decay ceiling (default: 0.999)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of initialisation, batches and noise (default: 0)")
    p.add_argument(
        "--checkpointing_steps",
        "--checkpointing-steps",
        type=int,
        default=500,
        help="save a resumable checkpoint every N steps (default: 500)",
    )
    p.add_argument(
        "--sample-every",
        "--sample_every",
        type=int,
        default=500,
        help="write a fixed-seed sample grid (one face per class) to --out/samples every N steps; 0: never "
        "(default: 500)",
    )
    add_run_args(
        p,
        "autocast precision; fp16 needs a GPU; bf16 runs on GPUs and on CPUs with AVX-512 BF16 or AMX, "
        "where it is about twice as fast (default: no)",
    )
    return p


def check_args(args: argparse.Namespace) -> None:
    """Raise ValueError with one clear sentence for arguments that cannot work."""
    if not (args.data / "metadata.csv").is_file():
        raise ValueError(f"--data {args.data} has no metadata.csv")
    if args.pretrain_steps < 0 or args.max_train_steps < 0 or args.pretrain_steps + args.max_train_steps < 1:
        raise ValueError("--pretrain-steps and --max-train-steps must be >= 0 and not both 0")
    if args.pretrain_steps and args.pretrain_data is None:
        raise ValueError("--pretrain-steps needs --pretrain-data")
    if args.pretrain_data is not None and not (args.pretrain_data / "metadata.csv").is_file():
        raise ValueError(f"--pretrain-data {args.pretrain_data} has no metadata.csv")
    if args.init_from is not None and not (args.init_from / "model_index.json").is_file():
        raise ValueError(f"--init-from {args.init_from} is not a pipeline folder (no model_index.json)")
    if args.init_from is not None and args.pretrain_steps:
        raise ValueError("use either --init-from or --pretrain-steps, not both")
    if args.per_class is not None and args.per_class < 1:
        raise ValueError("--per-class must be at least 1")
    if args.resolution not in (32, 48, 64, 96, 128):
        raise ValueError("--resolution must be 32, 48, 64, 96 or 128")
    if args.batch_size < 1 or args.lr <= 0 or not 0 <= args.condition_dropout < 1:
        raise ValueError("--batch-size must be >= 1, --lr > 0 and --condition-dropout in [0, 1)")
    if not 1 <= args.shape_components <= 64:
        raise ValueError("--shape-components must be 1 to 64")
    if not 0 <= args.hpo_dropout < 1:
        raise ValueError("--hpo-dropout must be in [0, 1)")
    if not 0 <= args.feature_loss_weight <= 100:
        raise ValueError("--feature-loss-weight must be 0 to 100")
    if args.snr_gamma is not None and not args.snr_gamma > 0:
        raise ValueError("--snr_gamma must be positive")
    if not args.timestep_bias_multiplier > 0 or not 0 < args.timestep_bias_portion <= 1:
        raise ValueError("--timestep_bias_multiplier must be > 0 and --timestep_bias_portion in (0, 1]")
    if args.timestep_bias_strategy == "range" and not 0 <= args.timestep_bias_begin < args.timestep_bias_end <= 1000:
        raise ValueError("--timestep_bias_begin and --timestep_bias_end need 0 <= begin < end <= 1000")
    if args.checkpointing_steps < 1 or args.checkpoints_total_limit < 1 or args.sample_every < 0:
        raise ValueError("--checkpointing_steps and --checkpoints_total_limit must be >= 1, --sample-every >= 0")
    try:
        channels = tuple(int(c) for c in args.block_out_channels.split(","))
    except ValueError:
        raise ValueError("--block-out-channels must be integers separated by commas, e.g. 32,64,128,128") from None
    if len(channels) < 2 or any(c < 16 or c % 16 for c in channels):
        raise ValueError("--block-out-channels needs at least two levels, each a multiple of 16")
    if args.resolution % (2 ** (len(channels) - 1)):
        raise ValueError(f"--resolution {args.resolution} must divide by {2 ** (len(channels) - 1)} for that UNet")
    if args.mixed_precision == "fp16" and not torch.cuda.is_available():
        raise ValueError("--mixed_precision fp16 needs a GPU; on a CPU use bf16 (or no)")
    check_out_is_free(args.out, args.resume_from_checkpoint)
