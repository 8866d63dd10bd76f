"""Frames that hold no digit, for the digit reader (the `mnist_reader` evaluator) to reject.

The frame classifier (`mnist_frame`) only ever saw digits, so it answers "some digit" for
anything: pure noise scores a confident digit in every frame. A model's failures are not
noise but ink that forms no digit, so the reader is trained on these negatives as well
(label: every class off), each family one way a frame can fail to hold a digit:

    scribble    smooth random pen strokes of MNIST-like width: ink, no digit shape
    blob        thresholded smooth noise: soft lumps of ink
    shuffled    a real frame cut into 16x16 tiles, tiles permuted and turned: strokes, no shape
    heavy_blur  a real frame blurred with std 3-5.5 px and re-stretched: a digit's ghost
    warped      a real frame under a strong smooth warp (~7 px): strokes bent out of shape
    noise       Gaussian noise of std 0.2-1 on the black background
    blank       a nearly uniform dark frame

All take and return frames (N, 1, 64, 64) in [-1, 1] and draw from a torch.Generator, so
a batch is a function of its seed.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .corruptions import gaussian_blur

SIZE = 64
FAMILIES = ("scribble", "blob", "shuffled", "heavy_blur", "warped", "noise", "blank")


def _uniform(gen: torch.Generator, low: float, high: float, *shape: int) -> torch.Tensor:
    return low + (high - low) * torch.rand(shape or (1,), generator=gen)


def blur_frames(frames: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of frames (N, C, H, W), std `sigma` pixels."""
    return gaussian_blur(frames[:, :, None], sigma)[:, :, 0]  # (N, 1, H, W) via the video blur


def scribble(n: int, gen: torch.Generator) -> torch.Tensor:
    """Random control points joined, corners rounded by a moving average, drawn by a pen."""
    points = 4 + int(torch.randint(0, 4, (1,), generator=gen))
    ctrl = _uniform(gen, 10, SIZE - 10, n, 2, points)  # (N, 2, P) pixel coordinates x, y
    curve = F.interpolate(ctrl, size=256, mode="linear", align_corners=True)  # (N, 2, 256)
    for _ in range(2):
        curve = F.avg_pool1d(F.pad(curve, (15, 15), mode="replicate"), 31, 1)
    xy = curve.round().long().clamp(0, SIZE - 1)
    canvas = torch.zeros(n, SIZE * SIZE).scatter_(1, xy[:, 1] * SIZE + xy[:, 0], 1.0)
    ink = blur_frames(canvas.view(n, 1, SIZE, SIZE), float(_uniform(gen, 0.8, 1.4)))
    ink = ink / ink.amax((1, 2, 3), keepdim=True).clamp_min(1e-6)
    return (1.6 * ink).clamp(0, 1) * 2 - 1


def blob(n: int, gen: torch.Generator) -> torch.Tensor:
    low = torch.randn(n, 1, 6, 6, generator=gen)
    smooth = F.interpolate(low, size=SIZE, mode="bicubic", align_corners=False)
    level = _uniform(gen, 1.0, 1.8, n, 1, 1, 1)
    return torch.sigmoid(6 * (smooth - level)) * 2 - 1


def shuffled(frames: torch.Tensor, gen: torch.Generator, tile: int = 16) -> torch.Tensor:
    n, g = len(frames), SIZE // tile
    tiles = frames.reshape(n, 1, g, tile, g, tile).permute(0, 2, 4, 1, 3, 5).reshape(n, g * g, 1, tile, tile)
    order = torch.argsort(torch.rand(n, g * g, generator=gen), 1)
    tiles = tiles[torch.arange(n)[:, None], order]
    tiles = torch.rot90(tiles, int(torch.randint(1, 4, (1,), generator=gen)), (-2, -1))
    return tiles.reshape(n, g, g, 1, tile, tile).permute(0, 3, 1, 4, 2, 5).reshape(n, 1, SIZE, SIZE)


def heavy_blur(frames: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    soft = blur_frames(frames, float(_uniform(gen, 3.0, 5.5)))
    low, high = soft.amin((1, 2, 3), keepdim=True), soft.amax((1, 2, 3), keepdim=True)
    return (soft - low) / (high - low).clamp_min(1e-3) * 2 - 1


def warped(frames: torch.Tensor, gen: torch.Generator, pixels: float = 7.0) -> torch.Tensor:
    n = len(frames)
    flow = F.interpolate(
        torch.randn(n, 2, 5, 5, generator=gen), size=SIZE, mode="bicubic", align_corners=False
    )
    flow = flow / flow.flatten(1).std(1).view(n, 1, 1, 1) * pixels * 2 / SIZE  # grid units: 2 / SIZE a pixel
    axis = torch.linspace(-1, 1, SIZE)
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    grid = torch.stack([xs, ys], -1)[None] + flow.permute(0, 2, 3, 1)  # (N, H, W, 2)
    return F.grid_sample(frames, grid, padding_mode="border", align_corners=True)


def noise(n: int, gen: torch.Generator) -> torch.Tensor:
    std = _uniform(gen, 0.2, 1.0, n, 1, 1, 1)
    return (torch.randn(n, 1, SIZE, SIZE, generator=gen) * std - 1 + std).clamp(-1, 1)


def blank(n: int, gen: torch.Generator) -> torch.Tensor:
    level = _uniform(gen, -1.0, -0.8, n, 1, 1, 1)
    return (level + 0.02 * torch.randn(n, 1, SIZE, SIZE, generator=gen)).clamp(-1, 1)


def make_family(name: str, frames: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """len(frames) negatives of one family; `frames` are real digit frames (N, 1, 64, 64)
    that the families built from real frames start from."""
    n = len(frames)
    makers = {
        "scribble": lambda: scribble(n, gen),
        "blob": lambda: blob(n, gen),
        "shuffled": lambda: shuffled(frames, gen),
        "heavy_blur": lambda: heavy_blur(frames, gen),
        "warped": lambda: warped(frames, gen),
        "noise": lambda: noise(n, gen),
        "blank": lambda: blank(n, gen),
    }
    if name not in makers:
        raise ValueError(f"unknown negative family {name!r}; choose one of {FAMILIES}")
    return makers[name]()


def negatives(frames: torch.Tensor, n: int, gen: torch.Generator) -> torch.Tensor:
    """`n` non-digit frames (n, 1, 64, 64), every family in equal share, made from
    random picks of the real `frames` where a family needs them."""
    if frames.ndim != 4 or frames.shape[1:] != (1, SIZE, SIZE):
        raise ValueError(f"expected real frames (N, 1, {SIZE}, {SIZE}), got {tuple(frames.shape)}")
    per = math.ceil(n / len(FAMILIES))
    out = []
    for name in FAMILIES:
        pick = torch.randint(0, len(frames), (per,), generator=gen)
        out.append(make_family(name, frames[pick], gen))
    return torch.cat(out)[:n]
