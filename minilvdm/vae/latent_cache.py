"""Clips for the VAE, and the latent cache that diffusion training reads.

    data = VideoDataConfig("mnist", split="train", frames=16, count=512)
    cache = load_or_encode_latents(vae, ckpt_path, data)   # encodes once, then reuses
    cache["latents"]   # (N, c, T/ft, H/fs, W/fs), already scaled to unit std
    cache["labels"]    # (N, ...) digits for Moving MNIST, SKY_LABELS for sky

The cache file records where it came from: the VAE checkpoint (path, size, SHA-256 of its
bytes, so a retrained VAE at the same path counts as another VAE) and the data config.
On load both are compared with the request; any mismatch re-encodes the data set and
says why. A cache is never reused for another VAE or another data config.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..core.checkpoint import save_checkpoint, sha256
from ..core.config import OMIT_AT_DEFAULT, config_to_dict, get_profile, output_dir
from ..core.presets import preset

DATASETS = ("mnist", "sky", "folder")  # folder: your own videos, at `path`
CACHE_FORMAT = 1


def video_size(dataset: str = "mnist") -> int:
    """Frame size the models train at: 64x64 on a CPU (ci, quick); the full sky profile trains
    at 128x128 on one GPU (presets.py `video_size`)."""
    return preset(dataset).video_size


@dataclass
class VideoDataConfig:
    dataset: str = "mnist"  # 'mnist' | 'sky'
    split: str = "train"
    frames: int = 16
    size: int = 64
    count: int = 256  # clips to encode into a cache (training draws from all of them)
    seed: int = 0
    crop: int = 0  # > 0: training takes random crop x crop windows (the VAE is convolutional)
    path: str = field(default="", metadata=OMIT_AT_DEFAULT)  # dataset 'folder': the folder, resolved

    def validate(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        if self.split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {self.split!r}")
        if self.frames < 1 or self.size < 1 or self.count < 1:
            raise ValueError(f"frames, size and count must be >= 1, got {self}")
        if (self.dataset == "folder") != bool(self.path):
            raise ValueError(f"only dataset 'folder' takes a path; got {self.dataset!r}, {self.path!r}")


def eval_data_config(dataset: str, clips: int | None = None, path: str = "") -> VideoDataConfig:
    """Held-out clips: unseen MNIST digits (split='test'), the sky test split, or your folder's
    held-out videos."""
    return VideoDataConfig(
        dataset,
        split="test",
        frames=16,
        size=video_size(dataset),
        count=clips or preset(dataset).eval_clips,
        path=path,
    )


class ClipSource:
    """Clips of a data config by index: `clips(indices) -> (video (B, C, T, H, W), labels)`.

    Moving MNIST is generated on the fly (any index). Sky clips are read from JPEG folders
    once and kept in memory (a few hundred small clips); a folder of your own videos is read
    from its decoded-frame cache (prepared on first use). Indices wrap around."""

    def __init__(self, cfg: VideoDataConfig):
        cfg.validate()
        self.cfg = cfg
        if cfg.dataset == "mnist":
            from ..data import MovingMNIST, MovingMNISTConfig

            mm = MovingMNISTConfig(frames=cfg.frames, size=cfg.size, split=cfg.split, seed=cfg.seed)
            self.mnist, self.length, self.channels = MovingMNIST(mm), None, 1
        elif cfg.dataset == "folder":
            from ..data.frame_cache import CachedClips, prepare

            cache = prepare(cfg.path, size=cfg.size)
            self.folder = CachedClips(cache, frames=cfg.frames, split=cfg.split)
            self.length, self.channels = len(self.folder), cache.channels
        else:
            from ..data import SkyConfig, SkyTimelapse, find_sky_root, sky_synthetic_config

            root, self.real = find_sky_root(sky_synthetic_config())
            self.sky = SkyTimelapse(root, SkyConfig(frames=cfg.frames, size=cfg.size, split=cfg.split))
            self.length, self.channels, self._memo = len(self.sky), 3, {}

    def clips(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        indices = [int(i) for i in indices]
        if self.cfg.dataset == "mnist":
            items = [self.mnist[i] for i in indices]
            return torch.stack([it["video"] for it in items]), torch.stack([it["digits"] for it in items])
        if self.cfg.dataset == "folder":
            return self.folder.batch([i % self.length for i in indices]), torch.zeros(len(indices), 0)
        out = []
        for i in indices:
            i %= self.length
            if i not in self._memo:
                item = self.sky[i]
                self._memo[i] = (item["video"], item["labels"])
            out.append(self._memo[i])
        return torch.stack([v for v, _ in out]), torch.stack([lab for _, lab in out])

    def videos(self, start: int, n: int) -> torch.Tensor:
        return self.clips(range(start, start + n))[0]


def file_fingerprint(path: str | Path) -> dict:
    """Identity of a checkpoint file: its name, size and SHA-256 of its bytes."""
    path = Path(path)
    return {"path": path.name, "bytes": path.stat().st_size, "sha256": sha256(path)}


def cache_path(data_cfg: VideoDataConfig, name: str | None = None, vae_checkpoint=None) -> Path:
    """One cache per data set, split, clip shape, clip count and VAE checkpoint: the short-clip
    model (16 frames) and the long-video models (32 or 64 frames) keep their own caches, and
    comparing two VAEs (or two training-set sizes) does not make each evict the other's latents."""
    folder = output_dir() / "latents"
    folder.mkdir(parents=True, exist_ok=True)
    cfg = data_cfg
    where = f"-{hashlib.sha256(cfg.path.encode()).hexdigest()[:8]}" if cfg.path else ""
    stem = name or f"{cfg.dataset}{where}-{cfg.split}-{cfg.frames}x{cfg.size}-n{cfg.count}"
    vae = f"-{Path(vae_checkpoint).stem}" if vae_checkpoint else ""
    return folder / f"{stem}{vae}-{get_profile()}.pt"


