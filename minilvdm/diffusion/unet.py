"""The factorized space-time UNet: spatial layers per frame, temporal layers per position.

    cfg = UNetConfig.for_profile(in_channels=4, num_classes=10)
    net = SpaceTimeUNet(cfg)
    out = net(x, t, class_label=y, extra_scalars={"s": s}, context=mask_and_frames,
              frame_index=idx, enable_time=True)           # x (B, C, T, H, W) -> same shape
    counts = freeze_spatial(net)                           # Video LDM: train temporal layers only

Layout inside: features are "folded" to (B*T, C, H, W), so every spatial layer (2D conv,
GroupNorm, spatial attention, down/up-sampling) sees one frame at a time and the image
network is exactly this network with the temporal layers removed. After each spatial
ResBlock comes a temporal conv (kernel 3 along T); after each spatial attention a
temporal attention (RoPE, relative bias or none), or one joint space-time attention
instead of both (`joint_attention=True`). `clip_context=True` pools the middle block's
features over the whole clip (T, H, W) and adds them to every frame's embedding on the way
up: one hop that hands each frame the clip's content, where attention reaches near frames.

A new temporal layer starts as the identity, so inserting a temporal stack into a trained
image network leaves its output unchanged:
    temporal_init='zero'      y = x + Conv_T(SiLU(GN(x))) with Conv_T = 0 (and attention
                              output projections = 0)
    temporal_init='identity'  y = Conv_T(x) with a Dirac kernel (centre tap = I)
    alpha_mixing=True         Video LDM: y = a x + (1 - a) temporal(x), learnable a in [0, 1],
                              a = 0.5 at start; temporal(x) starts as in 'zero', so y = x
Image mode: T = 1 or `enable_time=False` skips every temporal layer (LaVie's joint
image-video training, Video LDM's lift).

Conditioning, each optional (set in UNetConfig, given in forward):
    timestep t          (B,) or scalar        sinusoidal -> MLP
    class_label         (B,) ints             learned embedding; -1 or None = the null token
    extra_scalars       {name: (B,)}          one sinusoid -> MLP per name (LVDM's s, stride)
    context             (B, C_ctx, T, H, W)   concatenated to the input (mask + frames); zeros if None
    frame_index         (T,) or (B, T)        per-frame embedding (VideoFusion's residual generator)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from ..core.config import OMIT_AT_DEFAULT
from ..core.presets import preset
from .attention import JointAttention, SpatialAttention, TemporalAttention

TEMPORAL_NAMES = ("temporal", "frame_embed")  # parameters an image network does not have


@dataclass
class UNetConfig:
    in_channels: int = 4
    out_channels: int = 0  # 0: same as in_channels
    model_channels: int = 32
    channel_mult: tuple = (1, 2, 2)
    num_res_blocks: int = 1
    attention_resolutions: tuple = (2, 4)  # downsampling factors with attention (LDM convention)
    head_channels: int = 32
    norm_groups: int = 8
    dropout: float = 0.0
    # temporal layers
    temporal_layers: bool = True  # False: an image network (no temporal parameters at all)
    temporal_attention: str = "rope"  # 'rope' | 'relative' | 'none' (no temporal attention)
    joint_attention: bool = False  # one space-time attention instead of spatial + temporal
    temporal_init: str = "zero"  # 'zero' | 'identity'
    alpha_mixing: bool = False
    max_relative: int = 16
    clip_context: bool = field(default=False, metadata=OMIT_AT_DEFAULT)  # clip-pooled mid features
    # conditioning
    num_classes: int = 0
    scalar_embeddings: tuple = ()  # e.g. ('s', 'stride')
    context_channels: int = 0
    frame_index_embedding: bool = False

    def validate(self) -> None:
        if self.temporal_attention not in ("rope", "relative", "none"):
            raise ValueError(
                f"temporal_attention must be 'rope', 'relative' or 'none', got {self.temporal_attention!r}"
            )
        if self.temporal_init not in ("zero", "identity"):
            raise ValueError(f"temporal_init must be 'zero' or 'identity', got {self.temporal_init!r}")
        for mult in self.channel_mult:
            if (self.model_channels * mult) % self.norm_groups:
                raise ValueError(f"channels {self.model_channels * mult} must be divisible by norm_groups")

    @classmethod
    def for_profile(cls, profile: str | None = None, **overrides) -> UNetConfig:
        """The profile's sizes (presets.py `unet`): ci = seconds, quick = minutes on 2 CPU cores,
        full = a GPU."""
        return cls(**{**preset(profile=profile).unet.kwargs(), **overrides})


def sinusoid(values: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """(...,) numbers -> (..., dim) features [cos(v f_i), sin(v f_i)], f_i = max_period^(-i/half)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=values.device) / half)
    angles = values.float()[..., None] * freqs
    return torch.cat([angles.cos(), angles.sin()], dim=-1)


