"""An operator's own local diffusers pipeline, offered by the app as a third generator.

The operator names the folder on the command line (``python app.py --external-pipeline DIR``);
a web user can never choose a path. A PhenoFace pipeline folder is loaded with
`models.generator.sample.load_generator` (conditions, memorisation filter); any other diffusers
pipeline is treated as text-to-image and prompted in words. Nothing is ever downloaded
(``local_files_only=True``).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

_LOADED: dict[str, tuple[str, object, object]] = {}  # shared read-only pipelines, per folder
_LOCK = threading.Lock()


def age_phrase(age: float) -> str:
    """``6 -> "6-year-old"``, ``0.5 -> "6-month-old"``, ``0 -> "newborn"`` (for prompts)."""
    if age >= 1:
        return f"{age:g}-year-old"
    months = round(12 * age)
    return f"{months}-month-old" if months else "newborn"


def skin_phrase(level: int) -> str:
    """Monk level in words for a text prompt (1-3 light, 4-7 medium, 8-10 dark)."""
    return "light" if level <= 3 else "medium" if level <= 7 else "dark"


def prompt(age: float, sex: str, skin_tone: int, syndrome_name: str | None) -> str:
    """The text prompt for an external text-to-image pipeline.

    e.g. ``"portrait photograph of a 6-year-old girl with Williams syndrome, light skin tone"``.
    """
    child = {"female": "girl", "male": "boy"}.get(sex, "child")
    with_it = f" with {syndrome_name}" if syndrome_name else ""
    return f"portrait photograph of a {age_phrase(age)} {child}{with_it}, {skin_phrase(skin_tone)} skin tone"


def load_external(folder: Path) -> tuple[str, object]:
    """The operator's local pipeline, loaded once per folder and shared read-only.

    Returns:
        ``("phenoface", pipe)`` for a PhenoFace pipeline folder (model_index.json ``_class_name ==
        "PhenoFacePipeline"``), loaded with `models.generator.sample.load_generator` (its privacy
        checker applies); else ``("text", diffusers pipeline)``,
        loaded with ``DiffusionPipeline.from_pretrained(folder, local_files_only=True, use_safetensors=True)``
        (a pickled ``.bin`` is refused, never unpickled).

    Raises:
        ValueError: the folder is not a diffusers pipeline or fails to load (nothing is downloaded).
    """
    key = str(Path(folder).resolve())
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        index_file = Path(folder) / "model_index.json"
        try:
            class_name = json.loads(index_file.read_text()).get("_class_name")
        except (OSError, ValueError):
            raise ValueError("the external pipeline folder holds no readable model_index.json") from None
        if class_name == "PhenoFacePipeline":
            from models.generator.sample import load_generator

            loaded = ("phenoface", load_generator(folder))
        else:
            from diffusers import DiffusionPipeline

            try:
                pipe = DiffusionPipeline.from_pretrained(folder, local_files_only=True, use_safetensors=True)
            except Exception as err:  # noqa: BLE001 - any loading failure becomes one readable sentence
                raise ValueError(f"the external pipeline ({class_name}) could not be loaded: {err}") from None
            pipe.set_progress_bar_config(disable=True)
            loaded = ("text", pipe)
        _LOADED[key] = loaded
        return loaded


def run_text_pipeline(pipe, text: str, seed: int, steps: int, guidance: float) -> np.ndarray:
    """One image from a text-to-image diffusers pipeline, square-cropped.

    Args:
        pipe: a diffusers pipeline that takes ``prompt``, ``num_inference_steps``, ``guidance_scale``
            and ``generator``.
        text: the prompt.
        seed: noise seed.
        steps, guidance: sampler steps and classifier-free guidance weight.

    Returns:
        (S, S, 3) uint8 RGB, the centre square of the pipeline's first image.

    Raises:
        ValueError: the pipeline failed or returned no image.
    """
    import torch

    try:
        with _LOCK:  # a pipeline's scheduler is stateful: one request at a time
            out = pipe(
                prompt=text,
                num_inference_steps=steps,
                guidance_scale=guidance,
                generator=torch.Generator().manual_seed(int(seed)),
            )
        image = np.asarray(out.images[0].convert("RGB") if hasattr(out.images[0], "convert") else out.images[0])
    except Exception as err:  # noqa: BLE001 - an operator's pipeline may fail in any way
        raise ValueError(f"the external pipeline failed: {err}") from None
    if image.dtype != np.uint8:
        image = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return np.ascontiguousarray(image[top : top + side, left : left + side, :3])
