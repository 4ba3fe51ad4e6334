"""One cell of the experiment: a classifier trained for a fixed number of steps on one arm, then scored.

Used by `models.experiments.synthetic_vs_real`; every cell writes its own result file, so a stopped
run resumes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from models.experiments.presets import Preset
from models.files import write_text


def train_cell(
    backbone: str,
    images: np.ndarray,
    labels: np.ndarray,
    classes: Sequence[str],
    preset: Preset,
    seed: int,
    synthetic: np.ndarray | None = None,
):
    """Train one classifier for exactly ``preset.steps`` steps; returns it in eval mode.

    Batches are drawn with replacement by a seeded generator, class-weighted by inverse
    frequency in the loss, augmented as `models.classifier.data.train_transform`.

    Args:
        images: (N, R, R, 3) uint8 crops; labels: (N,) int class indices.
        synthetic: (N,) bool, which images are synthetic, for an arm that mixes real and synthetic
            images: each batch then draws half of its images from each (at 100 synthetic per class and 5
            real, uniform draws put 20 synthetic images in a batch for every real one); None draws
            uniformly from all.
    """
    from models.classifier.config import ClassifierConfig
    from models.classifier.data import train_transform
    from models.classifier.model import Classifier, to_tensor
    from models.classifier.recipe import optimisation

    torch.manual_seed(seed)
    config = ClassifierConfig(backbone=backbone, classes=list(classes), input_size=preset.resolution, drop_rate=0.2)
    model = Classifier(config)
    augment = train_transform(config)
    x_all = torch.from_numpy(np.ascontiguousarray(images))
    y_all = torch.from_numpy(labels.astype(np.int64))
    recipe = optimisation(
        model, labels.tolist(), len(classes), lr=preset.lr, weight_decay=0.05, label_smoothing=0.1,
        total_steps=preset.steps, warmup_steps=preset.steps // 20,
    )  # fmt: skip
    loss_fn, opt, sched = recipe.loss_fn, recipe.optimizer, recipe.scheduler
    model.train()
    for idx in batch_indices(len(x_all), preset.batch, preset.steps, seed, synthetic):
        x = torch.stack([augment(t).clamp(0, 1) for t in to_tensor(x_all[idx])])
        loss = loss_fn(model(x), y_all[idx])
        loss.backward()
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
    return model.eval()


def batch_indices(
    n: int, batch: int, steps: int, seed: int, synthetic: np.ndarray | None = None
) -> Iterator[torch.Tensor]:
    """The images of each training batch: ``steps`` (batch,) int64 index tensors into ``n`` images.

    Drawn with replacement by a generator seeded with ``seed``; uniformly from all images, or, when
    ``synthetic`` ((n,) bool) marks a mix of real and synthetic images, half from each (the odd one
    from the real).
    """
    g = torch.Generator().manual_seed(seed)
    pools = [torch.arange(n)]
    if synthetic is not None and synthetic.any() and not synthetic.all():
        pools = [torch.from_numpy(np.flatnonzero(~synthetic)), torch.from_numpy(np.flatnonzero(synthetic))]
    shares = [batch // len(pools) + (i < batch % len(pools)) for i in range(len(pools))]
    for _ in range(steps):
        yield torch.cat(
            [pool[torch.randint(len(pool), (k,), generator=g)] for pool, k in zip(pools, shares, strict=True)]
        )


def score(model, images: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Per-syndrome mean top-1/5/10 accuracy and balanced accuracy of `model` on (N, R, R, 3) uint8 crops."""
    from sklearn.metrics import balanced_accuracy_score

    from models.classifier.metrics import per_syndrome_mean_topk
    from models.classifier.model import predict_proba

    p = predict_proba(model, images, batch_size=128)
    return {
        "top1": per_syndrome_mean_topk(p, labels, 1),
        "top5": per_syndrome_mean_topk(p, labels, 5),
        "top10": per_syndrome_mean_topk(p, labels, 10),
        "balanced_accuracy": float(balanced_accuracy_score(labels, p.argmax(1))),
    }


def run_cell(
    path: Path, backbone: str, arm: str, scale: int, seed: int, data, preset: Preset, prior: str | None = None
) -> dict[str, Any]:
    """Train and score one cell unless its result file exists; returns the result record (``prior``: the
    generator prior of a synthetic arm, None for real-only)."""
    if path.is_file():
        return json.loads(path.read_text())
    images, labels, *synthetic = data["arm"]
    start = time.time()
    model = train_cell(backbone, images, labels, data["classes"], preset, seed, synthetic[0] if synthetic else None)
    record = {
        "backbone": backbone,
        "arm": arm,
        "prior": prior,
        "synthetic_per_class": scale,
        "seed": seed,
        "train_images": int(len(labels)),
        "batches": "half real, half synthetic" if synthetic else "uniform",
        "steps": preset.steps,
        "val": score(model, *data["val"]),
        "test": score(model, *data["test"]),
        "wall_s": round(time.time() - start, 1),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(record, indent=1))
    return record