def embed_mlp(dim: int, out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, out), nn.SiLU(), nn.Linear(out, out))


ALPHA_INIT = 0.5  # Video LDM's mixing factor at the start of the lift


class TemporalLayer(nn.Module):
    """Base for layers that mix frames: applies `temporal(x)` and, with alpha mixing,
    returns a x + (1 - a) temporal(x) with a in [0, 1] (Video LDM)."""

    def __init__(self, alpha_mixing: bool):
        super().__init__()
        # 0.5, not 1: at a = 1 neither a nor temporal(x) gets a gradient once temporal(x) = x at
        # init, and a step above 1 is projected back, so the layer would never learn
        self.temporal_alpha = nn.Parameter(torch.full((), ALPHA_INIT)) if alpha_mixing else None

    def mix(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.temporal_alpha is None:
            return y
        # Unconstrained, a drifts above 1 (7 of 12 did): a x + (1 - a) y then extrapolates
        # away from the temporal output instead of mixing. The Trainer projects after each step.
        a = self.temporal_alpha.clamp(0.0, 1.0)
        return a * x + (1 - a) * y

    def project_(self) -> None:
        """Keep a in [0, 1] (projected gradient descent; called by the Trainer after each step)."""
        if self.temporal_alpha is not None:
            self.temporal_alpha.clamp_(0.0, 1.0)


class TemporalConv(TemporalLayer):
    def __init__(self, channels: int, cfg: UNetConfig):
        super().__init__(cfg.alpha_mixing)
        self.residual = cfg.temporal_init == "zero" or cfg.alpha_mixing
        self.norm = nn.GroupNorm(cfg.norm_groups, channels) if self.residual else nn.Identity()
        self.conv = nn.Conv3d(channels, channels, (3, 1, 1), padding=(1, 0, 0))
        if cfg.temporal_init == "zero" or cfg.alpha_mixing:
            nn.init.zeros_(self.conv.weight)
            nn.init.zeros_(self.conv.bias)
        else:  # Dirac kernel: output frame t = input frame t
            with torch.no_grad():
                self.conv.weight.zero_()
                self.conv.weight[:, :, 1, 0, 0] = torch.eye(channels)
                self.conv.bias.zero_()

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:  # x (B*T, C, H, W)
        z = rearrange(x, "(b t) c h w -> b c t h w", t=frames)
        y = z + self.conv(F.silu(self.norm(z))) if self.residual else self.conv(z)
        return rearrange(self.mix(z, y), "b c t h w -> (b t) c h w")


class TemporalAttentionLayer(TemporalLayer):
    def __init__(self, channels: int, cfg: UNetConfig):
        super().__init__(cfg.alpha_mixing)
        self.attn = TemporalAttention(
            channels,
            cfg.head_channels,
            cfg.temporal_attention,
            cfg.max_relative,
            zero_init=True,  # the identity at init, with or without alpha mixing
        )

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        return self.mix(x, self.attn(x, frames))


class ResBlock(nn.Module):
    """Spatial ResBlock (two 3x3 convs per frame, embedding added in between), then a temporal conv."""

    def __init__(self, cin: int, cout: int, emb_dim: int, cfg: UNetConfig):
        super().__init__()
        g = cfg.norm_groups
        self.norm1, self.conv1 = nn.GroupNorm(g, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, cout)
        self.norm2, self.conv2 = nn.GroupNorm(g, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.dropout = nn.Dropout(cfg.dropout)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        self.temporal = TemporalConv(cout, cfg) if cfg.temporal_layers else None

    def forward(self, x, emb, frames: int, time: bool):  # x (B*T, C, H, W), emb (B*T, D)
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(F.silu(emb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        x = self.skip(x) + h
        return self.temporal(x, frames) if (time and self.temporal is not None) else x


class AttentionBlock(nn.Module):
    """Spatial then temporal self-attention, or one joint space-time attention."""

    def __init__(self, channels: int, cfg: UNetConfig):
        super().__init__()
        self.joint = cfg.joint_attention
        if self.joint:  # same parameter names as spatial attention: image weights load into it
            self.spatial = JointAttention(channels, cfg.head_channels)
            return
        self.spatial = SpatialAttention(channels, cfg.head_channels)
        use_temporal = cfg.temporal_layers and cfg.temporal_attention != "none"
        self.temporal = TemporalAttentionLayer(channels, cfg) if use_temporal else None

    def forward(self, x, emb, frames: int, time: bool):
        if self.joint:
            return self.spatial(x, frames, enable_time=time)
        x = self.spatial(x)
        return self.temporal(x, frames) if (time and self.temporal is not None) else x


class Downsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x, emb, frames, time):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x, emb, frames, time):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class SpaceTimeUNet(nn.Module):
    def __init__(self, cfg: UNetConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or UNetConfig()
        cfg.validate()
        ch, emb_dim = cfg.model_channels, 4 * cfg.model_channels
        self.time_embed = embed_mlp(ch, emb_dim)
        if cfg.num_classes:  # index num_classes is the learned null token
            self.class_embed = nn.Embedding(cfg.num_classes + 1, emb_dim)
        self.scalar_embed = nn.ModuleDict({name: embed_mlp(ch, emb_dim) for name in cfg.scalar_embeddings})
        if cfg.frame_index_embedding:
            self.frame_embed = embed_mlp(ch, emb_dim)
        self.conv_in = nn.Conv2d(cfg.in_channels + cfg.context_channels, ch, 3, padding=1)

        self.down, skips, ds = nn.ModuleList(), [ch], 1
        for level, mult in enumerate(cfg.channel_mult):
            for _ in range(cfg.num_res_blocks):
                layers = [ResBlock(ch, cfg.model_channels * mult, emb_dim, cfg)]
                ch = cfg.model_channels * mult
                if ds in cfg.attention_resolutions:
                    layers.append(AttentionBlock(ch, cfg))
                self.down.append(nn.ModuleList(layers))
                skips.append(ch)
            if level < len(cfg.channel_mult) - 1:
                self.down.append(nn.ModuleList([Downsample(ch)]))
                skips.append(ch)
                ds *= 2
        self.mid = nn.ModuleList(
            [ResBlock(ch, ch, emb_dim, cfg), AttentionBlock(ch, cfg), ResBlock(ch, ch, emb_dim, cfg)]
        )
        if cfg.clip_context:  # named temporal_*: an image network has none, and starts without it
            self.temporal_clip_embed = nn.Sequential(nn.SiLU(), nn.Linear(ch, emb_dim))
            nn.init.zeros_(self.temporal_clip_embed[1].weight)  # starts as the network without it
            nn.init.zeros_(self.temporal_clip_embed[1].bias)
        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(cfg.channel_mult))):
            for i in range(cfg.num_res_blocks + 1):
                layers = [ResBlock(ch + skips.pop(), cfg.model_channels * mult, emb_dim, cfg)]
                ch = cfg.model_channels * mult
                if ds in cfg.attention_resolutions:
                    layers.append(AttentionBlock(ch, cfg))
                if level > 0 and i == cfg.num_res_blocks:
                    layers.append(Upsample(ch))
                    ds //= 2
                self.up.append(nn.ModuleList(layers))
        self.norm_out = nn.GroupNorm(cfg.norm_groups, ch)
        self.conv_out = nn.Conv2d(ch, cfg.out_channels or cfg.in_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)  # the untrained network predicts 0
        nn.init.zeros_(self.conv_out.bias)
        self.downsampling = 2 ** (len(cfg.channel_mult) - 1)

    def embedding(self, t, batch, frames, device, class_label, extra_scalars, frame_index) -> torch.Tensor:
        """Sum of all conditioning embeddings, one per frame: (B*T, D)."""
        cfg, ch = self.cfg, self.cfg.model_channels
        t = torch.as_tensor(t, device=device)
        t = t.expand(batch) if t.ndim == 0 else t
        emb = self.time_embed(sinusoid(t, ch))  # (B, D)
        if cfg.num_classes:
            null = torch.full((batch,), cfg.num_classes, device=device, dtype=torch.long)
            if class_label is None:
                label = null
            else:  # ints or a (B,) tensor; -1 marks the null token (classifier-free dropout)
                label = torch.as_tensor(class_label, device=device).long().expand(batch)
                label = torch.where(label < 0, null, label)
            emb = emb + self.class_embed(label)
        elif class_label is not None:
            raise ValueError("class_label given but UNetConfig.num_classes = 0")
        extra_scalars = extra_scalars or {}
        unknown = set(extra_scalars) - set(cfg.scalar_embeddings)
        if unknown:
            raise ValueError(
                f"extra_scalars {sorted(unknown)} not in UNetConfig.scalar_embeddings {cfg.scalar_embeddings}"
            )
        for name, mlp in self.scalar_embed.items():
            if name not in extra_scalars:
                raise ValueError(f"extra_scalars must give {name!r} (UNetConfig.scalar_embeddings)")
            value = torch.as_tensor(extra_scalars[name], device=device, dtype=torch.float32).expand(batch)
            emb = emb + mlp(sinusoid(value, ch))
        emb = emb[:, None].expand(batch, frames, emb.shape[-1])  # (B, T, D)
        if cfg.frame_index_embedding:
            idx = torch.arange(frames, device=device) if frame_index is None else frame_index.to(device)
            emb = emb + self.frame_embed(sinusoid(idx.expand(batch, frames), ch))
        elif frame_index is not None:
            raise ValueError("frame_index given but UNetConfig.frame_index_embedding = False")
        return rearrange(emb, "b t d -> (b t) d")

    def forward(
        self,
        x: torch.Tensor,
        t: torch.Tensor,
        *,
        class_label: torch.Tensor | None = None,
        extra_scalars: dict | None = None,
        context: torch.Tensor | None = None,
        frame_index: torch.Tensor | None = None,
        enable_time: bool = True,
    ) -> torch.Tensor:
        cfg = self.cfg
        image_input = x.ndim == 4
        if image_input:  # (B, C, H, W) -> one frame
            x = x[:, :, None]
            context = None if context is None else context[:, :, None]
        if x.ndim != 5 or x.shape[1] != cfg.in_channels:
            raise ValueError(f"expected x of shape (B, {cfg.in_channels}, T, H, W), got {tuple(x.shape)}")
        b, _, frames, height, width = x.shape
        if height % self.downsampling or width % self.downsampling:
            raise ValueError(f"H and W must be multiples of {self.downsampling}, got {height}x{width}")
        if cfg.context_channels:
            if context is None:
                context = x.new_zeros(b, cfg.context_channels, frames, height, width)
            if context.shape != (b, cfg.context_channels, frames, height, width):
                raise ValueError(
                    f"context must be (B, {cfg.context_channels}, T, H, W), got {tuple(context.shape)}"
                )
            x = torch.cat([x, context.to(x.dtype)], dim=1)
        elif context is not None:
            raise ValueError("context given but UNetConfig.context_channels = 0")
        time = enable_time and frames > 1
        emb = self.embedding(t, b, frames, x.device, class_label, extra_scalars, frame_index)

        h = self.conv_in(rearrange(x, "b c t h w -> (b t) c h w"))
        skips = [h]
        for layers in self.down:
            for layer in layers:
                h = layer(h, emb, frames, time)
            skips.append(h)
        for layer in self.mid:
            h = layer(h, emb, frames, time)
        if cfg.clip_context and time:
            pooled = rearrange(h, "(b t) c h w -> b c (t h w)", t=frames).mean(-1)  # (B, C)
            clip = self.temporal_clip_embed(pooled)  # (B, D)
            emb = emb + clip.repeat_interleave(frames, dim=0)  # (B*T, D)
        for layers in self.up:
            h = torch.cat([h, skips.pop()], dim=1)
            for layer in layers:
                h = layer(h, emb, frames, time)
        h = self.conv_out(F.silu(self.norm_out(h)))
        out = rearrange(h, "(b t) c h w -> b c t h w", t=frames)
        return out[:, :, 0] if image_input else out


# ----------------------------------------------------------------------------- helpers
def is_temporal(name: str) -> bool:
    """True for parameters that exist only in the video network (temporal layers, alpha, frame embedding)."""
    return any(key in name for key in TEMPORAL_NAMES)


def count_parameters(model: nn.Module) -> dict:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    temporal = sum(p.numel() for n, p in model.named_parameters() if is_temporal(n))
    return {"trainable": trainable, "total": total, "temporal": temporal, "spatial": total - temporal}


def freeze_spatial(model: nn.Module) -> dict:
    """Video LDM: freeze every parameter the image network has; train only temporal ones."""
    for name, p in model.named_parameters():
        p.requires_grad_(is_temporal(name))
    return count_parameters(model)


def load_image_weights(video_model: nn.Module, image_state: dict) -> list[str]:
    """Copy an image network's weights into a video network (the lift). Returns the names
    of parameters left at their init; raises if anything but temporal layers is missing."""
    result = video_model.load_state_dict(image_state, strict=False)
    missing = [n for n in result.missing_keys if not is_temporal(n)]
    if missing or result.unexpected_keys:
        raise ValueError(
            f"image weights do not fit: missing {missing[:5]}, unexpected {result.unexpected_keys[:5]}"
        )
    return list(result.missing_keys)


def load_unconditional_weights(conditioned: SpaceTimeUNet, state: dict, shared_context: int = 0) -> list[str]:
    """Warm-start a UNet with extra inputs (context channels, scalar or frame-index embeddings,
    classes) from one trained without them, e.g. LVDM's prediction model from the short-clip
    LVDM, VideoFusion's residual generator from the classroom LVDM. Copies every weight the two
    share (the input convolution whole where both read the same inputs); new context channels
    of the input convolution, the output layer of each new scalar or frame-index embedding and
    the class embedding's null token start at 0, so at first the network computes what the
    unconditional one does and ignores its context, scalars and frame index; a new class
    embedding's labels start at N(0, 1), as a fresh nn.Embedding's, so that they differ from
    the first step (grown from 0, Adam moves them about one learning rate a step: the quick
    model warm started so followed its class in 0.35 of clips at best, with N(0, 1) labels in
    0.70; BENCHMARKS.md `guidance`). shared_context:
    how many context channels of the source (a self-conditioned UNet: its estimate)
    `conditioned` reads the same way, as its first ones; they are copied too. Returns the
    names of the new parameters; raises on any other mismatch."""
    own = conditioned.state_dict()
    latent = conditioned.cfg.in_channels
    fresh = [n for n in own if n not in state]
    unexpected = [n for n in state if n not in own]
    wrong = [n for n in own if n in state and n != "conv_in.weight" and own[n].shape != state[n].shape]
    source_in = state.get("conv_in.weight")
    widths = (latent + shared_context, own["conv_in.weight"].shape[1])
    if source_in is not None and (source_in.shape[1] not in widths or shared_context > widths[1] - latent):
        wrong.append("conv_in.weight")
    bad_fresh = [n for n in fresh if not n.startswith(("scalar_embed.", "class_embed.", "frame_embed."))]
    if unexpected or wrong or bad_fresh:
        raise ValueError(
            f"weights do not fit: unexpected {unexpected[:5]}, other shapes {wrong[:5]}, "
            f"missing {bad_fresh[:5]}"
        )
    with torch.no_grad():
        for name, value in state.items():
            if name == "conv_in.weight" and value.shape[1] != own[name].shape[1]:
                # (out, latent + context, 3, 3): the context columns the source lacks start at 0
                own[name].zero_()
                own[name][:, : value.shape[1]] = value
            else:
                own[name].copy_(value)
        new_mlps = [mlp for name, mlp in conditioned.named_modules() if f"{name}.0.weight" in fresh]
        for mlp in new_mlps:
            nn.init.zeros_(mlp[-1].weight)
            nn.init.zeros_(mlp[-1].bias)
        if conditioned.cfg.num_classes and "class_embed.weight" not in state:
            labels = conditioned.class_embed.weight  # (num_classes + 1, emb): the null token last
            nn.init.normal_(labels[:-1])
            nn.init.zeros_(labels[-1])  # dropped labels: the source model exactly
    return fresh
