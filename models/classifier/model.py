"""The syndrome classifier's network (`Classifier`, an ``nn.Module`` around a timm backbone) and its
weights on disk: `load_classifier` is the one way to load a trained classifier, `save_weights` the
one way to write one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from models.classifier.config import CONFIG_NAME, WEIGHTS_NAME, ClassifierConfig


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
            (B, K) float32 logits, K = len(config.classes), divided by the calibrated temperature
            (`models.classifier.calibrate`; 1 while training), so that their softmax is calibrated.
        """
        logits = self.net((x - self.mean) / self.std)  # (B, K)
        return logits if self.config.temperature == 1.0 else logits / self.config.temperature

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


def predict_logits(model: Classifier, crops: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Logits of aligned crops, batched under ``torch.inference_mode``: the one batched-prediction loop.

    Args:
        model: a `Classifier` in eval mode (on any device).
        crops: (N, S, S, 3) uint8 aligned crops, S = ``model.config.input_size``.
        batch_size: crops per forward pass.

    Returns:
        (N, K) float32 logits, K = len(model.config.classes); (0, K) for no crops.
    """
    device = next(model.parameters()).device
    out = []
    with torch.inference_mode():
        for i in range(0, len(crops), batch_size):
            x = to_tensor(torch.from_numpy(np.ascontiguousarray(crops[i : i + batch_size]))).to(device)
            out.append(model(x).float().cpu().numpy())  # (B, K)
    return np.concatenate(out) if out else np.zeros((0, len(model.config.classes)), dtype=np.float32)


def predict_proba(model: Classifier, crops: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Softmax probabilities of aligned crops, (N, S, S, 3) uint8 -> (N, K) float64 (see `predict_logits`)."""
    logits = torch.from_numpy(predict_logits(model, crops, batch_size))
    return logits.softmax(1).numpy().astype(np.float64)
