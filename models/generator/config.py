"""The generator's architecture and noise schedule as a dataclass, and the diffusers components it builds.

Sizing (measured on the 2-core EPYC CPU of our development machines, batch 32, 64 x 64 pixels):
the default UNet has 4.0 M parameters and trains at about 26 images/s under bf16 autocast
(14 images/s in float32), so the two-stage default run sees about 140 000 images in 90 minutes.
Attention sits only at 8 x 8, where it is cheap; the 64 x 64 level dominates the cost.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from models.files import write_text
from models.generator.pipeline import condition_dim

#: Fields of `GeneratorConfig` that the pipeline's model_index.json stores instead.
_IN_MODEL_INDEX = ("class_names", "hpo_vocabulary")


@dataclass
class GeneratorConfig:
    """UNet and noise-schedule settings, saved as ``generator_config.json`` beside the training output.

    Attributes:
        resolution: image width and height in pixels.
        block_out_channels: UNet channels per resolution level (64, 32, 16, 8 px at 64 px input).
        layers_per_block: ResNet blocks per level.
        attention_levels: indices of the levels with self-attention.
        norm_num_groups: GroupNorm groups (divides every entry of block_out_channels).
        num_train_timesteps: diffusion steps of the training schedule.
        beta_schedule: diffusers beta schedule name (cosine: Nichol & Dhariwal 2021).
        prediction_type: ``"v_prediction"`` (Salimans & Ho 2022; steadier at few sampling steps) or
            ``"epsilon"``.
        condition_dropout: probability of training on the null condition (classifier-free guidance).
        class_names: syndrome keys in condition order, ``unaffected`` first.
        time_scale_shift: diffusers' ``resnet_time_scale_shift``: ``"default"`` adds the timestep-plus-
            condition embedding to each ResNet block's features before its group norm; ``"scale_shift"``
            scales and shifts the normalised features (AdaGN, Dhariwal & Nichol 2021, "Diffusion models
            beat GANs on image synthesis"), which they found conditions more strongly.
        hpo_vocabulary: HPO ids the UNet is also conditioned on, one condition slot each (the features
            each training child shows, from metadata.csv's ``hpo_terms``); empty for a generator
            conditioned on the syndrome alone.
        shape_channels: channels of the landmark map the UNet also reads (``--condition-on-shape``; 3:
            eyes and brows, nose and lips, face oval), 0 for none.
    """

    resolution: int = 64
    block_out_channels: tuple[int, ...] = (32, 64, 128, 128)
    layers_per_block: int = 1
    attention_levels: tuple[int, ...] = (3,)
    norm_num_groups: int = 16
    num_train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"
    prediction_type: str = "v_prediction"
    condition_dropout: float = 0.1
    class_names: list[str] = field(default_factory=list)
    time_scale_shift: str = "default"
    hpo_vocabulary: list[str] = field(default_factory=list)
    shape_channels: int = 0

    def save(self, folder: str | Path) -> Path:
        """Write ``generator_config.json`` into `folder`; returns its path.

        The class names and HPO vocabulary are left out: the pipeline's ``model_index.json`` keeps them,
        once (`load` reads them from there).
        """
        data = {k: v for k, v in asdict(self).items() if k not in _IN_MODEL_INDEX}
        return write_text(Path(folder) / "generator_config.json", json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, folder: str | Path) -> GeneratorConfig:
        """Read ``generator_config.json`` from `folder`, with the class names and HPO vocabulary from its
        ``model_index.json``. Raises FileNotFoundError or ValueError."""
        data = json.loads((Path(folder) / "generator_config.json").read_text())
        index = Path(folder) / "model_index.json"
        if index.is_file():
            pipeline = json.loads(index.read_text())
            data.update({k: pipeline[k] for k in _IN_MODEL_INDEX if k in pipeline})
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown generator config keys: {sorted(unknown)}")
        for key in ("block_out_channels", "attention_levels"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)


def build_unet(config: GeneratorConfig):
    """A freshly initialised ``UNet2DConditionModel`` for `config` (random weights, float32)."""
    from diffusers import UNet2DConditionModel

    if not config.class_names:
        raise ValueError("the generator config needs class_names")
    levels = len(config.block_out_channels)
    down = tuple("AttnDownBlock2D" if i in config.attention_levels else "DownBlock2D" for i in range(levels))
    up = tuple("AttnUpBlock2D" if i in config.attention_levels else "UpBlock2D" for i in reversed(range(levels)))
    return UNet2DConditionModel(
        sample_size=config.resolution,
        in_channels=3 + config.shape_channels,
        out_channels=3,
        down_block_types=down,
        up_block_types=up,
        mid_block_type="UNetMidBlock2D",
        block_out_channels=tuple(config.block_out_channels),
        layers_per_block=config.layers_per_block,
        norm_num_groups=config.norm_num_groups,
        attention_head_dim=8,
        resnet_time_scale_shift=config.time_scale_shift,
        class_embed_type="projection",
        projection_class_embeddings_input_dim=condition_dim(len(config.class_names), len(config.hpo_vocabulary)),
    )


def with_hpo_slots(unet, config: GeneratorConfig):
    """A copy of a trained syndrome-only `unet` whose condition also has `config.hpo_vocabulary`'s slots.

    The new slots' input weights of the class-embedding projection start at zero (as diffusers'
    inpainting fine-tunes start the extra input channels of ``conv_in`` at zero), so the copy computes
    exactly what `unet` did until fine-tuning teaches it what each HPO feature looks like.

    Args:
        unet: ``UNet2DConditionModel`` built by `build_unet` for `config` without a vocabulary.
        config: the same config with ``hpo_vocabulary`` set.

    Returns:
        A new float32 ``UNet2DConditionModel``.

    Raises:
        ValueError: `config` has no vocabulary, or `unet` does not match `config` without one.
    """
    import torch

    if not config.hpo_vocabulary:
        raise ValueError("the config has no hpo_vocabulary to add")
    if unet.config.projection_class_embeddings_input_dim != condition_dim(len(config.class_names)):
        raise ValueError("the UNet's condition is not the syndrome-only condition of this config")
    wider = build_unet(config)
    state = unet.state_dict()
    key = "class_embedding.linear_1.weight"
    old = state[key]  # (E, D_old)
    grown = torch.zeros(old.shape[0], wider.state_dict()[key].shape[1], dtype=old.dtype)
    grown[:, : old.shape[1]] = old
    state[key] = grown
    wider.load_state_dict(state)
    return wider


def with_shape_channels(unet, config: GeneratorConfig):
    """A copy of a trained `unet` that also reads `config.shape_channels` landmark-map channels.

    The new input channels of ``conv_in`` start at zero weight (diffusers' inpainting fine-tunes grow
    ``conv_in`` the same way), so the copy draws exactly what `unet` did until fine-tuning teaches it
    to follow the map.

    Args:
        unet: ``UNet2DConditionModel`` with 3 input channels, built by `build_unet` for `config` with
            ``shape_channels=0``.
        config: the same config with ``shape_channels`` set.

    Returns:
        A new float32 ``UNet2DConditionModel``.

    Raises:
        ValueError: `config` has no shape channels, or `unet` already reads more than the image.
    """
    import torch

    if not config.shape_channels:
        raise ValueError("the config has no shape_channels to add")
    if unet.config.in_channels != 3:
        raise ValueError(f"the UNet already reads {unet.config.in_channels} input channels")
    wider = build_unet(config)
    state = unet.state_dict()
    old = state["conv_in.weight"]  # (C_out, 3, k, k)
    grown = torch.zeros(old.shape[0], 3 + config.shape_channels, *old.shape[2:], dtype=old.dtype)
    grown[:, :3] = old
    state["conv_in.weight"] = grown
    wider.load_state_dict(state)
    return wider


def build_scheduler(config: GeneratorConfig):
    """The training noise schedule as a ``DDIMScheduler`` (trailing timesteps suit few sampling steps)."""
    from diffusers import DDIMScheduler

    return DDIMScheduler(
        num_train_timesteps=config.num_train_timesteps,
        beta_schedule=config.beta_schedule,
        prediction_type=config.prediction_type,
        clip_sample=True,
        timestep_spacing="trailing",
        set_alpha_to_one=True,
    )


def sampler(scheduler, name: str):
    """A scheduler with `scheduler`'s noise schedule for sampler ``"ddim"`` or ``"dpm++"`` (DPM-Solver++ 2M,
    Lu et al. 2022, trailing timesteps: the sampler saved with the pipeline and used by the app's figures).

    Raises:
        ValueError: unknown sampler name.
    """
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler

    if name == "ddim":
        return DDIMScheduler.from_config(scheduler.config)
    if name in ("dpm++", "dpmsolver++"):
        return DPMSolverMultistepScheduler.from_config(
            scheduler.config, algorithm_type="dpmsolver++", solver_order=2, timestep_spacing="trailing"
        )
    raise ValueError(f"sampler must be 'ddim' or 'dpm++', not {name!r}")


def use_sampler(pipe, name: str):
    """Switch `pipe` to sampler ``"ddim"`` or ``"dpm++"`` (see `sampler`) in place; returns `pipe`.

    Raises:
        ValueError: unknown sampler name.
    """
    pipe.scheduler = sampler(pipe.scheduler, name)
    return pipe
