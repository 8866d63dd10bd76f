"""Checkers for notebook 01_video_vae."""

import torch

from ..vae.model import DiagonalGaussian, check_divisible
from . import ExerciseFailed, checker


def latent_shape(frames, height, width, time_factor, space_factor, latent_channels):
    """(c, T/ft, H/fs, W/fs): one latent value per channel per (ft x fs x fs) block of pixels."""
    check_divisible(frames, height, width, time_factor, space_factor)
    return (latent_channels, frames // time_factor, height // space_factor, width // space_factor)


def reparameterize(mean, logvar, eps):
    """z = mu + sigma * eps with sigma = exp(logvar / 2): differentiable in mu and logvar."""
    return mean + torch.exp(0.5 * logvar) * eps


def kl_to_standard_normal(mean, logvar):
    """KL(N(mu, sigma^2) || N(0, 1)) = 1/2 (mu^2 + sigma^2 - 1 - log sigma^2), summed per sample."""
    return (0.5 * (mean**2 + logvar.exp() - 1 - logvar)).flatten(1).sum(1)


@checker("latent_shape", reference=latent_shape)
def check_latent_shape(answer):
    cases = [(16, 64, 64, 4, 4, 4), (16, 64, 64, 1, 8, 4), (8, 32, 48, 2, 2, 3), (12, 256, 256, 4, 8, 4)]
    for case in cases:
        got, want = tuple(int(v) for v in answer(*case)), latent_shape(*case)
        if got != want:
            raise ExerciseFailed(
                f"latent_shape{case} gave {got}, expected {want}. Hint: channels first, then T/ft, H/fs, W/fs."  # noqa: E501
            )


@checker("reparameterize", reference=reparameterize)
def check_reparameterize(answer):
    g = torch.Generator().manual_seed(0)
    mean = torch.randn(2, 4, 3, 5, 5, generator=g, requires_grad=True)
    logvar = torch.randn(2, 4, 3, 5, 5, generator=g, requires_grad=True)
    eps = torch.randn(2, 4, 3, 5, 5, generator=g)
    got = answer(mean, logvar, eps)
    want = reparameterize(mean, logvar, eps)
    if (
        not isinstance(got, torch.Tensor)
        or got.shape != want.shape
        or not torch.allclose(got, want, atol=1e-5)
    ):
        raise ExerciseFailed("z should be mean + std * eps, with std = exp(0.5 * logvar) (not exp(logvar))")
    if not got.requires_grad:
        raise ExerciseFailed("z must stay differentiable: no .detach(), no numpy, no torch.no_grad()")
    got.sum().backward()
    if mean.grad is None or logvar.grad is None:
        raise ExerciseFailed("gradients must flow into mean and logvar: build z from them with torch ops")


@checker("kl_to_standard_normal", reference=kl_to_standard_normal)
def check_kl(answer):
    g = torch.Generator().manual_seed(1)
    mean, logvar = torch.randn(3, 2, 2, 4, 4, generator=g), torch.randn(3, 2, 2, 4, 4, generator=g)
    want = DiagonalGaussian(torch.cat([mean, logvar], 1)).kl()
    got = torch.as_tensor(answer(mean, logvar)).float()
    if got.shape != want.shape:
        raise ExerciseFailed(f"return one KL per sample, shape {tuple(want.shape)}; got {tuple(got.shape)}")
    if not torch.allclose(got, want, rtol=1e-4):
        raise ExerciseFailed("KL = 1/2 sum(mu^2 + exp(logvar) - 1 - logvar) over all latent dims of a sample")
