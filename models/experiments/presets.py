"""Sizes of the synthetic-versus-real protocol (`models.experiments.synthetic_vs_real`): one `Preset` per named run.

``smoke`` runs every stage in a minute or two (the test suite runs it); ``paper`` is the research
setting ("Synthetic Data Alone is Enough? Rethinking Data Scarcity in Pediatric Rare Disease
Recognition", 2026: about 5 real photographs per condition, synthetic sets of growing size). With
one prior it took 4.7 hours on a 2-core CPU (2026-12-03); with the two priors, HPO and shape
conditioning and the 3D child it needs about twice that (two generators, their samples and
twice the synthetic arms), which is a GPU's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.constants import UNAFFECTED


@dataclass(frozen=True)
class Preset:
    """Sizes of one run of the protocol.

    Attributes:
        name: preset name.
        classes: class keys (None: the whole catalogue plus unaffected).
        real_train_per_class, val_per_class, test_per_class: children per class in each split.
        render_size: pixels of the simulated cohort images (before alignment).
        resolution: generator and classifier input width/height in pixels.
        pretrain_images: simulated unaffected children for the generator's stage 1.
        gen_channels: generator UNet channels per level.
        gen_pretrain_steps, gen_finetune_steps, gen_batch: generator training.
        gen_precision: mixed precision of generator training ("bf16" is about twice as fast on CPUs with
            AVX-512 BF16).
        sample_steps, guidance: DPM-Solver++ steps and classifier-free guidance when sampling.
        scales: synthetic images per class of the synthetic-only arms.
        backbones: timm backbones.
        seeds: classifier seeds per cell.
        steps, batch, lr: classifier optimiser steps, batch size and peak AdamW learning rate (same for every arm).
        priors: the generator priors run side by side (`FACE_PRIOR`, `FEATURE_PRIOR`), each pretrained,
            fine-tuned, sampled and judged on its own; the classifier arms run once per prior.
        gen_hpo, gen_shape, gen_feature_loss: the generator recipe (`models.generator.train`'s
            ``--condition-on-hpo``, ``--condition-on-shape``, ``--feature-loss-weight``), the same for every prior.
        engine: the phenotype engine that draws the simulated cohorts.
    """

    name: str
    classes: tuple[str, ...] | None
    real_train_per_class: int
    val_per_class: int
    test_per_class: int
    render_size: int
    resolution: int
    pretrain_images: int
    gen_channels: tuple[int, ...]
    gen_pretrain_steps: int
    gen_finetune_steps: int
    gen_batch: int
    gen_precision: str
    sample_steps: int
    guidance: float
    scales: tuple[int, ...]
    backbones: tuple[str, ...]
    seeds: tuple[int, ...]
    steps: int
    batch: int
    lr: float = 2e-3
    priors: tuple[str, ...] = ("unaffected", "features")
    gen_hpo: bool = True
    gen_shape: bool = True
    gen_feature_loss: float = 12.0
    engine: str = "phenotype_3d"
    notes: str = field(default="", compare=False)


BACKBONES = ("resnet18", "efficientnet_b0", "mobilenetv3_large_100", "convnext_atto")
#: The generator's stage 1, by name: a prior of unaffected children's faces, which knows no features
#: (the protocol's first), and a prior of children drawn with features but no syndrome
#: (`models.experiments.data.feature_subjects`), which knows features but no syndromes.
FACE_PRIOR, FEATURE_PRIOR = "unaffected", "features"

PRESETS: dict[str, Preset] = {
    # every stage of the protocol, tiny: a minute or two on 2 CPU cores (run in the test suite)
    "smoke": Preset(
        name="smoke",
        classes=(UNAFFECTED, "down", "williams_beuren"),
        real_train_per_class=3,
        val_per_class=2,
        test_per_class=3,
        render_size=128,
        resolution=32,
        pretrain_images=8,
        gen_channels=(16, 32),
        gen_pretrain_steps=4,
        gen_finetune_steps=4,
        gen_batch=4,
        gen_precision="no",
        sample_steps=3,
        guidance=2.0,
        scales=(1, 2, 3, 4, 5),
        backbones=BACKBONES,
        seeds=(0,),
        steps=3,
        batch=8,
        gen_shape=False,  # 32 px crops are too small to find landmarks in
        gen_feature_loss=0.0,
        notes="checks the pipeline end to end; its numbers mean nothing",
    ),
    # the research setting at CPU scale: sized for about 8 hours on a 2-core CPU (see README)
    "paper": Preset(
        name="paper",
        classes=None,
        real_train_per_class=5,
        val_per_class=5,
        test_per_class=20,
        render_size=128,
        resolution=64,
        pretrain_images=2000,
        gen_channels=(32, 64, 128, 128),
        gen_pretrain_steps=1500,
        gen_finetune_steps=800,
        gen_batch=32,
        gen_precision="bf16",
        sample_steps=20,
        guidance=2.0,
        scales=(10, 20, 50, 100, 200),
        backbones=BACKBONES,
        seeds=(0, 1, 2),
        steps=500,
        batch=32,
    ),
}
