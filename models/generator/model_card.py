"""The model card (``README.md``) written beside a trained generator."""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import torch

from models.generator.config import GeneratorConfig


def write_model_card(
    args: argparse.Namespace,
    config: GeneratorConfig,
    fine_rows: list[dict[str, Any]],
    pre_rows: list[dict[str, Any]],
    wall_s: float,
) -> Path:
    """Write ``README.md`` into ``args.out``: data, command, seed, hardware, wall time, loss curve summary, limits.

    Returns:
        The card's path.
    """
    history = []
    metrics = args.out / "metrics.jsonl"
    if metrics.is_file():
        history = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    per_class = Counter(r["syndrome"] for r in fine_rows)
    children = Counter(cls for cls, _ in {(r["syndrome"], r["subject_id"]) for r in fine_rows})
    lines = [
        "# PhenoFace conditional diffusion generator",
        "",
        "Synthetic faces of children, conditioned on syndrome, age, sex and Monk skin tone"
        + (" and on the HPO features each child shows. " if config.hpo_vocabulary else ". ")
        + "**For education and research only; not for diagnosis. Every image it makes is synthetic.**",
        "",
        "Load without PhenoFace installed:",
        "",
        "```python",
        "from diffusers import DiffusionPipeline",
        "",
        "pipe = DiffusionPipeline.from_pretrained(folder, custom_pipeline=folder, trust_remote_code=True)",
        'image = pipe(syndrome="williams_beuren", age_years=6, sex="female", skin_tone=4'
        + (f', hpo_terms=["{config.hpo_vocabulary[0]}"]' if config.hpo_vocabulary else "")
        + ").images[0]",
        "```",
        "",
        "## Model",
        f"- diffusers `UNet2DConditionModel`, {config.resolution} x {config.resolution} RGB, channels "
        f"{list(config.block_out_channels)}, self-attention at level(s) {list(config.attention_levels)}, "
        "condition vector (one-hot syndrome, age / 18, sex, Monk tone, flag"
        + (
            f", then the {len(config.hpo_vocabulary)} HPO features of the training data, each 1 where the child "
            f"shows it, hidden for {args.hpo_dropout:.0%} of training examples"
            if config.hpo_vocabulary
            else ""
        )
        + ") through a projection class embedding"
        + (
            ", which scales and shifts each ResNet block's normalised features (AdaGN)."
            if config.time_scale_shift == "scale_shift"
            else ", added to each ResNet block's features."
        )
        + (
            f" The UNet also reads a {config.shape_channels}-channel map of the face's contour landmarks (eyes and "
            "brows, nose and lips, face oval) as extra input channels; sampling draws each face's landmarks from a "
            "linear shape model, the pipeline's `shape_model/` component (a ridge regression of Face Mesh "
            f"landmarks on the condition plus {args.shape_components} principal components of the rest, fitted to "
            "the training crops; averages and components only, no child's own landmarks). The map is hidden with "
            "the condition, so guidance contrasts the shaped, conditioned face with the unconditioned one."
            if config.shape_channels
            else ""
        ),
        f"- Noise schedule: {config.num_train_timesteps} steps, `{config.beta_schedule}`, `{config.prediction_type}`; "
        "sampling with DPM-Solver++ 2M (the saved scheduler) or DDIM; classifier-free guidance "
        f"(condition dropout {config.condition_dropout}). EMA weights are saved.",
        f"- Classes ({len(config.class_names)}): {', '.join(config.class_names)}.",
        "",
        "## Training data",
        f"- Stage 1 (pretraining): {len(pre_rows)} aligned images of "
        + (
            "unaffected children"
            if getattr(args, "pretrain_labels", "unaffected") == "unaffected"
            else "children with features drawn independently of any syndrome, conditioned on their HPO features and "
            "on no syndrome"
        )
        + f" from `{args.pretrain_data}`, {args.pretrain_steps} steps."
        if args.pretrain_steps
        else f"- Stage 1: none in this run (started from `{args.init_from}`).",
        f"- Stage 2 (fine-tuning): {len(fine_rows)} images of {sum(children.values())} children from `{args.data}`"
        + (f" (at most {args.per_class} children per class)" if args.per_class else "")
        + f", {args.max_train_steps} steps.",
        "- Images per class: " + ", ".join(f"{k} {v}" for k, v in sorted(per_class.items())) + ".",
        "- The default data is a simulated cohort from PhenoFace's phenotype model (HPO-annotated, "
        "anthropometric norms of mostly European-ancestry children: Farkas 1994, Hall et al. 2007). "
        "If you trained on licensed photographs, the privacy index in this folder is derived from them"
        + (
            ", and so is the shape model in `shape_model/` (per-condition averages of their landmarks: with few "
            "photographs per syndrome, close to those children's own face shapes)."
            if config.shape_channels
            else "."
        ),
        "",
        "## Run",
        f"- Command: `python -m models.generator.train {' '.join(shlex.quote(a) for a in sys.argv[1:])}`",
        f"- Seed {args.seed}, batch {args.batch_size}, learning rate {args.lr}, mixed precision "
        f"`{args.mixed_precision}`, EMA decay up to {args.ema_max_decay}, loss "
        + ("mean squared error" if args.snr_gamma is None else f"Min-SNR-{args.snr_gamma:g} weighted")
        + (
            f", the eyes, brows, nose and lips weighted {1 + args.feature_loss_weight:g} times the rest of the face"
            if args.feature_loss_weight
            else ""
        )
        + _timestep_text(args)
        + ".",
        f"- Hardware: {_cpu()}, {torch.get_num_threads()} torch threads, "
        f"CUDA {'yes' if torch.cuda.is_available() else 'no'}; wall time {wall_s / 60:.1f} min.",
    ]
    if history:
        first, last = history[0], history[-1]
        lines.append(
            f"- Loss (mean over 50 steps): {first['loss']:.4f} at step {first['step']}, {last['loss']:.4f} at step "
            f"{last['step']}; throughput {last['images_per_s']} images/s at the end."
        )
    lines += [
        "",
        "## Limits",
        "- Small and trained briefly on one CPU: samples are soft at 64 px and some are not recognisable; "
        "see the quality figures in the project README.",
        "- It knows only the syndromes above and the ages, sexes and skin tones of its training data.",
        "- It has no notion of 'the same child': the same noise with another condition is a related face, "
        "not the same child without the syndrome.",
        "",
    ]
    path = args.out / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _timestep_text(args) -> str:
    """How the training timesteps were drawn, for the card (empty for the uniform draw)."""
    strategy = args.timestep_bias_strategy
    if strategy == "none" or args.timestep_bias_multiplier == 1:
        return ", timesteps drawn uniformly"
    band = (
        f"{args.timestep_bias_begin}-{args.timestep_bias_end - 1}"
        if strategy == "range"
        else f"the {'noisiest' if strategy == 'later' else 'least noisy'} {args.timestep_bias_portion:.0%}"
    )
    return f", timesteps in {band} drawn {args.timestep_bias_multiplier:g} times as often"


def _cpu() -> str:
    """The CPU as a card names it: its model and whether it does bfloat16 natively (bf16 runs emulated otherwise)."""
    from models.hardware import cpu_info

    info = cpu_info()
    if not info:
        return platform.processor() or platform.machine()
    bf16 = "native bfloat16" if info["native_bf16"] == "yes" else "no native bfloat16"
    return f"{info['cpu_model'] or platform.machine()} ({info['vector'].upper()}, {bf16})"
