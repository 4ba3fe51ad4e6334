"""The generator's training loss: mean squared error on the UNet's target, optionally Min-SNR weighted."""

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
) -> torch.Tensor:
    """Mean squared error between the UNet's prediction and its target, each example weighted by Min-SNR.

    Args:
        pred, target: (B, C, H, W) float tensors (the UNet output and the noise or velocity target).
        timesteps: (B,) int64 timesteps of the examples.
        scheduler: the training noise scheduler.
        snr_gamma: Min-SNR ceiling (see `snr_weights`); None gives the plain mean squared error.
        prediction_type: the UNet's ``"epsilon"`` or ``"v_prediction"``.

    Returns:
        Scalar float32 loss.

    Raises:
        ValueError: see `snr_weights`.
    """
    if snr_gamma is None:
        return torch.nn.functional.mse_loss(pred.float(), target.float())
    per_example = ((pred.float() - target.float()) ** 2).mean(dim=tuple(range(1, pred.ndim)))
    return (per_example * snr_weights(scheduler, timesteps, snr_gamma, prediction_type)).mean()
