"""Checkers for notebook 05_latent_video_diffusion."""

import math

from ..diffusion.gaussian import make_timesteps
from . import ExerciseFailed, checker


def compression_ratio(video_shape, latent_shape) -> float:
    """How many times fewer values the latent (c, t, h, w) holds than the video (C, T, H, W)."""
    return math.prod(video_shape) / math.prod(latent_shape)


def ddim_timesteps(num_steps: int, steps: int) -> list[int]:
    """`steps` evenly spaced timesteps, descending, starting at the noisiest step num_steps - 1."""
    return sorted({round(num_steps - 1 - i * num_steps / steps) for i in range(steps)}, reverse=True)


@checker("compression_ratio", reference=compression_ratio)
def check_compression_ratio(answer):
    cases = [
        ((1, 16, 64, 64), (4, 4, 16, 16)),
        ((3, 16, 64, 64), (4, 4, 16, 16)),
        ((1, 8, 32, 32), (8, 8, 8, 8)),
    ]
    for video, latent in cases:
        want, got = compression_ratio(video, latent), float(answer(video, latent))
        if not math.isclose(got, want, rel_tol=1e-9):
            raise ExerciseFailed(
                f"video {video} -> latent {latent}: you gave {got}, expected {want}. "
                "Hint: the ratio of the numbers of values, C*T*H*W / (c*t*h*w)."
            )


@checker("ddim_timesteps", reference=ddim_timesteps)
def check_ddim_timesteps(answer):
    for num_steps, steps in ((1000, 50), (1000, 10), (100, 7), (100, 100), (10, 1)):
        want, got = make_timesteps(num_steps, steps, "trailing"), [int(t) for t in answer(num_steps, steps)]
        if got != want:
            raise ExerciseFailed(
                f"num_steps={num_steps}, steps={steps}: you gave {got[:6]}..., expected {want[:6]}... "
                "Hint: descending, first step num_steps - 1, spacing num_steps / steps, rounded."
            )
