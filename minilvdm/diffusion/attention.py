"""Self-attention for video feature maps: spatial, temporal (RoPE or relative bias) and joint.

The UNet carries features "folded" as (B*T, C, H, W) so spatial layers see one frame at a
time; every layer here takes that tensor and the number of frames T:

    SpatialAttention   tokens = the H*W positions of ONE frame       cost  B T (HW)^2
    TemporalAttention  tokens = the T frames at ONE position         cost  B HW T^2
    JointAttention     tokens = all T*H*W positions of the clip      cost  B (T HW)^2

Temporal position information (LaVie / LVDM):
    'rope'      rotary embedding on q and k: <R_i q, R_j k> = <q, R_{j-i} k>, so the logits
                depend only on the offset j - i between frames (LaVie)
    'relative'  a learned per-head bias b_h[clip(j - i)] added to the logits. LVDM's code
                adds Shaw-style relative embeddings to keys and values; the scalar-bias form
                keeps the same "offset only" property and passes through SDPA as a mask
    'none'      no position information (the temporal conv still breaks frame symmetry)

All attention goes through torch.nn.functional.scaled_dot_product_attention (flash /
memory-efficient kernels on CUDA, a fused kernel on CPU). The output projection of every
layer starts at zero unless `zero_init=False`, so a new layer starts as the identity.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

TEMPORAL_POSITIONS = ("rope", "relative", "none")


# ----------------------------------------------------------------------------- RoPE
def rope_angles(
    positions: torch.Tensor, dim: int, base: float = 10_000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of the rotation angles pos * base^(-2i/dim), each (L, dim) (pairs repeated)."""
    if dim % 2:
        raise ValueError(f"RoPE needs an even head dimension, got {dim}")
    freqs = base ** (-torch.arange(0, dim, 2, device=positions.device, dtype=torch.float32) / dim)  # (dim/2,)
    angles = positions.float()[:, None] * freqs[None]  # (L, dim/2)
    angles = torch.cat([angles, angles], dim=-1)  # (L, dim): rotate (x_i, x_{i+dim/2}) pairs
    return angles.cos(), angles.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each (x_i, x_{i+d/2}) pair of x (..., L, d) by its position's angle."""
    x1, x2 = x.chunk(2, dim=-1)
    rotated = torch.cat([-x2, x1], dim=-1)
    return x * cos.to(x.dtype) + rotated * sin.to(x.dtype)


# ----------------------------------------------------------------------------- core
class Attention(nn.Module):
    """Pre-norm multi-head self-attention on tokens (N, L, C), with a residual."""

    def __init__(self, channels: int, head_channels: int = 32, zero_init: bool = True):
        super().__init__()
        self.heads = max(1, channels // head_channels)
        if channels % self.heads:
            raise ValueError(f"channels {channels} must be divisible by the number of heads {self.heads}")
        self.norm = nn.LayerNorm(channels)
        self.qkv = nn.Linear(channels, 3 * channels, bias=False)
        self.out = nn.Linear(channels, channels)
        if zero_init:
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

    def qkv_heads(self, tokens: torch.Tensor):
        q, k, v = self.qkv(self.norm(tokens)).chunk(3, dim=-1)  # (N, L, C) each
        return (rearrange(z, "n l (h d) -> n h l d", h=self.heads) for z in (q, k, v))

    def forward(self, tokens: torch.Tensor, rope=None, bias: torch.Tensor | None = None) -> torch.Tensor:
        q, k, v = self.qkv_heads(tokens)  # (N, heads, L, d)
        if rope is not None:
            q, k = apply_rope(q, *rope), apply_rope(k, *rope)
        # softmax(q k^T / sqrt(d) + bias) v
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=None if bias is None else bias.to(q.dtype))
        return tokens + self.out(rearrange(out, "n h l d -> n l (h d)"))


class SpatialAttention(nn.Module):
    """Self-attention among the H*W positions of each frame separately."""

    def __init__(self, channels: int, head_channels: int = 32):
        super().__init__()
        self.attn = Attention(channels, head_channels)

    def forward(self, x: torch.Tensor, frames: int | None = None) -> torch.Tensor:  # x (B*T, C, H, W)
        h, w = x.shape[-2:]
        tokens = rearrange(x, "n c h w -> n (h w) c")
        return rearrange(self.attn(tokens), "n (h w) c -> n c h w", h=h, w=w)


class TemporalAttention(nn.Module):
    """Self-attention among the T frames at each spatial position, with RoPE or a relative bias."""

    def __init__(
        self,
        channels: int,
        head_channels: int = 32,
        position: str = "rope",
        max_relative: int = 16,
        zero_init: bool = True,
    ):
        super().__init__()
        if position not in TEMPORAL_POSITIONS:
            raise ValueError(f"temporal position must be one of {TEMPORAL_POSITIONS}, got {position!r}")
        self.position, self.max_relative = position, max_relative
        self.attn = Attention(channels, head_channels, zero_init=zero_init)
        if position == "relative":  # b_h[offset], offsets clipped to [-max_relative, max_relative]
            self.relative_bias = nn.Parameter(torch.zeros(self.attn.heads, 2 * max_relative + 1))

    def bias(self, frames: int, device) -> torch.Tensor:
        """(heads, T, T) additive logits: b_h[clip(j - i)]."""
        pos = torch.arange(frames, device=device)
        offset = (pos[None, :] - pos[:, None]).clamp(
            -self.max_relative, self.max_relative
        ) + self.max_relative
        return self.relative_bias[:, offset]

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:  # x (B*T, C, H, W)
        h, w = x.shape[-2:]
        tokens = rearrange(x, "(b t) c h w -> (b h w) t c", t=frames)
        rope = bias = None
        if self.position == "rope":
            rope = rope_angles(torch.arange(frames, device=x.device), tokens.shape[-1] // self.attn.heads)
        elif self.position == "relative":
            bias = self.bias(frames, x.device)
        out = self.attn(tokens, rope=rope, bias=bias)
        return rearrange(out, "(b h w) t c -> (b t) c h w", h=h, w=w)


class JointAttention(nn.Module):
    """Self-attention among all T*H*W positions of a clip at once (LVDM's comparison).
    With time disabled it attends within each frame, i.e. it is spatial attention."""

    def __init__(self, channels: int, head_channels: int = 32):
        super().__init__()
        self.attn = Attention(channels, head_channels)

    def forward(self, x: torch.Tensor, frames: int, enable_time: bool = True) -> torch.Tensor:
        h, w = x.shape[-2:]
        t = frames if enable_time else 1
        tokens = rearrange(x, "(b t) c h w -> b (t h w) c", t=t)
        return rearrange(self.attn(tokens), "b (t h w) c -> (b t) c h w", t=t, h=h, w=w)
