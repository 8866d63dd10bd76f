"""Noise schedules and sampling step subsequences.

    betas = make_betas("scaled_linear", 1000, 0.0015, 0.0155)   # LVDM's schedule
    alpha_bar = torch.cumprod(1 - betas, 0)                      # alpha_bar_t = prod_{s<=t} (1 - beta_s)
    make_timesteps(1000, 50)                                     # [999, 979, ..., 19]  (descending)

Schedules (names follow diffusers so tests can compare value for value):
    linear         beta_t evenly spaced from beta_start to beta_end (DDPM)
    scaled_linear  sqrt(beta_t) evenly spaced, then squared: what the LDM / LVDM code
                   calls "linear" (LVDM: 0.0015 -> 0.0155 over 1000 steps)
    cosine         alpha_bar(t) = cos^2(((t/N + 0.008) / 1.008) pi/2), beta capped at 0.999
                   (Nichol & Dhariwal 2021; diffusers "squaredcos_cap_v2")
    rectified_flow the straight line x = (1 - s) x_0 + s eps with s_t = (t + 1) / (N + 1),
                   as a variance-preserving schedule: alpha_bar = (1 - s)^2 / ((1 - s)^2 + s^2)
                   (SNR = ((1 - s) / s)^2; s stays inside (0, 1) so no SNR is 0 or infinite)

All values are float64: the diffusion object casts to the data's dtype at use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

SCHEDULES = ("linear", "scaled_linear", "cosine", "rectified_flow")
SPACINGS = ("trailing", "leading")


def make_betas(
    schedule: str, num_steps: int, beta_start: float = 0.0015, beta_end: float = 0.0155
) -> torch.Tensor:
    """beta_0 .. beta_{N-1} as a float64 tensor of shape (N,)."""
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    if schedule == "linear":
        return torch.linspace(beta_start, beta_end, num_steps, dtype=torch.float64)
    if schedule == "scaled_linear":
        return torch.linspace(beta_start**0.5, beta_end**0.5, num_steps, dtype=torch.float64) ** 2
    if schedule == "cosine":

        def f(t: float) -> float:  # alpha_bar as a continuous function of t in [0, 1]
            return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

        betas = [min(1 - f((i + 1) / num_steps) / f(i / num_steps), 0.999) for i in range(num_steps)]
        return torch.tensor(betas, dtype=torch.float64)
    if schedule == "rectified_flow":
        s = torch.arange(1, num_steps + 1, dtype=torch.float64) / (num_steps + 1)
        alpha_bar = (1 - s) ** 2 / ((1 - s) ** 2 + s**2)
        previous = torch.cat([torch.ones(1, dtype=torch.float64), alpha_bar[:-1]])
        return 1 - alpha_bar / previous
    raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")


def snr(alpha_bar: torch.Tensor) -> torch.Tensor:
    """Signal-to-noise ratio SNR_t = alpha_bar_t / (1 - alpha_bar_t)."""
    return alpha_bar / (1 - alpha_bar)


def make_timesteps(
    num_steps: int, steps: int | Sequence[int] | None = None, spacing: str = "trailing"
) -> list[int]:
    """The descending timesteps a sampler visits.

    steps=None or N: every step N-1 .. 0. An int n < N: n evenly spaced steps,
      'trailing' starts at N-1 (the noisiest step, so x_T ~ N(0, I) matches),
      'leading' starts at 0 and goes up by N // n (DDIM paper, diffusers' default).
    A sequence: those steps, sorted descending (any subsequence of 0..N-1).
    """
    if steps is None:
        return list(range(num_steps - 1, -1, -1))
    if isinstance(steps, int):
        if not 1 <= steps <= num_steps:
            raise ValueError(f"steps must be in 1..{num_steps}, got {steps}")
        if spacing == "trailing":
            ts = [round(num_steps - 1 - i * num_steps / steps) for i in range(steps)]
        elif spacing == "leading":
            ts = [i * (num_steps // steps) for i in range(steps)]
        else:
            raise ValueError(f"spacing must be one of {SPACINGS}, got {spacing!r}")
        return sorted(set(ts), reverse=True)
    ts = sorted({int(s) for s in steps}, reverse=True)
    if not ts or ts[0] >= num_steps or ts[-1] < 0:
        raise ValueError(
            f"timesteps must be a non-empty subset of 0..{num_steps - 1}, got {list(steps)[:8]}..."
        )
    return ts


def shifted_grid(num_steps: int, steps, shift: float):
    """`steps` as a sampler takes them: a count warped by `shift` (`shifted_timesteps`) unless
    shift is 1; a list of timesteps as given."""
    return shifted_timesteps(num_steps, steps, shift) if shift != 1.0 and isinstance(steps, int) else steps


def shifted_timesteps(num_steps: int, steps: int, shift: float) -> list[int]:
    """`steps` descending timesteps warped towards the noisy end (shift > 1) or the clean end
    (shift < 1): the trailing grid's u = (t + 1) / N in (0, 1] becomes
    u' = shift u / (1 + (shift - 1) u) (SD3's timestep shift, Esser et al. 2024), so a sampler
    spends more of its steps where the clip's layout is decided. shift = 1 is the trailing grid;
    pass the result as `steps`. Steps that round together are merged (fewer than `steps`)."""
    if shift <= 0:
        raise ValueError(f"shift must be > 0, got {shift}")
    if not 1 <= steps <= num_steps:
        raise ValueError(f"steps must be in 1..{num_steps}, got {steps}")
    ts = []
    for i in range(steps):
        u = 1 - i / steps  # the trailing grid: t = N u - 1
        warped = shift * u / (1 + (shift - 1) * u)
        ts.append(min(num_steps - 1, max(0, round(num_steps * warped - 1))))
    return sorted(set(ts), reverse=True)
