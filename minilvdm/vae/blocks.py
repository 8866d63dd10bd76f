"""Building blocks of the 3D video VAE: per-frame group norm, 3D ResBlocks (full 3D or
factorized 2D+1D), down/up-sampling in time and space, and the encoder/decoder stacks.

Every tensor is (B, C, T, H, W). Two rules make chunked encoding/decoding exact:
  * normalisation never mixes frames (GroupNorm statistics are per frame), and
  * the only ops that mix frames are temporal convolutions with a known radius, so a
    chunk decoded with `time_radius` context frames on each side equals one-shot decoding.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

BLOCKS = ("factorized", "full", "spatial")


class FrameGroupNorm(nn.Module):
    """GroupNorm whose statistics are taken over (C/G, H, W) of each frame separately.

    Plain GroupNorm on (B, C, T, H, W) averages over all T frames, so a frame's output
    would depend on every other frame and chunked decoding could never match one-shot."""

    def __init__(self, channels: int, groups: int = 8, eps: float = 1e-6):
        super().__init__()
        self.groups = math.gcd(groups, channels)
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):  # (B, C, T, H, W)
        b, c, t, h, w = x.shape
        # Frames become batch items, so F.group_norm's fused kernel takes per-frame statistics.
        frames = x.transpose(1, 2).reshape(b * t, c, h, w)
        frames = F.group_norm(frames, self.groups, self.weight, self.bias, self.eps)
        return frames.view(b, t, c, h, w).transpose(1, 2)


class STConv(nn.Module):
    """A 3x3x3 space-time convolution in one of three forms:
    full        Conv3d k=(3, 3, 3)                   27 C_in C_out weights
    factorized  Conv3d k=(1, 3, 3) then k=(3, 1, 1)  (2+1)D, 9 C_in C_out + 3 C_out^2
    spatial     Conv3d k=(1, 3, 3)                   per frame: an image conv
    `time_radius` is how many frames it looks to each side."""

    def __init__(self, c_in: int, c_out: int, block: str = "factorized", zero_temporal: bool = False):
        super().__init__()
        if block not in BLOCKS:
            raise ValueError(f"block must be one of {BLOCKS}, got {block!r}")
        self.block = block
        if block == "full":
            self.conv = nn.Conv3d(c_in, c_out, 3, padding=1)
        else:
            self.conv = nn.Conv3d(c_in, c_out, (1, 3, 3), padding=(0, 1, 1))
        self.temporal = None
        if block == "factorized":
            # Residual temporal conv: x + conv_t(x). Zero-initialised it starts as the identity,
            # which is how Video LDM inserts temporal layers into a trained image decoder.
            self.temporal = nn.Conv3d(c_out, c_out, (3, 1, 1), padding=(1, 0, 0))
            if zero_temporal:
                nn.init.zeros_(self.temporal.weight)
                nn.init.zeros_(self.temporal.bias)
        self.time_radius = 0 if block == "spatial" else 1

    def forward(self, x):
        x = self.conv(x)
        if self.temporal is not None:
            x = x + self.temporal(x)
        return x


class ResBlock3D(nn.Module):
    """x + conv(act(norm(conv(act(norm(x)))))), the LDM ResBlock with space-time convs."""

    def __init__(self, c_in: int, c_out: int, block: str = "factorized", zero_temporal: bool = False):
        super().__init__()
        self.norm1 = FrameGroupNorm(c_in)
        self.conv1 = STConv(c_in, c_out, block, zero_temporal)
        self.norm2 = FrameGroupNorm(c_out)
        self.conv2 = STConv(c_out, c_out, block, zero_temporal)
        self.skip = nn.Conv3d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.time_radius = self.conv1.time_radius + self.conv2.time_radius

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class Downsample(nn.Module):
    """Strided conv: space /2, and time /2 when `time` is set (kernel 2, stride 2 in time,
    no padding, so output frame j sees exactly input frames 2j, 2j+1)."""

    def __init__(self, channels: int, space: bool, time: bool):
        super().__init__()
        time_kernel = time_stride = 2 if time else 1
        space_stride = 2 if space else 1
        self.conv = nn.Conv3d(
            channels,
            channels,
            (time_kernel, 3, 3),
            stride=(time_stride, space_stride, space_stride),
            padding=(0, 1, 1),
        )
        self.time_step = time_stride

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    """Nearest-neighbour repeat (time x2 if `time`, space x2 if `space`), then a 2D conv that
    also narrows the channels (cheaper than convolving the wide tensor at the finer level).
    `time_mode='linear'`: time is interpolated between neighbouring frames instead of repeated,
    so a latent frame's output frames move on from the previous ones rather than holding still
    and jumping at the next latent frame (the time x4 sky VAE did: `frame_change_by_phase`)."""

    def __init__(self, c_in: int, c_out: int, space: bool, time: bool, time_mode: str = "nearest"):
        super().__init__()
        self.scale = (2 if time else 1, 2 if space else 1, 2 if space else 1)
        self.linear_time = time and time_mode == "linear"
        self.conv = nn.Conv3d(c_in, c_out, (1, 3, 3), padding=(0, 1, 1))
        self.time_step = self.scale[0]
        self.time_radius = 1 if self.linear_time else 0  # input frames read on each side

    def forward(self, x):
        if not self.linear_time:
            return self.conv(F.interpolate(x, scale_factor=self.scale, mode="nearest"))
        x = F.interpolate(x, scale_factor=(1, *self.scale[1:]), mode="nearest")
        x = F.interpolate(x, scale_factor=(2, 1, 1), mode="trilinear", align_corners=False)
        return self.conv(x)


def level_plan(time_factor: int, space_factor: int) -> list[tuple[bool, bool]]:
    """(down in space?, down in time?) for each level, outermost first. Time is downsampled
    in the outer levels: the full-resolution frames are the costliest on a CPU."""
    n_space, n_time = int(math.log2(space_factor)), int(math.log2(time_factor))
    levels = max(n_space, n_time)
    return [(i < n_space, i < n_time) for i in range(levels)]


def _block_for(block: str, temporal: bool) -> str:
    return block if temporal else "spatial"


def patchify(x: torch.Tensor, p: int) -> torch.Tensor:
    """(B, C, T, H, W) -> (B, C p^2, T, H/p, W/p): each p x p pixel patch becomes channels."""
    if p == 1:
        return x
    b, c, t, h, w = x.shape
    x = x.view(b, c, t, h // p, p, w // p, p).permute(0, 1, 4, 6, 2, 3, 5)
    return x.reshape(b, c * p * p, t, h // p, w // p)


def unpatchify(x: torch.Tensor, p: int) -> torch.Tensor:
    """The inverse of `patchify`."""
    if p == 1:
        return x
    b, cpp, t, h, w = x.shape
    x = x.view(b, cpp // (p * p), p, p, t, h, w).permute(0, 1, 4, 5, 2, 6, 3)
    return x.reshape(b, cpp // (p * p), t, h * p, w * p)


class Encoder(nn.Module):
    """x (B, C, T, H, W) -> posterior moments (B, 2c, T/ft, H/fs, W/fs).

    With `patch_size` p > 1 the first x p of space is a lossless patchify (space-to-depth):
    no convolution ever runs at full resolution, which is where a CPU spends its time."""

    def __init__(self, cfg):
        super().__init__()
        blk = _block_for(cfg.block, cfg.time_factor > 1)  # time x1: an image encoder per frame
        chans = [cfg.base_channels * m for m in cfg.channel_mult]
        plan = level_plan(cfg.time_factor, cfg.space_factor // cfg.patch_size)
        self.patch = cfg.patch_size
        self.conv_in = nn.Conv3d(cfg.in_channels * self.patch**2, chans[0], (1, 3, 3), padding=(0, 1, 1))
        self.levels = nn.ModuleList()
        c = chans[0]
        for i, (space, time) in enumerate(plan):
            c_out = chans[min(i, len(chans) - 1)]
            blocks = [ResBlock3D(c if j == 0 else c_out, c_out, blk) for j in range(cfg.blocks_per_level)]
            self.levels.append(
                nn.ModuleDict({"blocks": nn.Sequential(*blocks), "down": Downsample(c_out, space, time)})
            )
            c = c_out
        self.mid = ResBlock3D(c, c, blk)
        self.norm_out = FrameGroupNorm(c)
        self.conv_out = nn.Conv3d(c, 2 * cfg.latent_channels, (1, 3, 3), padding=(0, 1, 1))
        # Start with a narrow posterior (sigma ~ 0.05): with sigma = 1 the decoder first sees
        # mostly sampling noise, and with a small KL weight sigma ends up small anyway.
        nn.init.constant_(self.conv_out.bias[cfg.latent_channels :], -6.0)
        # Context (input frames per side) that makes a chunk's latents exact: radius of each
        # temporal conv times the time stride at its level, plus one down-step of alignment.
        radius, stride = 0, 1
        for level in self.levels:
            radius += sum(b.time_radius for b in level["blocks"]) * stride
            stride *= level["down"].time_step
        radius += self.mid.time_radius * stride
        self.time_radius = radius + cfg.time_factor

    def forward(self, x):
        h = self.conv_in(patchify(x, self.patch))
        for level in self.levels:
            h = level["down"](level["blocks"](h))
        h = self.mid(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    """z (B, c, t, h, w) -> x (B, C, t*ft, h*fs, w*fs). The mirror of the encoder.

    With `cfg.decoder_temporal` False (and time x1) every block is per-frame: an image
    decoder. Turned on, each block gets a zero-initialised temporal conv (Video LDM)."""

    def __init__(self, cfg):
        super().__init__()
        if cfg.time_factor > 1:
            blk = cfg.block
        else:  # image decoder, optionally with (2+1)D temporal layers inserted for fine-tuning
            blk = "factorized" if cfg.decoder_temporal else "spatial"
        zero_t = cfg.time_factor == 1  # temporal layers added to an image decoder start as identity
        chans = [cfg.base_channels * m for m in cfg.channel_mult]
        plan = level_plan(cfg.time_factor, cfg.space_factor // cfg.patch_size)
        self.patch = cfg.patch_size
        c = chans[min(max(len(plan) - 1, 0), len(chans) - 1)]
        self.conv_in = nn.Conv3d(cfg.latent_channels, c, (1, 3, 3), padding=(0, 1, 1))
        self.mid = ResBlock3D(c, c, blk, zero_t)
        self.levels = nn.ModuleList()
        for i in reversed(range(len(plan))):
            space, time = plan[i]
            c_out = chans[min(i, len(chans) - 1)]
            blocks = [ResBlock3D(c_out, c_out, blk, zero_t) for _ in range(cfg.blocks_per_level)]
            self.levels.append(
                nn.ModuleDict(
                    {
                        "up": Upsample(c, c_out, space, time, cfg.time_upsample),
                        "blocks": nn.Sequential(*blocks),
                    }
                )
            )
            c = c_out
        self.norm_out = FrameGroupNorm(c)
        self.conv_out = nn.Conv3d(c, cfg.in_channels * self.patch**2, (1, 3, 3), padding=(0, 1, 1))
        # Context in latent frames per side: a temporal conv running at time scale s (output
        # frames per latent frame) reaches radius / s latent frames.
        radius, scale = float(self.mid.time_radius), 1
        for level in self.levels:
            radius += level["up"].time_radius / scale  # read at the scale before the upsample
            scale *= level["up"].time_step
            radius += sum(b.time_radius for b in level["blocks"]) / scale
        self.time_radius = math.ceil(radius)

    def forward(self, z):
        h = self.mid(self.conv_in(z))
        for level in self.levels:
            h = level["blocks"](level["up"](h))
        return unpatchify(self.conv_out(F.silu(self.norm_out(h))), self.patch)
