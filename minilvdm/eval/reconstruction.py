"""Reconstruction metrics for videos: PSNR, SSIM and flicker.

All three take two tensors (B, C, T, H, W) with values in [-1, 1] (the project's one
layout) and return one value per video, a tensor of shape (B,); call `.mean()` for a
data-set figure. Values are clamped to [-1, 1] first and measured on the [0, 1] scale,
the convention of image-quality papers.

    psnr(x_hat, x)     mean over frames of 10 log10(1 / MSE_frame)             (dB, higher is better)
    ssim(x_hat, x)     mean over frames and channels of SSIM (Wang et al. 2004),
                       11x11 Gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03   (<= 1, higher is better)
    flicker(x_hat, x)  mean |(x_hat_{t+1} - x_hat_t) - (x_{t+1} - x_t)|        (lower is better)

Flicker compares frame-to-frame changes with the ground truth's: a decoder that gets each
frame about right but jitters between frames scores badly even at the same PSNR.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["flicker", "psnr", "ssim"]


def _check(x_hat: torch.Tensor, x: torch.Tensor, min_frames: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    if x_hat.shape != x.shape or x.ndim != 5:
        raise ValueError(
            "expected two videos of the same shape (B, C, T, H, W), "
            f"got {tuple(x_hat.shape)} and {tuple(x.shape)}"
        )
    if x.shape[2] < min_frames:
        raise ValueError(f"need at least {min_frames} frames, got T={x.shape[2]}")
    to01 = lambda v: (v.detach().float().clamp(-1, 1) + 1) / 2
    return to01(x_hat), to01(x)


def psnr(x_hat: torch.Tensor, x: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    """Per-frame PSNR on [0, 1], averaged over frames: (B,) in dB. A perfect frame counts
    as 100 dB (MSE floored at 1e-10) so one identical frame cannot make the mean infinite."""
    a, b = _check(x_hat, x)
    mse = (a - b).pow(2).mean(dim=(1, 3, 4))  # (B, T)
    return (10 * torch.log10(1.0 / mse.clamp_min(eps))).mean(dim=1)


def _gaussian_window(size: int = 11, sigma: float = 1.5, device=None) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float32, device=device) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    return g / g.sum()


def ssim(x_hat: torch.Tensor, x: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """SSIM per frame and channel (valid-region Gaussian filtering, as in Wang et al.),
    averaged over frames, channels and positions: (B,)."""
    a, b = _check(x_hat, x)
    bsz, c, t, h, w = a.shape
    if min(h, w) < window:
        raise ValueError(f"SSIM needs frames of at least {window}x{window}, got {h}x{w}")
    # (B, C, T, H, W) -> (B*C*T, 1, H, W): every frame of every channel is an image.
    a = a.reshape(-1, 1, h, w)
    b = b.reshape(-1, 1, h, w)
    g = _gaussian_window(window, sigma, a.device)
    blur = lambda v: F.conv2d(F.conv2d(v, g.view(1, 1, 1, -1)), g.view(1, 1, -1, 1))  # separable
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01**2, 0.03**2  # (K L)^2 with data range L = 1
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return s.reshape(bsz, -1).mean(dim=1)


def flicker(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Mean absolute error of frame-to-frame differences on [0, 1]: (B,). Zero when the
    reconstruction changes between frames exactly as the original does."""
    a, b = _check(x_hat, x, min_frames=2)
    da, db = a.diff(dim=2), b.diff(dim=2)  # (B, C, T-1, H, W)
    return (da - db).abs().mean(dim=(1, 2, 3, 4))
