"""Evaluator networks: small CNNs trained on our own data, whose labels we know.

The idea of the "Fréchet LeNet distance": a Fréchet distance is only as meaningful as
the features it compares. I3D (the FVD standard) cannot be downloaded here and rewards
per-frame quality more than motion, so we train our own feature extractors on tasks
that force them to see what we care about:

    mnist_frame  FrameClassifier  one frame  -> which digits are present (10 sigmoids)
    mnist_reader FrameClassifier  one frame  -> the same, also trained on frames that hold
                                                no digit (scribbles, blobs, noise: all off);
                                                it decides recognisability
    mnist_clip   ClipEncoder      16 frames  -> digit identities (10 sigmoids) AND the
                                                directions of motion of the digits over the
                                                clip (a histogram over 8 bins of 45 degrees)
    sky_clip     ClipEncoder      16 frames  -> wind speed, wind direction (cos, sin),
                                                cloud cover, time of day (regression)

Their penultimate features (`features(x)`, 64 numbers) feed the Fréchet distances.
Weights live in `minilvdm/weights/` (committed, a few MB, checked by CHECKSUMS.json)
and are rebuilt by `python -m minilvdm train-evaluators` (see `train_evaluators.py`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..core.checkpoint import sha256

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
WEIGHTS_ENV = "MINILVDM_EVAL_WEIGHTS"  # point at another folder, e.g. freshly retrained weights
KINDS = ("mnist_frame", "mnist_reader", "mnist_clip", "sky_clip")
FRAME_KINDS = ("mnist_frame", "mnist_reader")  # one frame in, digit presence out
CLIP_FRAMES, SIZE = 16, 64  # what the clip encoders were trained on
DIRECTIONS = 8  # motion direction bins of 45 degrees


@dataclass
class EvaluatorConfig:
    kind: str = "mnist_clip"
    in_channels: int = 1
    widths: tuple = (16, 32, 64, 96)
    feature_dim: int = 64
    outputs: int = 10 + DIRECTIONS  # head size: see the module docstring
    resolution: int = 32  # frames are resized to this before the network
    stem: str = ""  # "mnist_frame": read each frame with that classifier (frozen) first
    motion_lag: int = 0  # > 0: also read the cross-correlation of frames this far apart


def default_config(kind: str) -> EvaluatorConfig:
    if kind in FRAME_KINDS:
        return EvaluatorConfig(kind, 1, (32, 64, 96, 128), 64, 10, resolution=SIZE)
    if kind == "mnist_clip":  # digit shapes from the frame classifier, motion learnt on top
        return EvaluatorConfig(kind, 1, (128, 128), resolution=SIZE, stem="mnist_frame")
    if kind == "sky_clip":
        return EvaluatorConfig(kind, 3, outputs=5, motion_lag=4)  # speed, cos/sin dir, cover, tod
    raise ValueError(f"unknown evaluator kind {kind!r}; choose one of {KINDS}")


MOTION_RADIUS = 8  # the correlation map covers displacements of -8..8 pixels


def motion_correlation(x: torch.Tensor, lag: int, radius: int = MOTION_RADIUS) -> torch.Tensor:
    """(B, C, T, H, W) -> (B, (2r+1)^2): mean cross-correlation of frames `lag` apart,

        corr(d) = sum_p g_{t+lag}(p + d) g_t(p)   (circular, via FFT; g = grey frame minus
                                                   its temporal mean: what does not move)

    which peaks at d = lag * velocity. Slow, smooth cloud motion (under a pixel a frame)
    is hard for a small CNN to learn in a few minutes; this map hands it the displacement."""
    grey = x.float().mean(1)  # (B, T, H, W)
    b, t, h, w = grey.shape
    side = 2 * radius + 1
    if t <= lag:
        return grey.new_zeros(b, side * side)
    grey = grey - grey.mean(1, keepdim=True)
    spec = torch.fft.rfft2(grey)
    corr = torch.fft.irfft2(spec[:, lag:] * spec[:, :-lag].conj(), s=(h, w)).mean(1)  # (B, H, W)
    corr = corr / (grey.square().sum((2, 3)).mean(1)[:, None, None] + 1e-6)
    corr = torch.roll(corr, shifts=(radius, radius), dims=(1, 2))[:, :side, :side]
    return corr.reshape(b, side * side)


def _prepare(x: torch.Tensor, channels: int, size: int = SIZE) -> torch.Tensor:
    """Any (B, C, T, H, W) clip batch in [-1, 1] -> float on the size x size grid a net expects."""
    if x.ndim != 5:
        raise ValueError(f"expected videos (B, C, T, H, W), got shape {tuple(x.shape)}")
    if x.shape[1] != channels:
        raise ValueError(f"this evaluator reads {channels}-channel videos, got C={x.shape[1]}")
    x = x.float()
    if x.shape[-2:] != (size, size):  # resize each frame (antialiased)
        b, c, t, h, w = x.shape
        frames = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        frames = F.interpolate(
            frames, size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )
        x = frames.reshape(b, t, c, size, size).permute(0, 2, 1, 3, 4)
    return x.clamp(-1, 1)


class FrameClassifier(nn.Module):
    """2D CNN, 64x64 frame -> 64 features -> 10 digit-presence logits."""

    def __init__(self, cfg: EvaluatorConfig):
        super().__init__()
        self.config = cfg
        layers, c = [], cfg.in_channels
        for width in cfg.widths:  # each block halves the resolution: 64 -> 32 -> 16 -> 8 -> 4
            layers += [nn.Conv2d(c, width, 3, stride=2, padding=1), nn.BatchNorm2d(width), nn.SiLU()]
            c = width
        self.body = nn.Sequential(*layers)
        self.to_features = nn.Linear(2 * c, cfg.feature_dim)
        self.head = nn.Sequential(nn.SiLU(), nn.Linear(cfg.feature_dim, cfg.outputs))

    def features(self, frames: torch.Tensor) -> torch.Tensor:
        """(N, C, 64, 64) -> (N, 64): the penultimate layer. Mean and max pooling: a digit
        is present if it is anywhere (max), and how much of the frame it covers (mean)."""
        h = self.body(frames)
        return self.to_features(torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], 1))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(frames))  # (N, 10) logits

    @torch.no_grad()
    def frame_features(self, videos: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, T, 64) features of every frame."""
        x = _prepare(videos, self.config.in_channels)
        b, c, t = x.shape[:3]
        frames = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, SIZE, SIZE)
        out = torch.cat([self.features(frames[i : i + batch]) for i in range(0, len(frames), batch)])
        return out.reshape(b, t, -1)

    @torch.no_grad()
    def frame_probs(self, videos: torch.Tensor, batch: int = 256) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, T, 10) probability that each digit class is in each frame."""
        feats = self.frame_features(videos, batch)
        return torch.sigmoid(self.head(feats))


class ClipEncoder(nn.Module):
    """3D CNN, 16-frame clip -> 64 features -> task head.

    Moving MNIST (`stem='mnist_frame'`): each 64x64 frame goes through the trained frame
    classifier (frozen: digit shapes are learnt once, on frames); 3x3x3 convolutions on
    its 4x4 feature maps mix time and space so the features carry motion, and its
    per-frame features, averaged over time, carry the digits.
    Sky: learnt from scratch at 32x32 (clouds and light need no fine detail, and a CPU
    trains it 4x faster); a 1x3x3 block per frame, then 3x3x3 blocks, plus a branch
    reading `motion_correlation` at 64x64 (where the clouds move).
    Global pooling over (T, H, W) makes it accept any length.
    """

    def __init__(self, cfg: EvaluatorConfig):
        super().__init__()
        self.config = cfg
        self.stem, c = None, cfg.in_channels
        extra = 0
        if cfg.stem:  # a trained frame classifier reads each frame: 64x64 -> 128 x 4x4 maps
            self.stem = FrameClassifier(default_config(cfg.stem)).requires_grad_(False)
            c, extra = default_config(cfg.stem).widths[-1], default_config(cfg.stem).feature_dim
            spec = [((3, 3, 3), (2, 1, 1)), ((3, 3, 3), (2, 1, 1))]  # T x 4 -> T/2 x 4 -> T/4 x 4
        else:
            spec = [  # (kernel, stride): T x 32 -> T x 16 -> T x 8 -> T/2 x 4 -> T/4 x 4
                ((1, 3, 3), (1, 2, 2)),
                ((3, 3, 3), (1, 2, 2)),
                ((3, 3, 3), (2, 2, 2)),
                ((3, 3, 3), (2, 1, 1)),
            ]
        layers = []
        for width, (k, s) in zip(cfg.widths, spec):
            pad = tuple(x // 2 for x in k)
            layers += [nn.Conv3d(c, width, k, stride=s, padding=pad), nn.BatchNorm3d(width), nn.SiLU()]
            c = width
        self.body = nn.Sequential(*layers)
        self.motion = None
        if cfg.motion_lag:
            self.motion = nn.Sequential(nn.Linear((2 * MOTION_RADIUS + 1) ** 2, 64), nn.SiLU())
        extra += 64 if cfg.motion_lag else 0
        self.to_features = nn.Linear(2 * c + extra, cfg.feature_dim)
        self.head = nn.Sequential(
            nn.SiLU(), nn.Linear(cfg.feature_dim, 128), nn.SiLU(), nn.Linear(128, cfg.outputs)
        )

    def train(self, mode: bool = True):
        super().train(mode)
        if self.stem is not None:
            self.stem.eval()  # frozen: its batch-norm statistics stay those of the classifier
        return self

    def features(self, clips: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, 64): the penultimate layer (mean and max pooled)."""
        x = _prepare(clips, self.config.in_channels, self.config.resolution)
        extra = []
        if self.stem is not None:
            b, c, t, h, w = x.shape
            maps = self.stem.body(x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w))  # (B*T, 128, 4, 4)
            frame_feats = self.stem.to_features(torch.cat([maps.mean((2, 3)), maps.amax((2, 3))], 1))
            extra.append(frame_feats.reshape(b, t, -1).mean(1))  # what the frames show, on average
            x = maps.reshape(b, t, *maps.shape[1:]).permute(0, 2, 1, 3, 4)  # (B, 128, T, 4, 4)
        h = self.body(x)
        pooled = [h.mean(dim=(2, 3, 4)), h.amax(dim=(2, 3, 4)), *extra]
        if self.motion is not None:
            full = _prepare(clips, self.config.in_channels, SIZE)
            pooled.append(self.motion(motion_correlation(full, self.config.motion_lag)))
        return self.to_features(torch.cat(pooled, 1))

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(clips))

    @torch.no_grad()
    def clip_features(self, videos: torch.Tensor, batch: int = 64, window: int = CLIP_FRAMES) -> torch.Tensor:
        """(B, C, T, H, W) in [-1, 1] -> (B, 64).

        T == 16: one pass. T > 16: the features of consecutive 16-frame windows (the
        last one aligned to the end), averaged. T < 16: one pass on the shorter clip
        (the network is convolutional in time), comparable only between equal lengths.
        """
        x = _prepare(videos, self.config.in_channels, self.config.resolution)
        t = x.shape[2]
        starts = [0] if t <= window else sorted({*range(0, t - window + 1, window), t - window})
        feats = []
        for s in starts:
            clip = x[:, :, s : s + window]
            feats.append(torch.cat([self.features(clip[i : i + batch]) for i in range(0, len(clip), batch)]))
        return torch.stack(feats).mean(0)


