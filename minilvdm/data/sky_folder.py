"""The SkyTimelapse folder loader: `<root>/sky_<split>/<video>/<clip>/<frame>.jpg`.

Each clip folder is cut into non-overlapping windows of `frames` frames taken every
`stride` frames. Every frame is decoded once while indexing, so bad input is found up
front and never crashes an epoch:

    missing root, or no usable clip at all   -> error naming the path and the rule
    zero-byte, unreadable or truncated frame -> its windows skipped, warning names the file
    frame size differs within a window       -> window skipped, warning names the file
    clip folder shorter than one window      -> skipped, warning names the folder
    empty folders                            -> skipped, counted in the warning

Reading never writes anything under the data root.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from .frames import (
    IMAGE_SUFFIXES,
    center_square,
    load_square,
    probe_image,
    to_video,
    warn_skipped,
    window_starts,
)
from .frames import natural_key as _natural_key
from .sky import SKY_LABELS

__all__ = ["IMAGE_SUFFIXES", "SkyConfig", "SkyTimelapse", "center_square"]


@dataclass
class SkyConfig:
    frames: int = 16
    stride: int = 1
    size: int = 64
    split: str = "train"


class SkyTimelapse(Dataset):
    """`ds[i]` -> {'video': (3, T, size, size) float in [-1, 1], 'labels': (4,) float
    (NaN where unknown, e.g. real data), 'name': str}. Label order: SKY_LABELS."""

    def __init__(self, root: str | Path, config: SkyConfig | None = None, progress: bool = False):
        self.config = cfg = config or SkyConfig()
        if cfg.frames < 1 or cfg.stride < 1 or cfg.size < 1:
            raise ValueError(f"frames, stride and size must be >= 1, got {cfg}")
        self.root = Path(root)
        split_dir = self.root / f"sky_{cfg.split}"
        if not split_dir.is_dir():
            raise FileNotFoundError(
                f"{split_dir} does not exist; expected <root>/sky_{cfg.split}/<video>/<clip>/<frame>.jpg"
            )
        labels_file = split_dir / "labels.json"
        self._labels = json.loads(labels_file.read_text()) if labels_file.is_file() else {}
        self.windows: list[tuple[str, list[Path], int]] = []  # (video/clip, frames, offset)
        self.skipped: list[str] = []
        clip_dirs = sorted(
            (c for v in sorted(split_dir.iterdir()) if v.is_dir() for c in v.iterdir() if c.is_dir()),
            key=lambda p: (p.parent.name, _natural_key(p)),
        )
        for clip_dir in tqdm(clip_dirs, desc=f"index sky_{cfg.split}", disable=not progress):
            self._index_clip(clip_dir)
        warn_skipped("SkyTimelapse", self.skipped)
        if not self.windows:
            raise ValueError(
                f"{split_dir}: no clip folder holds {cfg.frames} readable frames at stride "
                f"{cfg.stride} ({cfg.frames * cfg.stride - cfg.stride + 1} consecutive frames)"
            )

    def _index_clip(self, clip_dir: Path) -> None:
        cfg = self.config
        frames = sorted(
            (p for p in clip_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key
        )
        span = (cfg.frames - 1) * cfg.stride + 1
        if len(frames) < span:
            self.skipped.append(f"{clip_dir}: {len(frames)} frames, shorter than one clip ({span})")
            return
        probes = [probe_image(p) for p in frames]
        probes = [p if isinstance(p, str) else p[0] for p in probes]  # the size, or why not
        for start in window_starts(len(frames), cfg.frames, cfg.stride):
            chosen = list(range(start, start + span, cfg.stride))
            bad = [i for i in chosen if isinstance(probes[i], str)]
            if bad:
                self.skipped.append(f"{frames[bad[0]]}: {probes[bad[0]]}")
                continue
            sizes = {probes[i] for i in chosen}
            if len(sizes) > 1:
                odd = next(i for i in chosen if probes[i] != probes[chosen[0]])
                self.skipped.append(
                    f"{frames[odd]}: size {probes[odd]} differs from {probes[chosen[0]]} in its clip"
                )
                continue
            key = f"{clip_dir.parent.name}/{clip_dir.name}"
            self.windows.append((key, [frames[i] for i in chosen], start))

    def __len__(self) -> int:
        return len(self.windows)

    def _clip_labels(self, key: str, offset: int) -> torch.Tensor:
        entry = self._labels.get(key)
        if entry is None:
            return torch.full((len(SKY_LABELS),), float("nan"))
        span = slice(offset, offset + (self.config.frames - 1) * self.config.stride + 1)
        values = []
        for label in SKY_LABELS:
            value = entry[label]
            values.append(float(np.mean(value[span])) if isinstance(value, list) else float(value))
        return torch.tensor(values)

    def __getitem__(self, index: int) -> dict:
        key, paths, offset = self.windows[index]
        clip = to_video(np.stack([load_square(p, self.config.size) for p in paths]))  # (3, T, H, W)
        return {"video": clip, "labels": self._clip_labels(key, offset), "name": key}

    def videos(self, indices) -> torch.Tensor:
        """Clips stacked: (B, 3, T, H, W)."""
        return torch.stack([self[i]["video"] for i in indices])
