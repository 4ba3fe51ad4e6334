"""Shared pieces of the saliency benchmarks: renders prepared as the classifier sees them, the target rule.

A `Case` is one render aligned to the classifier's 112 px crop, with its counterfactual (the same
child without the feature or syndrome, warped with the *same* transform, so only what the feature
changed differs) and the renderer's region masks in crop pixels.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import nn

from models.alignment import CROP_SIZE, align_face
from models.classifier.model import predict_logits
from models.faces import APP_ENGINE, draw_face
from models.phenotype.spec import RenderSpec
from models.saliency import attribute, warp_masks

#: The command line's settings: the defaults of `models.saliency.attribute`, read from its signature so
#: the benchmarks cannot drift from them (the app caps some of them: `models.saliency.app_settings`).
ATTRIBUTE_DEFAULTS: dict[str, float] = {
    k: p.default for k, p in inspect.signature(attribute).parameters.items() if k in ("steps", "samples", "window")
}


def add_setting_args(p: argparse.ArgumentParser) -> None:
    """Add --steps, --samples and --window to a benchmark's parser, defaulting to `ATTRIBUTE_DEFAULTS`."""
    from benchmarks.common import bounded

    d = ATTRIBUTE_DEFAULTS
    p.add_argument("--steps", type=bounded(int, 1), default=d["steps"], help=f"IG steps (default: {d['steps']})")
    p.add_argument(
        "--samples", type=bounded(int, 1), default=d["samples"], help=f"SmoothGrad samples (default: {d['samples']})"
    )
    p.add_argument(
        "--window", type=bounded(int, 1), default=d["window"], help=f"Occlusion window, px (default: {d['window']})"
    )


TARGET_MODES: tuple[str, ...] = ("contrast", "syndrome")


@dataclass
class Case:
    """One render prepared for attribution.

    Attributes:
        name: a short label (``"child3/HP:0000316"``, ``"down/seed123"``).
        crop: (112, 112, 3) uint8 aligned crop.
        baseline: (112, 112, 3) uint8 counterfactual crop (same child, no feature / intensity 0, same transform).
        regions: region name -> (112, 112) bool, the render's masks warped into the crop.
        syndrome: the rendered syndrome (catalogue key).
        features: HPO ids asked for (single-feature cases) or realised (syndromic cases).
        present: HPO ids that pass their threshold on this child.
    """

    name: str
    crop: np.ndarray
    baseline: np.ndarray
    regions: dict[str, np.ndarray]
    syndrome: str
    features: tuple[str, ...]
    present: tuple[str, ...]


def prepare(spec: RenderSpec, twin: RenderSpec, name: str, align: str = "mesh", engine: str = APP_ENGINE) -> Case:
    """Render `spec` and its counterfactual `twin` and align both with the transform of `spec`'s image.

    Args:
        spec: the child to explain.
        twin: the same child without what is explained (``features=()`` or ``intensity=0``).
        name: label of the case.
        align: ``"mesh"`` (Face Mesh landmarks, as in training and the app; falls back to the
            render's landmarks when no face is found) or ``"landmarks"`` (the render's own, faster).
        engine: the phenotype engine that draws both (`models.faces.PHENOTYPE` or `PHENOTYPE_3D`; default
            the app's, the one the shipped classifier was trained on).
    """
    sample, base = draw_face(spec, engine, masks=True).sample, draw_face(twin, engine).sample
    aligned = None
    if align == "mesh":
        try:
            aligned = align_face(sample.image)
        except ValueError:
            aligned = None
    if aligned is None:
        aligned = align_face(sample.image, landmarks=sample.landmarks)
    baseline = cv2.warpAffine(
        base.image, aligned.matrix, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return Case(
        name=name,
        crop=aligned.image,
        baseline=baseline,
        regions=warp_masks(sample.masks, aligned.matrix, CROP_SIZE),
        syndrome=sample.spec.syndrome if sample.spec is not None else spec.syndrome,
        features=tuple(spec.features) if spec.features is not None else tuple(sample.hpo_realised),
        present=tuple(sample.hpo_present),
    )


def twin_of(spec: RenderSpec) -> RenderSpec:
    """The counterfactual of a syndromic spec: the same child at intensity 0."""
    return dataclasses.replace(spec, intensity=0.0)


def to_batch(crops: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """(B, S, S, 3) uint8 -> (B, 3, S, S) float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float().div(255).to(device)


def choose_target(model: nn.Module, crop: np.ndarray, mode: str = "contrast") -> tuple[int, int | None]:
    """The class to explain and the class subtracted from it.

    Args:
        model: a `models.classifier.model.Classifier`.
        crop: (112, 112, 3) uint8.
        mode: ``"contrast"``: the model's top predicted syndrome (argmax over every class but
            ``unaffected``) minus the ``unaffected`` logit, i.e. what makes the face look syndromic
            (plain predicted class for a model without an ``unaffected`` class); ``"syndrome"``:
            the predicted class (which may be ``unaffected``), plain logit.

    Returns:
        (target index, contrast index or None).
    """
    if mode not in TARGET_MODES:
        raise ValueError(f"unknown target mode {mode!r}; one of {', '.join(TARGET_MODES)}")
    with torch.inference_mode():
        logits = model(to_batch(crop[None], next(model.parameters()).device))[0]  # (K,)
    u = model.config.unaffected_index
    if mode == "syndrome" or u is None:
        return int(logits.argmax()), None
    masked = logits.clone()
    masked[u] = -float("inf")
    return int(masked.argmax()), u


def scores(model: nn.Module, crops: np.ndarray, target: int, contrast: int | None, batch: int = 32) -> np.ndarray:
    """Target score (logit, or logit minus the contrast logit) of each crop; (B, S, S, 3) uint8 -> (B,) float64."""
    logits = predict_logits(model, crops, batch)  # (B, K) float32
    return (logits[:, target] - (logits[:, contrast] if contrast is not None else 0.0)).astype(np.float64)
