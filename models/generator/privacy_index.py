"""The memorisation filter's thresholds, and putting the privacy checker into a generator folder.

The filter itself is a pipeline component (`models.generator.components.PhenoFacePrivacyChecker`,
the folder's ``privacy_checker/``): 128-dimensional Gaussian random projections of the training
crops (`models.generator.identity.vectors`; no image) with the flag thresholds set by
`models.generator.audit.calibrate`. Every call of the pipeline applies it and blanks what it flags;
`models.generator.sample.generate` redraws those. When the training data are licensed
photographs, the checker is derived from them.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from models.files import write_text
from models.generator.components import PhenoFacePrivacyChecker

#: The checker's folder inside a generator folder (its name in model_index.json).
CHECKER = "privacy_checker"


@dataclass
class Thresholds:
    """Flag rules, calibrated on same-child re-renders versus different children (`models.generator.audit.calibrate`).

    A sample is flagged when ``d1 <= max_distance and ratio <= max_ratio`` (the runtime filter,
    projected space) or, in the audit, when its SSIM to a training image is ``>= min_ssim``.

    Attributes:
        max_distance: projected RMS distance, in SD of standardised pixels.
        max_ratio: nearest / second-nearest distance.
        min_ssim: SSIM (0 to 1) of the central crop.
        source: how the thresholds were set.
    """

    max_distance: float = 0.25
    max_ratio: float = 0.6
    min_ssim: float = 0.85
    source: str = "uncalibrated defaults"


def build_checker(vectors: torch.Tensor, thresholds: Thresholds) -> PhenoFacePrivacyChecker:
    """The checker for (N, 128) float training `vectors` (`models.generator.identity.vectors`) and `thresholds`.

    Raises:
        ValueError: vectors not (N, 128) with N >= 1, or thresholds out of range.
    """
    return PhenoFacePrivacyChecker.from_vectors(vectors, **asdict(thresholds))


def thresholds_of(checker: PhenoFacePrivacyChecker) -> Thresholds:
    """The `Thresholds` a checker applies."""
    c = checker.config
    return Thresholds(float(c.max_distance), float(c.max_ratio), float(c.min_ssim), str(c.source))


def load_checker(folder: str | Path) -> PhenoFacePrivacyChecker | None:
    """The privacy checker of generator `folder`, or None when it has none.

    Raises:
        ValueError: the checker's folder is there but unreadable (corrupt weights or config).
    """
    from safetensors import SafetensorError

    path = Path(folder) / CHECKER
    if not (path / "config.json").is_file():
        return None
    try:
        return PhenoFacePrivacyChecker.from_pretrained(path, use_safetensors=True, local_files_only=True)
    except (OSError, ValueError, TypeError, KeyError, RuntimeError, SafetensorError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
        raise ValueError(f"{path} is not a readable privacy checker ({first}); rebuild it with "
                         "python -m models.generator.audit --index") from None  # fmt: skip


def install(folder: str | Path, checker: PhenoFacePrivacyChecker) -> Path:
    """Put `checker` into generator `folder` as its ``privacy_checker`` component, replacing any older one.

    The component is written completely under a temporary name and then renamed into place, and
    ``model_index.json`` is rewritten atomically to name it, so a reader sees the old checker or the
    new one, never half of one.

    Returns:
        The component's folder.

    Raises:
        ValueError: `folder` has no model_index.json (not a generator folder).
        OSError: `folder` cannot be written (the old checker stays).
    """
    folder = Path(folder)
    index_path = folder / "model_index.json"
    if not index_path.is_file():
        raise ValueError(f"{folder} is not a generator folder (no model_index.json)")
    index = json.loads(index_path.read_text(encoding="utf-8"))
    final = folder / CHECKER
    tmp = folder / f".{CHECKER}.{secrets.token_hex(4)}.tmp"
    old = folder / f".{CHECKER}.{secrets.token_hex(4)}.old"
    try:
        checker.save_pretrained(tmp, safe_serialization=True)
        shutil.copyfile(Path(__file__).with_name("components.py"), tmp / "components.py")
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
    except BaseException:
        if old.exists() and not final.exists():
            os.replace(old, final)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
    index[CHECKER] = ["components", type(checker).__name__]
    write_text(index_path, json.dumps(index, indent=2, sort_keys=True) + "\n")
    return final
