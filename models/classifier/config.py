"""The classifier's config, saved as ``config.json`` beside ``model.safetensors``, and the model wrapper.

The config holds everything needed to rebuild the network and to prepare its input, so
preprocessing is derived from the saved file and cannot drift from the weights (as timm's
``pretrained_cfg`` travels with a timm model). `load_classifier` is the one way to load a
trained classifier.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from models.constants import UNAFFECTED

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


@dataclass
class ClassifierConfig:
    """What a trained syndrome classifier is and how its input is prepared."""

    backbone: str = "resnet18"  # timm model name, built with timm.create_model(backbone, pretrained=False)
    classes: list[str] = field(default_factory=list)  # class names (catalogue keys) in logit order
    input_size: int = 112  # aligned crop width and height in pixels (models.classifier.preprocess)
    mean: tuple[float, float, float] = (0.485, 0.456, 0.406)  # per-channel mean of RGB in [0, 1]
    std: tuple[float, float, float] = (0.229, 0.224, 0.225)  # per-channel std of RGB in [0, 1]
    alignment: str = "arcface112-eyes-mouth"  # alignment template of the crop (see preprocess.TEMPLATE_112)
    drop_rate: float = 0.0  # dropout before the classifier head
    trained_on: str = "synthetic"  # provenance of the training images

    def save(self, folder: str | Path) -> Path:
        """Write ``config.json`` into `folder` (created if missing); returns its path."""
        path = Path(folder) / CONFIG_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n", encoding="utf-8")
        return path

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
        return config

    @property
    def unaffected_index(self) -> int | None:
        """Index of the ``unaffected`` class, or None when the model has none."""
        return self.classes.index(UNAFFECTED) if UNAFFECTED in self.classes else None


class Classifier(nn.Module):
    """A timm backbone that takes unnormalised images; normalisation comes from the config.

    Taking [0, 1] images keeps attribution baselines (black, blurred, counterfactual) in pixel
    space, where they mean something.
    """

    def __init__(self, config: ClassifierConfig) -> None:
        super().__init__()
        import timm  # heavy import, only where used

        self.config = config
        self.net = timm.create_model(
            config.backbone, pretrained=False, num_classes=len(config.classes), drop_rate=config.drop_rate
        )
        self.register_buffer("mean", torch.tensor(config.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(config.std).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of aligned crops.

        Args:
            x: (B, 3, S, S) float32 RGB in [0, 1], S = config.input_size.

        Returns:
            (B, K) float32 logits, K = len(config.classes).
        """
        return self.net((x - self.mean) / self.std)  # (B, K)

    def gradcam_layer(self) -> nn.Module:
        """The last spatial feature stage (timm ``feature_info[-1]``), the usual Grad-CAM layer."""
        return self.net.get_submodule(self.net.feature_info[-1]["module"])


def to_tensor(crops: torch.Tensor) -> torch.Tensor:
    """(B, S, S, 3) uint8 crops -> (B, 3, S, S) float32 in [0, 1]."""
    return crops.permute(0, 3, 1, 2).float().div(255.0)


def load_classifier(folder: str | Path, device: str | torch.device = "cpu") -> Classifier:
    """Load a trained classifier from a folder holding ``config.json`` and ``model.safetensors``.

    Only safetensors are read (never a pickle), and the weights must match the config exactly.

    Returns:
        `Classifier` in eval mode on `device`.

    Raises:
        FileNotFoundError: a file is missing.
        ValueError: the config is not valid JSON or not a classifier config, the weights file is not
            a safetensors file, or the weights do not fit the config (e.g. another number of classes).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder / name} not found: not a classifier folder")
    try:
        config = ClassifierConfig.load(folder)
    except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as err:
        raise ValueError(f"{folder / CONFIG_NAME} is not a classifier config: {err}") from None
    try:
        state = load_file(str(folder / WEIGHTS_NAME))
    except (SafetensorError, OSError) as err:
        raise ValueError(
            f"{folder / WEIGHTS_NAME} is not a safetensors file ({err}); PhenoFace reads no other weight format"
        ) from None
    try:
        model = Classifier(config)
    except RuntimeError as err:  # timm: an unknown backbone name
        raise ValueError(f"{folder / CONFIG_NAME}: cannot build backbone {config.backbone!r}: {err}") from None
    try:
        model.net.load_state_dict(state)
    except RuntimeError as err:
        head = [v for k, v in state.items() if k.endswith(".weight") and v.ndim == 2]
        found = f" the weights have {head[-1].shape[0]} classes," if head else ""
        raise ValueError(
            f"the weights in {folder} do not fit its config ({config.backbone}, {len(config.classes)} classes;"
            f"{found} {str(err).splitlines()[0]})"
        ) from None
    return model.to(device).eval()


def save_weights(model: Classifier, folder: str | Path) -> Path:
    """Write the backbone's weights (timm key names, loadable by plain timm) as ``model.safetensors``."""
    from safetensors.torch import save_file

    path = Path(folder) / WEIGHTS_NAME
    state = {k: v.detach().cpu().contiguous() for k, v in model.net.state_dict().items()}
    save_file(state, str(path), metadata={"format": "pt", "backbone": model.config.backbone})
    return path
