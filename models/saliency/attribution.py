"""Attribution maps of the syndrome classifier with Captum.

Methods (`METHODS`): Integrated Gradients (Sundararajan et al. 2017), Saliency (Simonyan et al.
2014, absolute gradient), Layer Grad-CAM on the backbone's last feature stage (Selvaraju et al.
2017), upsampled to the image with Captum's ``LayerAttribution.interpolate``, Occlusion (Zeiler
and Fergus 2014) and SmoothGrad, i.e. NoiseTunnel around IG (Smilkov et al. 2017).

Target: a class logit, or (``contrast``) that logit minus the ``unaffected`` logit, so the map shows
what makes the face look syndromic rather than what makes it look like a face.

Baselines of IG (and of NoiseTunnel around it): ``"black"`` (zeros), ``"blurred"`` (Gaussian blur,
sigma 6 px at 112 px, which keeps skin tone and layout but removes shape detail), or an image,
typically the same child rendered at intensity 0 and aligned with the *same* transform as the
input. That counterfactual is the natural baseline here: IG attributes the difference
``f(x) - f(baseline)`` along the straight path between them (completeness), and against the
child's own unaffected twin only the pixels the syndrome changed differ, so identity, pose,
lighting, hair and skin tone get no attribution. A black baseline instead credits every pixel
that differs from black, and gives darker skin systematically less attribution.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import nn

METHODS: tuple[str, ...] = ("integrated_gradients", "saliency", "gradcam", "occlusion", "smoothgrad")
BASELINES: tuple[str, ...] = ("black", "blurred", "counterfactual")
BLUR_SIGMA = 6.0  # pixels at 112 px


@dataclass
class Attribution:
    """One attribution map.

    Attributes:
        attributions: (H, W, 3) float32, shaped like the image; for Grad-CAM the upsampled map is
            spread evenly over the three channels.
        heatmap: (H, W) float32, attributions summed over channels (signed; positive supports the target).
        method: one of `METHODS`.
        target: class name the map explains.
        contrast: class subtracted from the target logit, or None.
        baseline: baseline name for IG and SmoothGrad, else None.
        score: target score (logit or logit difference) on the input.
    """

    attributions: np.ndarray
    heatmap: np.ndarray
    method: str
    target: str
    contrast: str | None
    baseline: str | None
    score: float


class TargetScore(nn.Module):
    """Wraps a classifier into a scalar score per image: ``logit[target] - logit[contrast]``.

    Takes (B, 3, H, W) float32 in [0, 1]; returns (B,) float32.
    """

    def __init__(self, model: nn.Module, target: int, contrast: int | None = None) -> None:
        super().__init__()
        self.model, self.target, self.contrast = model, target, contrast

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.model(x)  # (B, K)
        score = logits[:, self.target]
        return score - logits[:, self.contrast] if self.contrast is not None else score  # (B,)


def make_baseline(image: np.ndarray, baseline: str | np.ndarray) -> np.ndarray:
    """A baseline image for IG.

    Args:
        image: (H, W, 3) uint8 aligned crop.
        baseline: ``"black"``, ``"blurred"``, or an (H, W, 3) uint8 image (e.g. the counterfactual crop).

    Returns:
        (H, W, 3) uint8.

    Raises:
        ValueError: unknown name (``"counterfactual"`` needs the image itself), or shape mismatch.
    """
    if isinstance(baseline, np.ndarray):
        if baseline.shape != image.shape:
            raise ValueError(f"baseline shape {baseline.shape} differs from the image's {image.shape}")
        return baseline.astype(np.uint8)
    if baseline == "black":
        return np.zeros_like(image)
    if baseline == "blurred":
        sigma = BLUR_SIGMA * image.shape[0] / 112
        return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT)
    if baseline == "counterfactual":
        raise ValueError("the counterfactual baseline needs the counterfactual image (same child at intensity 0)")
    raise ValueError(f"unknown baseline {baseline!r}; one of {', '.join(BASELINES)}")


def _to_input(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, H, W) float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float().div(255).to(device)


#: Most IG integration steps and SmoothGrad samples one call takes: far past where the maps stop
#: changing (Sundararajan et al. 2017 used 20-300 steps), and a bound on the time one request costs.
MAX_STEPS = 512
MAX_SAMPLES = 64
#: Interpolated images per forward and backward pass: memory stays flat (about 0.4 GB at 112 px
#: with resnet18) whatever the number of steps.
INTERNAL_BATCH = 32


def _ig(score, model, x, base, *, steps: int, **_) -> torch.Tensor:
    from captum.attr import IntegratedGradients

    return IntegratedGradients(score).attribute(
        x, baselines=base, n_steps=steps, internal_batch_size=min(steps, INTERNAL_BATCH)
    )


def _saliency(score, model, x, base, **_) -> torch.Tensor:
    from captum.attr import Saliency

    return Saliency(score).attribute(x.requires_grad_(), abs=True)


def _gradcam(score, model, x, base, **_) -> torch.Tensor:
    from captum.attr import LayerAttribution, LayerGradCam

    cam = LayerGradCam(score, model.gradcam_layer()).attribute(x, relu_attributions=True)  # (1, 1, h, w)
    cam = LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), interpolate_mode="bilinear")  # (1, 1, H, W)
    return cam.expand_as(x) / 3.0


def _occlusion(score, model, x, base, *, window: int, **_) -> torch.Tensor:
    from captum.attr import Occlusion

    stride = max(1, window // 2)
    return Occlusion(score).attribute(
        x,
        sliding_window_shapes=(3, window, window),
        strides=(3, stride, stride),
        baselines=0.5,
        perturbations_per_eval=32,
    )


def _smoothgrad(score, model, x, base, *, steps: int, samples: int, noise: float, **_) -> torch.Tensor:
    from captum.attr import IntegratedGradients, NoiseTunnel

    return NoiseTunnel(IntegratedGradients(score)).attribute(
        x,
        nt_type="smoothgrad",
        nt_samples=samples,
        nt_samples_batch_size=1,
        stdevs=noise,
        baselines=base,
        n_steps=steps,
        internal_batch_size=min(steps, INTERNAL_BATCH),
    )


_REGISTRY: dict[str, Callable[..., torch.Tensor]] = {
    "integrated_gradients": _ig,
    "saliency": _saliency,
    "gradcam": _gradcam,
    "occlusion": _occlusion,
    "smoothgrad": _smoothgrad,
}
_USES_BASELINE = {"integrated_gradients", "smoothgrad"}

PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "auto")

#: Settings the app uses, capped so that every method's whole answer (the face drawn, the map, the tables and
#: pictures: about 0.75 s besides the map, `benchmarks.latency`) takes under 1 s at 112 px on a 2-core CPU
#: (`python -m benchmarks.saliency_speed --app`, figures in benchmarks/results/saliency_speed.json).
#: In float32, IG took 0.39-0.46 s at 32 steps (0.388 s in the committed run); at 6 x 9 SmoothGrad took
#: 0.39 s in bfloat16 and Occlusion 0.54 s with a 22-pixel window (81 windows), which put both answers near
#: 2 s: SmoothGrad now averages 3 noisy IG maps and Occlusion slides a 32-pixel window (36 windows). Cost
#: grows linearly with steps x samples and with the number of windows. "auto"
#: runs the gradient methods under bfloat16 autocast where the CPU has native bfloat16 (about twice
#: as fast; IG maps correlate with float32 ones at Spearman 0.98), else in float32 with
#: `FP32_FALLBACK`'s fewer steps.
APP_SETTINGS: dict[str, dict[str, int | str]] = {
    "integrated_gradients": {"steps": 32, "precision": "auto"},
    "saliency": {},
    "gradcam": {},
    "occlusion": {"window": 32},
    "smoothgrad": {"steps": 9, "samples": 3, "precision": "auto"},
}
#: Steps the app uses instead where "auto" falls back to float32 (no native bfloat16).
FP32_FALLBACK: dict[str, dict[str, int]] = {"integrated_gradients": {"steps": 24}, "smoothgrad": {"steps": 6}}


def app_settings(method: str) -> dict[str, int | str]:
    """The settings the app runs `method` with on this machine: `APP_SETTINGS` with "auto" resolved to
    "bf16" where the CPU has native bfloat16, else to "fp32" with `FP32_FALLBACK`'s settings.

    Raises:
        KeyError: unknown method.
    """
    from models.hardware import cpu_bf16

    settings = dict(APP_SETTINGS[method])
    if settings.get("precision") == "auto":
        if cpu_bf16():
            settings["precision"] = "bf16"
        else:
            settings.update(FP32_FALLBACK.get(method, {}), precision="fp32")
    return settings


def _autocast(precision: str, device: torch.device):
    """bfloat16 autocast on the CPU for "bf16" (or "auto" where the CPU has it), else a no-op context."""
    import contextlib

    from models.hardware import cpu_bf16

    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; one of {', '.join(PRECISIONS)}")
    wanted = precision == "bf16" or (precision == "auto" and cpu_bf16())
    if wanted and device.type == "cpu":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def attribute(
    model: nn.Module,
    image: np.ndarray,
    method: str = "integrated_gradients",
    target: str | int | None = None,
    contrast: str | int | None = None,
    baseline: str | np.ndarray = "black",
    steps: int = 32,
    samples: int = 8,
    noise: float = 0.1,
    window: int = 16,
    seed: int = 0,
    precision: str = "fp32",
) -> Attribution:
    """Explain one aligned crop.

    Args:
        model: a `models.classifier.model.Classifier` (takes [0, 1] images; has ``config.classes``
            and ``gradcam_layer()``), in eval mode.
        image: (S, S, 3) uint8 aligned crop from `models.alignment`.
        method: one of `METHODS`.
        target: class name or index to explain; None for the predicted class.
        contrast: class name or index whose logit is subtracted (e.g. ``"unaffected"``), or None.
        baseline: for IG and SmoothGrad: ``"black"``, ``"blurred"`` or an (S, S, 3) uint8 image
            (the counterfactual crop); ignored by the other methods.
        steps: IG integration steps (also per SmoothGrad sample).
        samples: SmoothGrad noise samples.
        noise: SmoothGrad noise standard deviation, in units of the [0, 1] pixel range.
        window: Occlusion patch side in pixels (stride is half of it; patches are filled with grey).
        seed: seeds SmoothGrad's noise; every method is deterministic given it.
        precision: ``"fp32"``; ``"bf16"`` (bfloat16 autocast on the CPU: faster where the CPU has
            native bfloat16, with slightly coarser gradients); or ``"auto"`` (bf16 only there).
            Maps are returned in float32 either way.

    Returns:
        `Attribution` with maps shaped like the image.

    Raises:
        ValueError: unknown method, class, baseline or precision; `steps` outside 1 to `MAX_STEPS`,
            `samples` outside 1 to `MAX_SAMPLES`, or `window` outside 2 to the image side.
    """
    if method not in _REGISTRY:
        raise ValueError(f"unknown method {method!r}; one of {', '.join(METHODS)}")
    for name, value, high in (("steps", steps, MAX_STEPS), ("samples", samples, MAX_SAMPLES)):
        if not 1 <= value <= high:
            raise ValueError(f"{name} must be from 1 to {high}, not {value}")
    if not 2 <= window <= min(image.shape[:2]):
        raise ValueError(f"window must be from 2 to {min(image.shape[:2])} pixels, not {window}")
    classes = list(model.config.classes)

    def index(c: str | int) -> int:
        if isinstance(c, (int, np.integer)):
            if not 0 <= int(c) < len(classes):
                raise ValueError(f"class index {c} out of range 0-{len(classes) - 1}")
            return int(c)
        if c not in classes:
            raise ValueError(f"unknown class {c!r}; the model knows {', '.join(classes)}")
        return classes.index(c)

    device = next(model.parameters()).device
    x = _to_input(image, device)
    if target is None:
        with torch.inference_mode():
            target = int(model(x).argmax(1))
    t = index(target)
    c = index(contrast) if contrast is not None else None
    if c == t:
        c = None
    base = None
    if method in _USES_BASELINE:
        base = _to_input(make_baseline(image, baseline), device)
    score = TargetScore(model, t, c).eval()
    with torch.random.fork_rng(devices=[]), _autocast(precision, device):
        torch.manual_seed(seed)
        attr = _REGISTRY[method](
            score,
            model,
            x.clone().requires_grad_(False),
            base,
            steps=steps,
            samples=samples,
            noise=noise,
            window=window,
        )
    with torch.inference_mode():
        value = float(score(x)[0])
    arr = attr.detach()[0].permute(1, 2, 0).float().cpu().numpy()  # (H, W, 3)
    return Attribution(
        attributions=arr,
        heatmap=arr.sum(axis=2),
        method=method,
        target=classes[t],
        contrast=classes[c] if c is not None else None,
        baseline=(baseline if isinstance(baseline, str) else "counterfactual") if method in _USES_BASELINE else None,
        score=value,
    )