def _mismatch(found: dict, expected: dict) -> str:
    keys = sorted(set(found) | set(expected))
    return "; ".join(
        f"{k}: cache {found.get(k)!r} != now {expected.get(k)!r}"
        for k in keys
        if found.get(k) != expected.get(k)
    )


@torch.no_grad()
def encode_dataset(vae, data_cfg: VideoDataConfig, batch_size: int = 16, progress: bool = True) -> dict:
    """Encode `data_cfg.count` clips to scaled latents (posterior means x scale_factor)."""
    from tqdm.auto import tqdm

    source = ClipSource(data_cfg)
    count = data_cfg.count if source.length is None else min(data_cfg.count, source.length)
    device = next(vae.parameters()).device
    latents, labels = [], []
    for start in tqdm(range(0, count, batch_size), desc=f"encode {data_cfg.dataset}", disable=not progress):
        video, label = source.clips(range(start, min(count, start + batch_size)))
        latents.append(vae.encode_latents(video.to(device)).cpu())
        labels.append(label)
    return {"latents": torch.cat(latents), "labels": torch.cat(labels)}


def load_or_encode_latents(
    vae,
    vae_checkpoint: str | Path,
    data_cfg: VideoDataConfig,
    path: str | Path | None = None,
    batch_size: int = 16,
    progress: bool = True,
) -> dict:
    """The latents of `data_cfg` under this VAE, from the cache when it matches exactly.

    Returns {'latents', 'labels', 'meta', 'encoded'} where `encoded` says whether this
    call (re-)encoded. `vae` must be the model loaded from `vae_checkpoint`."""
    path = Path(path) if path else cache_path(data_cfg, vae_checkpoint=vae_checkpoint)
    meta = {
        "format": CACHE_FORMAT,
        "vae": file_fingerprint(vae_checkpoint),
        "data": config_to_dict(data_cfg),
        "scale_factor": float(vae.scale_factor),
    }
    if path.is_file():
        state = torch.load(path, map_location="cpu", weights_only=True)
        found = json.loads(state.get("meta", "{}"))
        reason = []
        if found.get("format") != CACHE_FORMAT:
            reason.append(f"format {found.get('format')} != {CACHE_FORMAT}")
        if found.get("vae") != meta["vae"]:
            reason.append(f"VAE checkpoint differs ({_mismatch(found.get('vae') or {}, meta['vae'])})")
        if found.get("data") != meta["data"]:
            reason.append(f"data config differs ({_mismatch(found.get('data') or {}, meta['data'])})")
        if not reason:
            if progress:
                print(f"reusing latent cache {path.name}: {tuple(state['latents'].shape)}")
            return {"latents": state["latents"], "labels": state["labels"], "meta": found, "encoded": False}
        print(f"latent cache {path.name} is stale, encoding again: " + "; ".join(reason))
    out = encode_dataset(vae, data_cfg, batch_size, progress)
    save_checkpoint({**out, "meta": json.dumps(meta)}, path)  # atomic write
    return {**out, "meta": meta, "encoded": True}