def build(cfg: EvaluatorConfig) -> nn.Module:
    return FrameClassifier(cfg) if cfg.kind in FRAME_KINDS else ClipEncoder(cfg)


def weights_dir(folder: str | Path | None = None) -> Path:
    return Path(folder or os.environ.get(WEIGHTS_ENV) or WEIGHTS_DIR)


def weights_path(kind: str, folder: str | Path | None = None) -> Path:
    return weights_dir(folder) / f"{kind}.pt"


def save_evaluator(model: nn.Module, path: str | Path, metrics: dict | None = None) -> Path:
    """Weights + config + held-out metrics, readable with weights_only=True. Float weights
    are stored as float16 (half the size; the metrics are measured with them), and a
    frozen stem is left out: it is loaded from its own file."""
    cfg = model.config

    def small(v):
        return v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu().clone()

    state = {
        "config": {**cfg.__dict__, "widths": list(cfg.widths)},
        "state_dict": {k: small(v) for k, v in model.state_dict().items() if not k.startswith("stem.")},
        "metrics": metrics or {},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return path


def read_checksums(folder: str | Path | None = None) -> dict:
    path = weights_dir(folder) / "CHECKSUMS.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def load_evaluator_from(path: str | Path, verify: str | None = None) -> nn.Module:
    """Load one evaluator file (offline, no code runs); check its sha256 if `verify` is given."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no evaluator weights at {path}; run `python -m minilvdm train-evaluators`")
    if verify is not None and sha256(path) != verify:
        raise ValueError(f"{path}: sha256 {sha256(path)} differs from the recorded {verify}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    cfg = EvaluatorConfig(**{**state["config"], "widths": tuple(state["config"]["widths"])})
    model = build(cfg)
    weights = {k: v.float() if v.is_floating_point() else v for k, v in state["state_dict"].items()}
    if cfg.stem:  # the frozen stem comes from its own (checksummed) file in the same folder
        stem = load_evaluator(cfg.stem, folder=str(path.parent))
        weights |= {f"stem.{k}": v for k, v in stem.state_dict().items()}
    model.load_state_dict(weights)
    model.metrics = state.get("metrics", {})
    return model.eval().requires_grad_(False)


def load_evaluator(kind: str, folder: str | None = None) -> nn.Module:
    """The committed evaluator `kind` (one of KINDS), in eval
    mode, on the CPU, checksum verified. Cached: every call returns the same module."""
    if kind not in KINDS:
        raise ValueError(f"unknown evaluator kind {kind!r}; choose one of {KINDS}")
    return _load_cached(kind, str(weights_dir(folder)))


@lru_cache(maxsize=8)
def _load_cached(kind: str, folder: str) -> nn.Module:
    path = weights_path(kind, folder)
    expected = read_checksums(folder).get(path.name)
    if expected is None:
        raise ValueError(f"{path.parent}/CHECKSUMS.json records no checksum for {path.name}")
    return load_evaluator_from(path, verify=expected)
