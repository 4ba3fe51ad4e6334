"""The classifier's config, saved as ``config.json`` beside ``model.safetensors``.

The config holds everything needed to rebuild the network and to prepare its input, so
preprocessing is derived from the saved file and cannot drift from the weights (as timm's
``pretrained_cfg`` travels with a timm model). The network itself is in `models.classifier.model`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from models.constants import UNAFFECTED

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


@dataclass
class ClassifierConfig:
    """What a trained syndrome classifier is and how its input is prepared."""

    backbone: str = "resnet18"  # timm model name, built with timm.create_model(backbone, pretrained=False)
    classes: list[str] = field(default_factory=list)  # class names (catalogue keys) in logit order
    input_size: int = 112  # aligned crop width and height in pixels (models.alignment)
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)  # per-channel mean of RGB in [0, 1]
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)  # per-channel std of RGB in [0, 1]
    alignment: str = "arcface112-eyes-mouth"  # alignment template of the crop (see models.alignment.TEMPLATE_112)
    drop_rate: float = 0.0  # dropout before the classifier head
    trained_on: str = "synthetic"  # provenance of the training images
    temperature: float = 1.0  # logits are divided by it (temperature scaling, models.classifier.calibrate)

    def save(self, folder: str | Path) -> Path:
        """Write ``config.json`` into `folder` (created if missing) atomically; returns its path."""
        from models.files import write_text

        path = Path(folder) / CONFIG_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_text(path, json.dumps(dataclasses.asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, folder: str | Path) -> ClassifierConfig:
        """Read ``config.json`` from a model folder (or the file itself).

        Raises:
            ValueError: the file has unknown keys or no classes.
        """
        path = Path(folder)
        path = path if path.suffix == ".json" else path / CONFIG_NAME
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{path}: not a classifier config (a JSON object is expected)")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"{path}: unknown config keys {', '.join(sorted(unknown))}")
        config = cls(**data)
        config.mean, config.std = tuple(config.mean), tuple(config.std)
        if not config.classes:
            raise ValueError(f"{path}: no classes")
        if not (isinstance(config.temperature, (int, float)) and 0 < config.temperature < float("inf")):
            raise ValueError(f"{path}: temperature must be a positive number, not {config.temperature!r}")
        return config

    @property
    def unaffected_index(self) -> int | None:
        """Index of the ``unaffected`` class, or None when the model has none."""
        return self.classes.index(UNAFFECTED) if UNAFFECTED in self.classes else None
