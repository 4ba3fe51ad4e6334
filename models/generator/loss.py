"""The generator's training loss (mean squared error on the UNet's target, optionally Min-SNR weighted) and
the distribution its training timesteps are drawn from (uniform, or biased towards a range of noise levels)."""

from __future__ import annotations

import torch


def snr_weights(scheduler, timesteps: torch.Tensor, gamma: float, prediction_type: str) -> torch.Tensor:
    """Per-example Min-SNR-gamma loss weights (Hang et al. 2023, "Efficient diffusion training via Min-SNR
    weighting strategy"), which stop the many low-noise timesteps from dominating the gradient.

    With SNR(t) = alpha_bar_t / (1 - alpha_bar_t) (diffusers' ``compute_snr``), the weight is
    min(SNR, gamma) / SNR for epsilon prediction and min(SNR, gamma) / (SNR + 1) for v prediction, so
    that both equal min(SNR, gamma) on the x0 error. The authors recommend gamma = 5.

    Args:
        scheduler: a diffusers noise scheduler with ``alphas_cumprod``.
        timesteps: (B,) int64 training timesteps.
        gamma: the SNR ceiling, > 0.
        prediction_type: ``"epsilon"`` or ``"v_prediction"``.

    Returns:
        (B,) float32 weights on `timesteps`' device.

    Raises:
        ValueError: gamma is not positive, or an unknown prediction type.
    """
    from diffusers.training_utils import compute_snr

    if not gamma > 0:
        raise ValueError(f"the Min-SNR gamma must be positive, not {gamma!r}")
    snr = compute_snr(scheduler, timesteps)
    clipped = torch.clamp(snr, max=gamma)
    if prediction_type == "v_prediction":
        return clipped / (snr + 1.0)
    if prediction_type == "epsilon":
        # SNR is never 0 for a schedule whose alpha_bar stays positive; the guard keeps a weight of 1 if it were
        return torch.where(snr > 0, clipped / snr.clamp(min=torch.finfo(snr.dtype).tiny), torch.ones_like(snr))
    raise ValueError(f"prediction_type must be 'epsilon' or 'v_prediction', not {prediction_type!r}")


def diffusion_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    timesteps: torch.Tensor,
    scheduler,
    snr_gamma: float | None = None,
    prediction_type: str = "v_prediction",
    pixel_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean squared error between the UNet's prediction and its target, each example weighted by Min-SNR and
    each pixel by `pixel_weights`.

    Args:
        pred, target: (B, C, H, W) float tensors (the UNet output and the noise or velocity target).
        timesteps: (B,) int64 timesteps of the examples.
        scheduler: the training noise scheduler.
        snr_gamma: Min-SNR ceiling (see `snr_weights`); None gives the plain mean squared error.
        prediction_type: the UNet's ``"epsilon"`` or ``"v_prediction"``.
        pixel_weights: (B, 1, H, W) non-negative float weights of each pixel's squared error
            (`feature_weights`), or None for equal weights.

    Returns:
        Scalar float32 loss.

    Raises:
        ValueError: see `snr_weights`.
    """
    squared = (pred.float() - target.float()) ** 2
    if pixel_weights is not None:
        squared = squared * pixel_weights.float()
    if snr_gamma is None:
        return squared.mean()
    per_example = squared.mean(dim=tuple(range(1, pred.ndim)))
    return (per_example * snr_weights(scheduler, timesteps, snr_gamma, prediction_type)).mean()


def feature_weights(maps: torch.Tensor, channels: int, weight: float, reach: int = 2) -> torch.Tensor:
    """Per-pixel loss weights that favour the facial features drawn in a landmark map.

    The eyes, brows, nose and lips, where most of a syndrome's gestalt lies (most Elements of
    Morphology terms describe them: Allanson et al. 2009, periorbital region; Hennekam et al. 2009,
    nose and philtrum; Carey et al. 2009, lips and mouth), cover about a fifth of a 64 px crop
    (within 2 px of their contours), so a plain mean squared error spends most of a short CPU run on
    hair, skin and background. Weighting the features `weight` times more (in the spirit of GFPGAN's facial
    component loss, Wang et al. 2021) moves that effort without changing what the loss's minimiser
    is at any pixel. Each example's weights are divided by their mean, so the loss keeps its scale.

    Args:
        maps: (B, C, H, W) float landmark maps in [0, 1] (`landmark_map`).
        channels: how many leading map channels hold the features (the rest, e.g. the face oval, are
            left unweighted).
        weight: extra weight of a feature pixel, >= 0 (0 gives equal weights).
        reach: pixels around each drawn contour that count as the feature.

    Returns:
        (B, 1, H, W) float32 weights with mean 1 per example.

    Raises:
        ValueError: negative weight or reach, or channels outside 1 to C.
    """
    if weight < 0 or reach < 0:
        raise ValueError(f"the feature loss weight and reach must be >= 0, not {weight!r} and {reach!r}")
    if not 1 <= channels <= maps.shape[1]:
        raise ValueError(f"channels must be 1 to {maps.shape[1]}, not {channels!r}")
    near = maps[:, :channels].float().amax(dim=1, keepdim=True)
    if reach:
        near = torch.nn.functional.max_pool2d(near, 2 * reach + 1, stride=1, padding=reach)
    w = 1.0 + weight * near
    return w / w.mean(dim=(1, 2, 3), keepdim=True)


TIMESTEP_BIAS_STRATEGIES = ("none", "earlier", "later", "range")


def timestep_weights(
    num_timesteps: int,
    strategy: str = "none",
    multiplier: float = 1.0,
    portion: float = 0.25,
    begin: int = 0,
    end: int = 1000,
) -> torch.Tensor:
    """Sampling weights of the training timesteps, with a chosen band drawn `multiplier` times as often.

    The flags follow diffusers' SDXL training example (``--timestep_bias_strategy`` and friends):
    ``later`` favours the last `portion` of the timesteps (the noisiest, where a face's layout and so
    its syndromic gestalt is drawn), ``earlier`` the first `portion` (fine texture), ``range`` the
    timesteps ``begin <= t < end``; ``none`` (or a multiplier of 1) is the usual uniform draw.

    Args:
        num_timesteps: timesteps of the training schedule, e.g. 1000.
        strategy: one of `TIMESTEP_BIAS_STRATEGIES`.
        multiplier: relative weight of the favoured band, > 0 (below 1 disfavours it).
        portion: fraction of the timesteps favoured by ``earlier`` and ``later``, in (0, 1].
        begin, end: the band of ``range``, 0 <= begin < end <= num_timesteps.

    Returns:
        (num_timesteps,) float64 probabilities that sum to 1 (for ``torch.multinomial``).

    Raises:
        ValueError: unknown strategy or a value out of range.
    """
    if strategy not in TIMESTEP_BIAS_STRATEGIES:
        raise ValueError(
            f"timestep bias strategy must be one of {', '.join(TIMESTEP_BIAS_STRATEGIES)}, not {strategy!r}"
        )
    if not multiplier > 0 or not 0 < portion <= 1:
        raise ValueError("the timestep bias multiplier must be > 0 and the portion in (0, 1]")
    weights = torch.ones(num_timesteps, dtype=torch.float64)
    n = max(1, round(portion * num_timesteps))
    if strategy == "later":
        weights[-n:] *= multiplier
    elif strategy == "earlier":
        weights[:n] *= multiplier
    elif strategy == "range":
        if not 0 <= begin < end <= num_timesteps:
            raise ValueError(f"the timestep bias range needs 0 <= begin < end <= {num_timesteps}, not {begin}..{end}")
        weights[begin:end] *= multiplier
    return weights / weights.sum()
