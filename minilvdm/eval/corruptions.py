"""Known ways to damage real clips, each at severities 1 < 2 < 3, to test the metrics.

A metric earns trust when the floor (real vs real) is low and every damage scores
worse, more so as severity grows. Per-frame damage (noise, blur) must be seen by every
metric; temporal damage (frozen, shuffled, rewound frames, a digit changing identity)
leaves each frame realistic, so only a metric that sees motion can catch it.

    kind       what happens                                         severity 1 / 2 / 3
    noise      + Gaussian noise of std sigma (then clamped)         sigma 0.1 / 0.2 / 0.4
    blur       Gaussian blur of every frame, std sigma pixels       sigma 0.6 / 1.2 / 2.4
    freeze     one frame repeated over k frames in the middle       k = T/4 / T/2 / 3T/4
    shuffle    frames of a window of k frames put in random order   k = T/4 / T/2 / T
    rewind     play forward to T/2, then backwards: motion turns    fraction of clips
               back in mid-air (no wall), clouds turn against wind  0.25 / 0.5 / 1.0
    reverse    the whole clip played backwards                      fraction of clips
    identity   one digit changes class at T/2 (Moving MNIST;        fraction of clips
               needs `labels`, the batch dict of the data set)      0.25 / 0.5 / 1.0

`reverse` is a control, not damage: Moving MNIST's bouncing is time-reversible and the
synthetic sky's wind direction is uniform, so a reversed clip is another clip of the
same distribution. No distribution metric can see it, and the benchmark shows that.
"""

from __future__ import annotations

import math

import numpy as np
import torch

SEVERITIES = {
    "noise": (0.1, 0.2, 0.4),
    "blur": (0.6, 1.2, 2.4),
    "freeze": (0.25, 0.5, 0.75),
    "shuffle": (0.25, 0.5, 1.0),
    "rewind": (0.25, 0.5, 1.0),
    "reverse": (0.25, 0.5, 1.0),
    "identity": (0.25, 0.5, 1.0),
}
KINDS = tuple(SEVERITIES)
MNIST_KINDS = KINDS
SKY_KINDS = tuple(k for k in KINDS if k != "identity")


def _blur_matrix(size: int, kernel: torch.Tensor) -> torch.Tensor:
    """(size, size) M with M @ x = x reflect-padded and convolved with the 1-D `kernel`."""
    radius = (len(kernel) - 1) // 2
    index = torch.arange(-radius, size + radius)  # padded positions -> source pixels (reflect)
    index = index.abs()
    index = torch.where(index > size - 1, 2 * (size - 1) - index, index)
    rows = torch.arange(size)[:, None] + torch.arange(len(kernel))[None]  # (size, taps) padded positions
    matrix = torch.zeros(size, size)
    matrix.index_put_(
        (torch.arange(size)[:, None].expand_as(rows), index[rows]), kernel.expand_as(rows), accumulate=True
    )
    return matrix


def gaussian_blur(videos: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur every frame of (B, C, T, H, W) with a separable Gaussian of std `sigma` pixels
    (reflect padding): two matrix products, B_H x B_W^T, far faster on CPU than a
    one-channel convolution over every frame."""
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    h, w = videos.shape[-2:]
    if radius >= min(h, w):
        raise ValueError(f"blur radius {radius} needs frames larger than {h}x{w}")
    return _blur_matrix(h, kernel) @ videos.float() @ _blur_matrix(w, kernel).T


def _chosen(b: int, fraction: float, gen: torch.Generator) -> torch.Tensor:
    """Indices of round(fraction * b) clips, chosen at random."""
    return torch.randperm(b, generator=gen)[: round(fraction * b)]


def _rewind_order(t: int) -> list[int]:
    """0, 1, ..., T/2 - 1, then back: T/2 - 2, ... (reflecting at frame 0 if it gets there)."""
    half = t // 2
    period = max(1, 2 * (half - 1))
    order = list(range(half))
    for k in range(1, t - half + 1):
        pos = (half - 1 - k) % period
        order.append(pos if pos < half else period - pos)
    return order[:t]


def swap_identity(
    videos: torch.Tensor, labels: dict, rows: torch.Tensor, gen: torch.Generator
) -> torch.Tensor:
    """Re-render the Moving MNIST clips `rows` from their positions with fresh TEST-split
    digit images of the same classes, except that digit 0 becomes another class at T/2."""
    from ..data import load_digits
    from ..data.moving_mnist import render

    if labels is None or "digits" not in labels or "positions" not in labels:
        raise ValueError(
            "corruption 'identity' needs labels: the data set's batch dict with digits and positions"
        )
    digits = load_digits("test")
    rng = np.random.default_rng(int(torch.randint(0, 2**31, (1,), generator=gen)))
    out = videos.clone()
    t, size = videos.shape[2], videos.shape[-1]
    for row in rows.tolist():
        classes = labels["digits"][row]
        n = int((classes >= 0).sum())
        pos = labels["positions"][row, :, :n].numpy().astype(np.float64)  # (T, n, 2)
        pick = [rng.choice(np.flatnonzero(digits.labels == c)) for c in classes[:n].tolist()]
        other = rng.choice([c for c in range(10) if c != int(classes[0])])
        swap = rng.choice(np.flatnonzero(digits.labels == other))
        before = render(digits.images[pick], pos[: t // 2], size)
        after = render(digits.images[[swap, *pick[1:]]], pos[t // 2 :], size)
        out[row, 0] = torch.from_numpy(np.concatenate([before, after]) * 2 - 1)
    return out


def corrupt(videos: torch.Tensor, kind: str, severity: int, labels: dict | None = None, seed: int = 0):
    """Damage (B, C, T, H, W) clips in [-1, 1] with `kind` at `severity` in {0, 1, 2, 3}
    (0 returns a copy). See the module docstring for each kind. Deterministic in `seed`."""
    if kind not in SEVERITIES:
        raise ValueError(f"unknown corruption {kind!r}; choose one of {KINDS}")
    if severity not in (0, 1, 2, 3):
        raise ValueError(f"severity must be 0, 1, 2 or 3, got {severity!r}")
    if videos.ndim != 5:
        raise ValueError(f"expected videos (B, C, T, H, W), got shape {tuple(videos.shape)}")
    videos = videos.float().clone()
    if severity == 0:
        return videos
    level = SEVERITIES[kind][severity - 1]
    gen = torch.Generator().manual_seed(seed)
    b, t = videos.shape[0], videos.shape[2]
    if kind == "noise":
        return (videos + level * torch.randn(videos.shape, generator=gen)).clamp(-1, 1)
    if kind == "blur":
        return gaussian_blur(videos, level)
    if kind == "freeze":  # frame s held for k frames: s, s, ..., s (k times), then on from s + k
        k = max(2, round(level * t))
        s = (t - k) // 2
        videos[:, :, s : s + k] = videos[:, :, s : s + 1]
        return videos
    if kind == "shuffle":
        k = max(2, round(level * t))
        for row in range(b):
            s = int(torch.randint(0, t - k + 1, (1,), generator=gen))
            perm = torch.randperm(k, generator=gen)
            while k > 1 and bool((perm == torch.arange(k)).all()):
                perm = torch.randperm(k, generator=gen)
            videos[row, :, s : s + k] = videos[row, :, s + perm]
        return videos
    rows = _chosen(b, level, gen)
    if kind == "reverse":
        videos[rows] = videos[rows].flip(2)
        return videos
    if kind == "rewind":
        videos[rows] = videos[rows][:, :, _rewind_order(t)]
        return videos
    return swap_identity(videos, labels, rows, gen)
