"""Evaluator networks: small CNNs trained on our own data, whose labels we know.

The idea of the "Fréchet LeNet distance": a Fréchet distance is only as meaningful as
the features it compares. I3D (the FVD standard) cannot be downloaded here and rewards
per-frame quality more than motion, so we train our own feature extractors on tasks
that force them to see what we care about:

    mnist_frame  FrameClassifier  one frame  -> which digits are present (10 sigmoids)
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

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
WEIGHTS_ENV = "MINILVDM_EVAL_WEIGHTS"  # point at another folder, e.g. freshly retrained weights
KINDS = ("mnist_frame", "mnist_clip", "sky_clip")
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


def default_config(kind: str) -> EvaluatorConfig:
    if kind == "mnist_frame":
        return EvaluatorConfig(kind, 1, (32, 64, 96, 128), 64, 10, resolution=SIZE)
    if kind == "mnist_clip":
        return EvaluatorConfig(kind, 1)
    if kind == "sky_clip":
        return EvaluatorConfig(kind, 3, outputs=5)  # speed, cos dir, sin dir, cover, tod
    raise ValueError(f"unknown evaluator kind {kind!r}; choose one of {KINDS}")


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
    """3D CNN, 16-frame clip seen at 32x32 -> 64 features -> task head.

    It reads clips at half resolution (motion and identity need no fine detail, and a
    CPU trains it 4x faster; fine detail is the frame classifier's job at 64x64). The
    first block acts on each frame (kernel 1x3x3), the rest mix time and space (3x3x3)
    so the features carry motion, not just appearance. Global pooling over (T, H, W)
    makes it accept any length.
    """

    def __init__(self, cfg: EvaluatorConfig):
        super().__init__()
        self.config = cfg
        w = cfg.widths
        spec = [  # (kernel, stride): T x 32 -> T x 16 -> T x 8 -> T/2 x 4 -> T/4 x 4
            ((1, 3, 3), (1, 2, 2)),
            ((3, 3, 3), (1, 2, 2)),
            ((3, 3, 3), (2, 2, 2)),
            ((3, 3, 3), (2, 1, 1)),
        ]
        layers, c = [], cfg.in_channels
        for width, (k, s) in zip(w, spec):
            pad = tuple(x // 2 for x in k)
            layers += [nn.Conv3d(c, width, k, stride=s, padding=pad), nn.BatchNorm3d(width), nn.SiLU()]
            c = width
        self.body = nn.Sequential(*layers)
        self.to_features = nn.Linear(2 * c, cfg.feature_dim)
        self.head = nn.Sequential(
            nn.SiLU(), nn.Linear(cfg.feature_dim, 128), nn.SiLU(), nn.Linear(128, cfg.outputs)
        )

    def features(self, clips: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, 64): the penultimate layer (mean and max pooled)."""
        h = self.body(_prepare(clips, self.config.in_channels, self.config.resolution))
        return self.to_features(torch.cat([h.mean(dim=(2, 3, 4)), h.amax(dim=(2, 3, 4))], 1))

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
    return FrameClassifier(cfg) if cfg.kind == "mnist_frame" else ClipEncoder(cfg)


def weights_dir(folder: str | Path | None = None) -> Path:
    return Path(folder or os.environ.get(WEIGHTS_ENV) or WEIGHTS_DIR)


def weights_path(kind: str, folder: str | Path | None = None) -> Path:
    return weights_dir(folder) / f"{kind}.pt"


def sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_evaluator(model: nn.Module, path: str | Path, metrics: dict | None = None) -> Path:
    """Weights + config + held-out metrics, readable with weights_only=True."""
    cfg = model.config
    state = {
        "config": {**cfg.__dict__, "widths": list(cfg.widths)},
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
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
    model.load_state_dict(state["state_dict"])
    model.metrics = state.get("metrics", {})
    return model.eval().requires_grad_(False)


def load_evaluator(kind: str, folder: str | None = None) -> nn.Module:
    """The committed evaluator `kind` in {'mnist_frame', 'mnist_clip', 'sky_clip'}, in eval
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
