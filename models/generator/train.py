"""Train PhenoFace's conditional diffusion generator in two stages.

    python -m models.generator.train --pretrain-data out/data/unaffected --pretrain-steps 1800 \\
        --data out/data/train --max-train-steps 2600 --out out/generator --mixed_precision bf16
    accelerate launch -m models.generator.train ...          # the same run on several GPUs or machines

Stage 1 pretrains on a large simulated population of unaffected children (``--pretrain-data``), or,
with ``--pretrain-labels none``, on children with features drawn independently of any syndrome,
conditioned on those features and on no syndrome (a prior that knows features but no syndromes);
stage 2 fine-tunes on a syndromic set (``--data``, at most ``--per-class`` children per syndrome),
as in the research PhenoFace follows (a generator pretrained on faces, then fine-tuned on a few
photographs per condition). ``--init-from`` starts stage 2 from an earlier run's pipeline instead.

Shaped like diffusers' own training examples: Accelerate, ``--mixed_precision``, EMA weights,
``checkpoint-<step>`` folders with ``--checkpoints_total_limit``, ``--resume_from_checkpoint latest``,
fixed-seed sample grids every ``--sample-every`` steps, and the resolved config saved to ``--out``.
Batches are drawn by a generator seeded with (seed, step, process), so a resumed run continues
exactly where it stopped. The last step is checkpointed too, so a finished run can be extended: the
same command with a larger ``--max-train-steps`` and ``--resume_from_checkpoint latest`` (the learning
rate goes back up and decays again over the new run's last fifth). ``--out`` ends up a diffusers
pipeline folder (model_index.json, unet/, scheduler/, pipeline.py) with ``generator_config.json``, ``train_args.json``,
``metrics.jsonl`` and a model card ``README.md``. Research and education only; not for diagnosis.
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

from models.constants import UNAFFECTED
from models.generator.components import PhenoFaceShapeModel
from models.generator.config import (
    GeneratorConfig,
    build_scheduler,
    build_unet,
    sampler,
    with_hpo_slots,
    with_shape_channels,
)
from models.generator.data import conditions, hpo_vocabulary, load_training_set
from models.generator.loss import diffusion_loss, feature_weights, timestep_weights
from models.generator.pipeline import PhenoFacePipeline, condition_dim, landmark_map
from models.generator.sample import draw_hpo_terms
from models.generator.shape import FEATURE_CHANNELS, SHAPE_CHANNELS, crop_landmarks, fit_shape_model
from models.generator.train_args import build_parser, check_args
from models.training import bf16_warning, find_checkpoint, prune_checkpoints, run_cli


def sample_grid(pipe: PhenoFacePipeline, seed: int = 0, steps: int = 25, guidance: float = 2.0) -> np.ndarray:
    """One face per class at age 6, alternating sex, Monk tones 2-9 in turn, fixed noise (and, for a
    generator conditioned on HPO terms, features drawn by the phenotype engine for the same seeds).

    Returns:
        (rows * R, cols * R, 3) uint8 grid, classes in the pipeline's order, left to right.
    """
    classes = pipe.class_names
    n = len(classes)
    seeds = [seed * 1000 + i for i in range(n)]
    ages, sexes, tones = (
        [6.0] * n,
        ["female" if i % 2 == 0 else "male" for i in range(n)],
        [2 + (i % 8) for i in range(n)],
    )
    terms = draw_hpo_terms(pipe.hpo_vocabulary, classes, ages, sexes, tones, seeds) if pipe.hpo_vocabulary else None
    images = pipe(
        syndrome=classes,
        age_years=ages,
        sex=sexes,
        skin_tone=tones,
        hpo_terms=[list(t) for t in terms] if terms is not None else None,
        num_inference_steps=steps,
        guidance_scale=guidance,
        generator=[torch.Generator().manual_seed(s) for s in seeds],
        output_type="np",
    ).images
    cols = math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    r = images.shape[1]
    grid = np.full((rows * r, cols * r, 3), 255, dtype=np.uint8)
    for i, im in enumerate(images):
        y, x = divmod(i, cols)
        grid[y * r : (y + 1) * r, x * r : (x + 1) * r] = (im * 255).round().astype(np.uint8)
    return grid


def _save_ema(ema, folder: Path) -> None:
    from safetensors.torch import save_file

    state = ema.state_dict()
    shadow = {f"p{i}": t.detach().cpu().contiguous() for i, t in enumerate(state.pop("shadow_params"))}
    save_file(shadow, str(folder / "ema.safetensors"))
    (folder / "ema.json").write_text(json.dumps({k: v for k, v in state.items() if not torch.is_tensor(v)}))


def _load_ema(ema, folder: Path) -> None:
    from safetensors.torch import load_file

    shadow = load_file(str(folder / "ema.safetensors"))
    state = json.loads((folder / "ema.json").read_text())
    state["shadow_params"] = [shadow[f"p{i}"] for i in range(len(shadow))]
    ema.load_state_dict(state)


def _load_pipeline(folder: Path, progress: bool) -> PhenoFacePipeline:
    """`models.generator.sample.load_pipeline(folder)`, without diffusers' loading bar when `progress` is False.

    diffusers' switch is process-wide, so it is put back as it was for whoever called `cli` in-process.
    """
    from diffusers.utils import logging as diffusers_logging

    was_enabled = diffusers_logging.is_progress_bar_enabled()
    if not progress:
        diffusers_logging.disable_progress_bar()
    try:
        from models.generator.sample import load_pipeline

        return load_pipeline(folder)
    finally:
        if was_enabled:
            diffusers_logging.enable_progress_bar()


def main(args: argparse.Namespace) -> int:
    """Train; returns the exit status (0 ok)."""
    from accelerate import Accelerator
    from accelerate.utils import ProjectConfiguration, set_seed
    from diffusers import UNet2DConditionModel
    from diffusers.training_utils import EMAModel

    from models.generator.model_card import write_model_card
    from models.phenotype.catalog import load_catalog

    start = time.time()
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    accelerator = Accelerator(
        mixed_precision=args.mixed_precision, project_config=ProjectConfiguration(project_dir=str(args.out))
    )
    log = (
        (lambda msg: print(msg, file=sys.stderr, flush=True))
        if accelerator.is_main_process and not args.quiet
        else (lambda _: None)
    )
    slow = bf16_warning(args.mixed_precision, accelerator.device.type != "cpu")
    if slow and accelerator.is_main_process:
        print(slow, file=sys.stderr)
    set_seed(args.seed)
    progress = accelerator.is_main_process and not args.quiet

    with accelerator.main_process_first():
        fine_images, fine_rows = load_training_set(
            args.data, args.resolution, args.per_class, args.seed, None, progress
        )
        pre_images, pre_rows = np.zeros((0, args.resolution, args.resolution, 3), np.uint8), []
        if args.pretrain_steps:
            pre_images, pre_rows = load_training_set(
                args.pretrain_data, args.resolution, None, args.seed, None, progress
            )
            if args.pretrain_labels == "unaffected":
                keep = [i for i, r in enumerate(pre_rows) if r["syndrome"] == UNAFFECTED]
                pre_images, pre_rows = pre_images[keep], [pre_rows[i] for i in keep]
            if not pre_rows:
                raise ValueError(f"--pretrain-data {args.pretrain_data} has no unaffected children with a face")

    if args.pretrain_labels == "none" and not args.condition_on_hpo:
        raise ValueError("--pretrain-labels none conditions stage 1 on HPO features: add --condition-on-hpo")
    # a prior that knows features keeps a slot for every feature it learned, not only those stage 2 shows
    vocabulary = hpo_vocabulary(fine_rows + (pre_rows if args.pretrain_labels == "none" else [])) if (
        args.condition_on_hpo
    ) else []  # fmt: skip
    if args.condition_on_hpo and not vocabulary:
        raise ValueError(f"--condition-on-hpo: no child in --data {args.data} has hpo_terms in metadata.csv")
    if args.init_from is not None:
        init_pipe = _load_pipeline(args.init_from, progress)
        classes = init_pipe.class_names
        missing = sorted({r["syndrome"] for r in fine_rows} - set(classes))
        if missing:
            raise ValueError(f"--init-from {args.init_from} does not know these classes of --data: {missing}")
        unet = init_pipe.unet
        config = GeneratorConfig.load(args.init_from)
        if config.resolution != args.resolution:
            raise ValueError(
                f"--init-from {args.init_from} draws {config.resolution} px faces; train it with --resolution "
                f"{config.resolution}, not {args.resolution}"
            )
        if vocabulary and not config.hpo_vocabulary:
            # a syndrome-only generator learns the HPO slots from here on; it starts out drawing as before
            config.hpo_vocabulary = vocabulary
            unet = with_hpo_slots(unet, config)
        if args.condition_on_shape and not config.shape_channels:
            config.shape_channels = SHAPE_CHANNELS
            unet = with_shape_channels(unet, config)
        # what the model is conditioned on, not what was typed, goes into train_args.json
        args.condition_on_shape = bool(config.shape_channels)
        args.condition_on_hpo = bool(config.hpo_vocabulary)
    else:
        seen = list(dict.fromkeys(r["syndrome"] for r in fine_rows))
        classes = [UNAFFECTED] + [c for c in seen if c != UNAFFECTED]
        config = GeneratorConfig(
            resolution=args.resolution,
            block_out_channels=tuple(int(c) for c in args.block_out_channels.split(",")),
            condition_dropout=args.condition_dropout,
            class_names=classes,
            time_scale_shift=args.time_scale_shift,
            hpo_vocabulary=vocabulary,
            shape_channels=SHAPE_CHANNELS if args.condition_on_shape else 0,
        )
        unet = build_unet(config)
    fine_cond, fine_keep = conditions(fine_rows, classes, config.hpo_vocabulary)
    pre_cond, pre_keep = conditions(pre_rows, classes, config.hpo_vocabulary)
    if args.pretrain_labels == "none":  # no syndrome at all in stage 1: its one-hot part stays empty
        pre_cond = pre_cond.clone()
        pre_cond[:, : len(classes)] = 0.0
    fine_x = torch.from_numpy(fine_images[fine_keep]).permute(0, 3, 1, 2).contiguous()  # (N, 3, R, R) uint8
    pre_x = torch.from_numpy(pre_images[pre_keep]).permute(0, 3, 1, 2).contiguous()
    shape_model, fine_map, pre_map = None, None, None  # a shape-conditioned run's model and (N, C, R, R) uint8 maps
    if args.feature_loss_weight and not config.shape_channels:
        raise ValueError("--feature-loss-weight finds the features in the landmark map: add --condition-on-shape")
    if config.shape_channels:
        fine_points = crop_landmarks(fine_images[fine_keep], Path(args.data) / ".cache", progress)
        pre_points = crop_landmarks(pre_images[pre_keep], Path(args.pretrain_data or args.data) / ".cache", progress)
        # the shape model is refitted on this run's data: it is what sampling will draw from
        shape_model = PhenoFaceShapeModel.from_arrays(
            fit_shape_model(
                np.concatenate([fine_points, pre_points]),
                torch.cat([fine_cond, pre_cond]).numpy(),
                args.shape_components,
            )
        )
        fine_map, pre_map = (_maps(p, args.resolution, shape_model) for p in (fine_points, pre_points))
        log(f"landmarks found in {int((~np.isnan(fine_points).any(axis=(1, 2))).sum())}/{len(fine_points)} images")
    if len(fine_x) == 0 or (args.pretrain_steps and len(pre_x) == 0):
        raise ValueError("no training image has age, sex and skin tone in its metadata")
    log(
        f"stage 1: {len(pre_x)} {STAGE1_WORDS[args.pretrain_labels]}, "
        f"{args.pretrain_steps} steps; stage 2: {len(fine_x)} images of "
        f"{len({r['subject_id'] for r in fine_rows})} children in {len(set(r['syndrome'] for r in fine_rows))} "
        f"classes, {args.max_train_steps} steps; UNet {sum(p.numel() for p in unet.parameters()) / 1e6:.2f} M "
        "parameters"
    )

    noise_scheduler = build_scheduler(config)
    t_weights = timestep_weights(
        config.num_train_timesteps,
        args.timestep_bias_strategy,
        args.timestep_bias_multiplier,
        args.timestep_bias_portion,
        args.timestep_bias_begin,
        args.timestep_bias_end,
    )
    ema = EMAModel(
        [p.detach().clone() for p in unet.parameters()],
        decay=args.ema_max_decay,
        use_ema_warmup=True,
        power=3 / 4,
        foreach=True,  # one fused update instead of a Python loop over ~200 tensors per step
    )
    optimizer = torch.optim.AdamW(unet.parameters(), lr=args.lr, weight_decay=1e-2)
    total = args.pretrain_steps + args.max_train_steps
    lr_sched = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / max(1, args.lr_warmup_steps)) * _tail(s, total)
    )
    unet, optimizer, lr_sched = accelerator.prepare(unet, optimizer, lr_sched)

    global_step = 0
    if args.resume_from_checkpoint:
        path = find_checkpoint(args.out, args.resume_from_checkpoint)
        if path is None:
            log("no checkpoint found in --out; starting a new run")
        else:
            try:
                accelerator.load_state(str(path))
            except RuntimeError:
                raise ValueError(
                    f"{path} was saved by a run with another UNet (--condition-on-shape, --condition-on-hpo, "
                    "--block-out-channels or --init-from differ); repeat that run's flags or use a new --out"
                ) from None
            _load_ema(ema, path)
            global_step = int(path.name.split("-")[1])
            log(f"resumed from {path} (step {global_step})")

    if accelerator.is_main_process:
        args.out.mkdir(parents=True, exist_ok=True)
        resolved = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
        (args.out / "train_args.json").write_text(json.dumps(resolved, indent=2) + "\n", encoding="utf-8")
        config.save(args.out)
        if global_step == 0:
            (args.out / "metrics.jsonl").write_text("", encoding="utf-8")

    def make_pipeline() -> PhenoFacePipeline:
        """A pipeline around a copy of the UNet carrying the EMA weights."""
        copy = UNet2DConditionModel.from_config(accelerator.unwrap_model(unet).config)
        copy.load_state_dict(accelerator.unwrap_model(unet).state_dict())
        ema.copy_to(copy.parameters())
        copy.eval()
        return PhenoFacePipeline(
            unet=copy,
            scheduler=sampler(build_scheduler(config), "dpm++"),
            class_names=classes,
            hpo_release=load_catalog().hpo_release,
            hpo_vocabulary=config.hpo_vocabulary,
            shape_model=shape_model if config.shape_channels else None,
        )

    def checkpoint() -> None:
        accelerator.wait_for_everyone()
        folder = args.out / f"checkpoint-{global_step}"
        if accelerator.is_main_process:
            prune_checkpoints(args.out, args.checkpoints_total_limit)
        accelerator.save_state(str(folder))
        if accelerator.is_main_process:
            _save_ema(ema, folder)

    def write_samples() -> None:
        from models.provenance import save_png

        (args.out / "samples").mkdir(parents=True, exist_ok=True)
        pipe = make_pipeline()
        pipe.set_progress_bar_config(disable=True)
        save_png(
            sample_grid(pipe, seed=0),
            args.out / "samples" / f"step-{global_step:06d}.png",
            {"generator": "phenoface.generator (training samples)", "step": global_step},
        )

    device = accelerator.device
    unet.train()
    window: list[float] = []
    tick = time.time()
    while global_step < total:
        stage = 1 if global_step < args.pretrain_steps else 2
        images, cond, maps = (pre_x, pre_cond, pre_map) if stage == 1 else (fine_x, fine_cond, fine_map)
        g = torch.Generator().manual_seed(args.seed * 1_000_003 + global_step * 97 + accelerator.process_index)
        idx = torch.randint(len(images), (args.batch_size,), generator=g)
        x = images[idx].float() / 127.5 - 1.0  # (B, 3, R, R) in [-1, 1]
        flip = torch.rand(args.batch_size, generator=g) < 0.5
        x[flip] = x[flip].flip(-1)
        c = cond[idx].clone()
        dropped = torch.rand(args.batch_size, generator=g) < args.condition_dropout
        c[dropped] = 0.0
        if config.hpo_vocabulary:
            c[torch.rand(args.batch_size, generator=g) < args.hpo_dropout, condition_dim(len(classes)) :] = 0.0
        noise = torch.randn(x.shape, generator=g)
        t = torch.multinomial(t_weights, args.batch_size, replacement=True, generator=g)
        x, c, noise, t = x.to(device), c.to(device), noise.to(device), t.to(device)
        noisy = noise_scheduler.add_noise(x, noise, t)
        weights = None
        if maps is not None:
            m = maps[idx].float() / 255.0
            m[flip] = m[flip].flip(-1)
            if args.feature_loss_weight:
                # from the real map, so that examples shown the null condition still weigh their features
                weights = feature_weights(m, FEATURE_CHANNELS, args.feature_loss_weight).to(device)
            m[dropped] = 0.0  # the null condition has no shape either
            noisy = torch.cat([noisy, m.to(device)], 1)
        target = noise_scheduler.get_velocity(x, noise, t) if config.prediction_type == "v_prediction" else noise
        with accelerator.autocast():
            pred = unet(noisy, t, encoder_hidden_states=None, class_labels=c).sample  # (B, 3, R, R)
        loss = diffusion_loss(pred, target, t, noise_scheduler, args.snr_gamma, config.prediction_type, weights)
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(unet.parameters(), 1.0)
        optimizer.step()
        lr_sched.step()
        optimizer.zero_grad(set_to_none=True)
        ema.step(accelerator.unwrap_model(unet).parameters())
        global_step += 1
        window.append(float(loss.detach()))
        if global_step % 50 == 0 or global_step == total:
            record = {
                "step": global_step,
                "stage": stage,
                "loss": round(float(np.mean(window)), 5),
                "lr": lr_sched.get_last_lr()[0],
                "images_per_s": round(
                    len(window) * args.batch_size * accelerator.num_processes / (time.time() - tick), 1
                ),
                "wall_s": round(time.time() - start, 1),
            }
            window, tick = [], time.time()
            log(json.dumps(record))
            if accelerator.is_main_process:
                with open(args.out / "metrics.jsonl", "a", encoding="utf-8") as f:
                    f.write(json.dumps(record) + "\n")
        if global_step % args.checkpointing_steps == 0 and global_step < total:
            checkpoint()
        if args.sample_every and global_step % args.sample_every == 0 and accelerator.is_main_process:
            write_samples()

    if not (args.out / f"checkpoint-{global_step}").is_dir():
        # a finished run can be extended: the same command with a larger --max-train-steps and
        # --resume_from_checkpoint latest continues from here
        checkpoint()
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        pipe = make_pipeline()
        save_pipeline(pipe, args.out)
        if args.sample_every:
            write_samples()
        write_model_card(args, config, fine_rows, pre_rows, wall_s=time.time() - start)
        log(f"wrote the pipeline to {args.out} in {time.time() - start:.0f} s")
    accelerator.end_training()
    return 0


def _maps(points: np.ndarray, resolution: int, shape_model: PhenoFaceShapeModel) -> torch.Tensor:
    """(N, C, R, R) uint8 landmark maps of (N, P, 2) landmarks (empty where none were found)."""
    out = []
    for s in range(0, len(points), 256):
        out.append(
            (landmark_map(points[s : s + 256], shape_model.edge_list(), resolution, shape_model.channels) * 255)
            .round()
            .to(torch.uint8)
        )
    return torch.cat(out) if out else torch.zeros(0, shape_model.channels, resolution, resolution, dtype=torch.uint8)


def _tail(step: int, total: int) -> float:
    """Learning-rate factor: 1, then a cosine decay to 0.1 over the last fifth of the run."""
    start = 0.8 * total
    if step < start:
        return 1.0
    return 0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, (step - start) / max(1.0, total - start))))


def save_pipeline(pipe: PhenoFacePipeline, folder: Path) -> str:
    """Save `pipe` to `folder` and record the UNet weights' SHA-256 in its config; returns the hash."""
    import hashlib

    pipe.save_pretrained(folder)
    weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    pipe.register_to_config(weights_sha256=digest)
    pipe.save_config(folder)
    return digest


#: What stage 1's images are, by ``--pretrain-labels``.
STAGE1_WORDS = {"unaffected": "unaffected images", "none": "images without a syndrome (features only)"}


def cli(argv: Sequence[str] | None = None) -> int:
    """Parse, check and run; bad arguments exit 2 with a one-line message."""
    return run_cli(build_parser, check_args, main, argv)


if __name__ == "__main__":
    sys.exit(cli())
