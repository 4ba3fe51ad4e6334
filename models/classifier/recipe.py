"""The classifier's optimisation recipe, shared by its training script and the experiment's arms.

Class-weighted, label-smoothed cross-entropy; AdamW; a linear warm-up then a cosine decay of the
learning rate to zero (Loshchilov & Hutter 2017, 2019). `models.classifier.train` runs it over
epochs with Accelerate; `models.experiments.cells` over a fixed number of steps, so that every arm of
the experiment differs only in its data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from models.classifier.data import class_weights


@dataclass
class Optimisation:
    """What one training step needs: the loss, the optimiser and its learning-rate schedule."""

    loss_fn: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR


def warmup_cosine(step: int, warmup: int, total: int) -> float:
    """Learning-rate factor at `step`: linear warm-up over `warmup` steps, then cosine to 0 at `total`."""
    return min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, step / max(1, total))))


def optimisation(
    model: nn.Module,
    train_labels: Sequence[int],
    num_classes: int,
    *,
    lr: float,
    weight_decay: float,
    label_smoothing: float,
    total_steps: int,
    warmup_steps: int,
) -> Optimisation:
    """Build the loss (weighted by inverse class frequency in `train_labels`), AdamW and its schedule.

    Args:
        model: the network whose parameters are optimised.
        train_labels: class index of every training image.
        num_classes: number of classes.
        lr: peak learning rate.
        weight_decay: AdamW's decoupled weight decay.
        label_smoothing: cross-entropy label smoothing (Szegedy et al. 2016).
        total_steps: optimiser steps of the whole run.
        warmup_steps: steps of linear warm-up (at least 1).
    """
    loss_fn = nn.CrossEntropyLoss(
        weight=class_weights(list(train_labels), num_classes), label_smoothing=label_smoothing
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    warm = max(1, warmup_steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: warmup_cosine(s, warm, total_steps))
    return Optimisation(loss_fn, optimizer, scheduler)
