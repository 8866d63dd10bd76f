"""Checkers for notebook 02_diffusion."""

import torch

from ..diffusion.gaussian import Diffusion, DiffusionConfig
from . import ExerciseFailed, checker


def alpha_bar_reference(betas: torch.Tensor) -> torch.Tensor:
    """alpha_bar_t = prod_{s <= t} (1 - beta_s)."""
    return torch.cumprod(1 - betas, dim=0)


def q_sample_reference(x0, alpha_bar_t, noise):
    """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps."""
    return alpha_bar_t.sqrt() * x0 + (1 - alpha_bar_t).sqrt() * noise


def ddim_step_reference(x_t, eps, a_t, a_prev, eta, z):
    """One DDIM step t -> t' from an eps prediction (a = alpha_bar)."""
    x0 = (x_t - (1 - a_t).sqrt() * eps) / a_t.sqrt()
    sigma = eta * ((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)).sqrt()
    return a_prev.sqrt() * x0 + (1 - a_prev - sigma**2).sqrt() * eps + sigma * z


def v_to_eps_reference(x_t, v, a_t):
    """eps = sqrt(1 - alpha_bar) x_t + sqrt(alpha_bar) v."""
    return (1 - a_t).sqrt() * x_t + a_t.sqrt() * v


@checker("alpha_bar", reference=alpha_bar_reference)
def check_alpha_bar(answer):
    for schedule in ("linear", "scaled_linear", "cosine"):
        diff = Diffusion(DiffusionConfig(schedule=schedule))
        got = torch.as_tensor(answer(diff.betas.clone()), dtype=torch.float64)
        if got.shape != diff.alpha_bar.shape or not torch.allclose(got, diff.alpha_bar, atol=1e-8):
            raise ExerciseFailed(
                f"{schedule}: wrong alpha_bar (first values {got.flatten()[:3].tolist()}, expected "
                f"{diff.alpha_bar[:3].tolist()}). Hint: alpha_t = 1 - beta_t, multiplied up."
            )


@checker("q_sample", reference=q_sample_reference)
def check_q_sample(answer):
    g = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(4, 1, 8, 8, generator=g), torch.randn(4, 1, 8, 8, generator=g)
    a = torch.rand(4, 1, 1, 1, generator=g)
    got = answer(x0, a, noise)
    if not torch.allclose(got, q_sample_reference(x0, a, noise), atol=1e-6):
        raise ExerciseFailed(
            "x_t must be sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) noise (square roots on both)."
        )


@checker("ddim_step", reference=ddim_step_reference)
def check_ddim_step(answer):
    g = torch.Generator().manual_seed(1)
    for eta in (0.0, 0.5, 1.0):
        x_t, eps, z = (torch.randn(3, 2, 4, 4, generator=g) for _ in range(3))
        a_t, a_prev = torch.tensor(0.3), torch.tensor(0.7)
        got = answer(x_t, eps, a_t, a_prev, eta, z)
        want = ddim_step_reference(x_t, eps, a_t, a_prev, eta, z)
        if not torch.allclose(got, want, atol=1e-5):
            raise ExerciseFailed(
                f"eta={eta}: wrong x_prev. Hint: first x0 = (x_t - sqrt(1-a_t) eps) / sqrt(a_t); then "
                "sqrt(a_prev) x0 + sqrt(1 - a_prev - sigma^2) eps + sigma z."
            )


@checker("v_to_eps", reference=v_to_eps_reference)
def check_v_to_eps(answer):
    g = torch.Generator().manual_seed(2)
    x0, eps = torch.randn(5, 3, generator=g), torch.randn(5, 3, generator=g)
    a = torch.rand(5, 1, generator=g) * 0.98 + 0.01
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * eps
    v = a.sqrt() * eps - (1 - a).sqrt() * x0
    if not torch.allclose(answer(x_t, v, a), eps, atol=1e-5):
        raise ExerciseFailed("the answer does not recover eps. Hint: solve the two linear equations for eps.")
