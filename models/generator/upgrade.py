"""Bring a generator folder saved before 2026-12-07 to the component layout, in place, weights unchanged.

    python -m models.generator.upgrade assets/generator

Older folders kept the shape model as JSON inside ``model_index.json``, the privacy index as
``privacy_index.safetensors`` beside the pipeline (applied by the caller, not by the pipeline), a
DDIM scheduler although every figure sampled with DPM-Solver++, and the class names and HPO
vocabulary in both ``model_index.json`` and ``generator_config.json``. The upgraded folder has
``shape_model/`` and ``privacy_checker/`` components (`models.generator.components`) that the
pipeline applies, DPM-Solver++ 2M as its scheduler, and the class names and vocabulary once. The
UNet's weights are not touched (their SHA-256 stays); samples are the same bytes as before.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

#: The old privacy index file.
LEGACY_INDEX = "privacy_index.safetensors"
#: What `PhenoFacePipeline.save_pretrained` writes, moved into the folder on success.
_PIPELINE_PARTS = ("model_index.json", "pipeline.py", "scheduler", "unet", "shape_model", "privacy_checker")


def _legacy_checker(folder: Path):
    """The privacy checker built from an old ``privacy_index.safetensors`` (vectors and thresholds), or None."""
    from safetensors import SafetensorError, safe_open

    from models.generator.privacy_index import Thresholds, build_checker

    path = folder / LEGACY_INDEX
    if not path.is_file():
        return None
    try:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
            vectors = f.get_tensor("vectors")
    except (SafetensorError, OSError) as e:
        raise ValueError(f"{path} is not a readable privacy index ({e})") from None
    default = Thresholds()
    thresholds = Thresholds(
        max_distance=float(meta.get("max_distance", default.max_distance)),
        max_ratio=float(meta.get("max_ratio", default.max_ratio)),
        min_ssim=float(meta.get("min_ssim", default.min_ssim)),
        source=meta.get("source", "unknown"),
    )
    return build_checker(vectors, thresholds)


def upgrade(folder: str | Path) -> bool:
    """Upgrade generator `folder` in place; returns False when it already has the component layout.

    The new pipeline is saved completely under a temporary name inside `folder` first; only then are
    its parts moved in and the old index deleted.

    Raises:
        ValueError: `folder` is not a PhenoFace generator folder, or a part of it is unreadable.
        OSError: `folder` cannot be written.
    """
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler, UNet2DConditionModel

    from models.files import write_text
    from models.generator.components import PhenoFaceShapeModel
    from models.generator.config import sampler
    from models.generator.pipeline import PhenoFacePipeline

    folder = Path(folder)
    try:
        index = json.loads((folder / "model_index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ValueError(f"{folder} is not a generator folder (no readable model_index.json)") from None
    if index.get("_class_name") != "PhenoFacePipeline":
        raise ValueError(f"{folder} holds a {index.get('_class_name')!r}, not a PhenoFacePipeline")
    if isinstance(index.get("privacy_checker"), list) or (
        isinstance(index.get("shape_model"), list) and not (folder / LEGACY_INDEX).is_file()
    ):
        return False
    unet = UNet2DConditionModel.from_pretrained(folder / "unet", use_safetensors=True, local_files_only=True)
    scheduler_class = index.get("scheduler", [None, "DDIMScheduler"])[1]
    old = DPMSolverMultistepScheduler if scheduler_class == "DPMSolverMultistepScheduler" else DDIMScheduler
    scheduler = sampler(old.from_pretrained(folder / "scheduler"), "dpm++")
    shape = index.get("shape_model")
    pipe = PhenoFacePipeline(
        unet=unet,
        scheduler=scheduler,
        shape_model=PhenoFaceShapeModel.from_arrays(shape) if isinstance(shape, dict) else None,
        privacy_checker=_legacy_checker(folder),
        class_names=index["class_names"],
        weights_sha256=index.get("weights_sha256", ""),
        hpo_release=index.get("hpo_release", ""),
        hpo_vocabulary=index.get("hpo_vocabulary") or [],
    )
    tmp = folder / f".upgrade-{secrets.token_hex(4)}"
    try:
        pipe.save_pretrained(tmp)
        for part in _PIPELINE_PARTS:
            target = folder / part
            if target.is_dir():
                shutil.rmtree(target)
            if (tmp / part).exists():
                os.replace(tmp / part, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    (folder / LEGACY_INDEX).unlink(missing_ok=True)
    config_path = folder / "generator_config.json"
    if config_path.is_file():
        config = json.loads(config_path.read_text(encoding="utf-8"))
        for key in ("class_names", "hpo_vocabulary"):
            config.pop(key, None)
        write_text(config_path, json.dumps(config, indent=2) + "\n")
    return True


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser (also used by ``--help``)."""
    p = argparse.ArgumentParser(
        prog="python -m models.generator.upgrade",
        description="Upgrade a PhenoFace generator folder saved before 2026-12-07 to the component layout "
        "(shape_model/ and privacy_checker/ components, DPM-Solver++ scheduler), in place; the UNet's weights "
        "are not touched.",
    )
    p.add_argument("folder", type=Path, help="generator folder (with model_index.json)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run; returns 0 (upgraded or already current) or 2 (bad folder)."""
    args = build_parser().parse_args(argv)
    try:
        changed = upgrade(args.folder)
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{args.folder}: {'upgraded' if changed else 'already in the component layout'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
