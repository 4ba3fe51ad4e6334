"""Saliency maps of the syndrome classifier (Captum), their region breakdown and overlays.

`explain` is the one entry point: image in, `Explanation` out. ``python -m models.saliency`` does
the same from the command line. Research and education only; not for diagnosis.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from torch import nn

from models.alignment import TURNED_HEAD, ImageInput, align_face, head_turn, load_rgb
from models.constants import UNAFFECTED
from models.saliency.attribution import (
    APP_SETTINGS,
    BASELINES,
    METHODS,
    PRECISIONS,
    Attribution,
    app_settings,
    attribute,
    make_baseline,
)
from models.saliency.regions import RegionShare, mesh_regions, overlay, region_breakdown, warp_masks

__all__ = [
    "APP_SETTINGS",
    "PRECISIONS",
    "app_settings",
    "BASELINES",
    "METHODS",
    "Attribution",
    "Explanation",
    "RegionShare",
    "attribute",
    "explain",
    "make_baseline",
    "mesh_regions",
    "overlay",
    "region_breakdown",
    "render_of",
    "warp_masks",
]


@dataclass
class Explanation:
    """A saliency map of one face and what it shows.

    Attributes:
        crop: (112, 112, 3) uint8 aligned crop that was explained.
        attribution: the map (`Attribution`), shaped like `crop`.
        overlay: (336, 336, 3) uint8 heat-map overlay (cividis).
        regions: per-region share of positive attribution, most area-dense first.
        region_source: ``"render masks"`` or ``"face mesh"``.
        hpo_present: HPO ids present on the image, when it is a PhenoFace render; else empty.
        warnings: sentences on why the map may not mean much (e.g. a face turned away from the
            camera: the classifier saw only frontal faces); empty when there is nothing to say.
    """

    crop: np.ndarray
    attribution: Attribution
    overlay: np.ndarray
    regions: list[RegionShare]
    region_source: str
    hpo_present: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def render_of(path: str | Path) -> tuple[Any, str] | None:
    """The `RenderSpec` stored in a PhenoFace render's PNG metadata and the phenotype engine that drew it
    (`models.faces.PHENOTYPE` or ``PHENOTYPE_3D``), or None for other images."""
    from models import provenance
    from models.faces import PHENOTYPE, PHENOTYPE_3D
    from models.phenotype.spec import RenderSpec

    try:
        info = provenance.read_png_metadata(path)
        spec = json.loads(info["spec"])
    except (OSError, KeyError, ValueError, SyntaxError):
        return None
    if not isinstance(spec, dict):
        return None
    if spec.get("features") is not None:
        spec["features"] = tuple(spec["features"])
    # renders from before the "engine" key: only the 3D engine wrote its head model's notice
    engine = info.get("engine") or (PHENOTYPE_3D if "head_model" in info else PHENOTYPE)
    if engine not in (PHENOTYPE, PHENOTYPE_3D):
        return None
    try:
        return RenderSpec(**spec), engine
    except TypeError:
        return None


def explain(
    model: nn.Module,
    image: ImageInput,
    method: str = "integrated_gradients",
    *,
    target: str | int | None = None,
    contrast: str | None = UNAFFECTED,
    baseline: str = "black",
    baseline_image: ImageInput | None = None,
    sample=None,
    **kwargs: Any,
) -> Explanation:
    """Align a face, attribute the classifier's score and break the map down by facial region.

    Args:
        model: a loaded `models.classifier.model.Classifier`.
        image: file path (a PhenoFace render's PNG metadata is used for its masks and its
            counterfactual), bytes, PIL image or array.
        method: one of `METHODS`.
        target: class to explain; None for the predicted class.
        contrast: class whose logit is subtracted (default ``"unaffected"``; None for the plain
            logit). Ignored when the model lacks that class or it is the target.
        baseline: ``"black"``, ``"blurred"`` or ``"counterfactual"`` (IG and SmoothGrad).
        baseline_image: the counterfactual image (same child, no syndrome, same framing); for a
            PhenoFace render file it is re-rendered at intensity 0 when not given.
        sample: the `FaceSample` the image was drawn from (its masks and HPO terms), when the caller has it;
            else a PhenoFace render file is drawn again from its metadata, by the engine that drew it,
            to get them.
        **kwargs: passed to `attribute` (steps, samples, noise, window, seed, precision).

    Returns:
        `Explanation`.

    Raises:
        ValueError: no face / several faces, unknown method or class, or a counterfactual baseline
            without a counterfactual image.
    """
    aligned = align_face(image)
    size = aligned.image.shape[0]
    from models.faces import APP_ENGINE, draw_face

    engine = APP_ENGINE  # what drew a sample the caller passes: the app's engine
    found = render_of(image) if isinstance(image, (str, Path)) else None
    if found is not None:
        engine = found[1]
        if sample is None:
            sample = draw_face(found[0], engine, masks=True).sample
    if sample is not None:
        if (sample.image.shape[1], sample.image.shape[0]) != aligned.source_size:
            sample = None  # resized or cropped after rendering: its masks no longer fit
    base: str | np.ndarray = baseline
    if baseline == "counterfactual":
        if baseline_image is None and sample is not None:
            baseline_image = draw_face(dataclasses.replace(sample.spec, intensity=0.0), engine).unmarked
        if baseline_image is None:
            raise ValueError("the counterfactual baseline needs --baseline-image (or a PhenoFace render file)")
        # the same transform as the image, so only what the syndrome changed differs
        base = cv2.warpAffine(
            load_rgb(baseline_image),
            aligned.matrix,
            (size, size),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
    classes = list(model.config.classes)
    if contrast is not None and contrast not in classes:
        contrast = None
    attr = attribute(model, aligned.image, method, target=target, contrast=contrast, baseline=base, **kwargs)
    if sample is not None:
        regions, source = warp_masks(sample.masks, aligned.matrix, size), "render masks"
    else:
        regions, source = mesh_regions(aligned.mesh, size), "face mesh"
    warnings = ()
    if aligned.mesh is not None and head_turn(aligned.mesh) > TURNED_HEAD:
        warnings = (
            "The face is turned away from the camera; the classifier was trained on frontal faces only, "
            "so this map says little. Use a frontal image.",
        )
    return Explanation(
        crop=aligned.image,
        attribution=attr,
        overlay=overlay(aligned.image, attr.heatmap),
        regions=region_breakdown(attr.heatmap, regions),
        region_source=source,
        hpo_present=tuple(sample.hpo_present) if sample is not None else (),
        warnings=warnings,
    )
