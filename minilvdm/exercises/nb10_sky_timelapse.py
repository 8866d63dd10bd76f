"""Checkers for notebook 10_sky_timelapse."""

import torch

from ..data.sky_folder import center_square
from ..eval.metrics import block_windows
from . import ExerciseFailed, checker


def rgb_compression(channels, frames, size, latent_channels, time_factor, space_factor):
    """Values in / values out: (C T H W) / (c T/ft H/fs W/fs) = C ft fs^2 / c."""
    latent = latent_channels * (frames // time_factor) * (size // space_factor) ** 2
    return channels * frames * size * size / latent


@checker("center_square", reference=center_square)
def check_center_square(answer):
    for width, height in ((640, 360), (360, 640), (64, 64), (101, 50), (50, 101), (7, 4)):
        got, want = tuple(int(v) for v in answer(width, height)), center_square(width, height)
        if got != want:
            raise ExerciseFailed(
                f"center_square({width}, {height}) = {got}, expected {want} as (left, top, right, bottom): "
                "the side is min(width, height), centred with the offset rounded down"
            )


@checker("rgb_compression", reference=rgb_compression)
def check_rgb_compression(answer):
    cases = [(3, 16, 64, 4, 4, 4), (1, 16, 64, 4, 4, 4), (3, 16, 256, 4, 4, 8), (3, 8, 128, 8, 2, 4)]
    for case in cases:
        got, want = float(answer(*case)), rgb_compression(*case)
        if abs(got - want) > 1e-6 * want:
            raise ExerciseFailed(
                f"rgb_compression{case} = {got}, expected {want}: count every value, colour channels "
                "included, before and after (latent: c x T/ft x H/fs x W/fs)"
            )


@checker("block_windows", reference=block_windows)
def check_block_windows(answer):
    g = torch.Generator().manual_seed(0)
    for b, n, block in ((1, 64, 32), (2, 96, 32), (3, 80, 16)):
        video = torch.randn(b, 3, n, 2, 2, generator=g)
        got, want = answer(video, block), block_windows(video, block)
        if tuple(got.shape) != tuple(want.shape):
            raise ExerciseFailed(f"shape {tuple(got.shape)}, expected {tuple(want.shape)} for {b} videos")
        if not torch.equal(got, want):
            raise ExerciseFailed(
                "right shape, wrong order: segment k of the result (frames 16k .. 16k+15) must hold, "
                "across the batch, every 16-frame window of block k of every video"
            )
