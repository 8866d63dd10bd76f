"""The decoded-frame cache: a video folder decoded once into one uint8 array on disk.

    cache = prepare("my_videos", size=64)        # `python -m minilvdm prepare --data my_videos`
    clips = CachedClips(cache, frames=16, split="train")
    clips.batch([0, 5, 9])                       # (3, C, 16, 64, 64) float in [-1, 1]

Decoding JPEGs or H.264 and resizing costs milliseconds a frame; reading a memory-mapped
uint8 array costs microseconds, so training reads the cache. It lives under
outputs/frames/<folder>-<hash of its path>-<size>px-<channels>c/: `frames.npy` (N, size, size,
C) and `manifest.json` (source folder, size, counts, the runs of frames, what was skipped,
and a content check over file names, sizes and modification times). The manifest is
written last, so a killed prepare leaves no cache that looks finished; a folder whose content
check changed is prepared again. Window length and stride are chosen when reading, so the
VAE (8-frame clips) and the LVDM (16) share one cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info
from tqdm.auto import tqdm

from ..core.config import output_dir
from .frames import span_of, to_video, warn_skipped, window_starts
from .video_folder import FrameError, fingerprint, index_folder, iter_segment, select_split, walk

CACHE_FORMAT = 1


def cache_folder(root: str | Path, size: int, channels: int = 3) -> Path:
    root = Path(root).expanduser().resolve()
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", root.name).strip("_") or "videos"
    tag = hashlib.sha256(str(root).encode()).hexdigest()[:8]
    return output_dir() / "frames" / f"{stem}-{tag}-{size}px-{channels}c"


class _Decode(IterableDataset):
    """Segments split among workers; yields (segment, first position, frames or None, error)."""

    def __init__(self, segments, size: int, channels: int):
        self.segments, self.size, self.channels = segments, size, channels

    def __iter__(self):
        info = get_worker_info()
        wid, n = (info.id, info.num_workers) if info else (0, 1)
        for k in range(wid, len(self.segments), n):
            seg, pos = self.segments[k], 0
            try:
                for chunk in iter_segment(seg, self.size, self.channels, chunk=64):
                    yield k, pos, chunk, None
                    pos += len(chunk)
            except FrameError as err:
                if seg.kind == "frames":  # a bad frame in this chunk: go on one frame at a time
                    yield from self._rest(k, pos)
                else:  # a video stops at its first undecodable frame
                    yield k, pos, None, str(err)

    def _rest(self, k: int, pos: int):
        from .video_folder import decode_frames

        seg = self.segments[k]
        for i in range(pos, seg.length):
            try:
                yield k, i, decode_frames(seg, i, 1, self.size, self.channels), None
            except FrameError as err:
                yield k, i, None, str(err)


def _stale(manifest: dict, root: Path, size: int, channels: int, check: str) -> str:
    expected = {
        "format": CACHE_FORMAT,
        "source": str(root),
        "size": size,
        "channels": channels,
        "check": check,
    }
    return "; ".join(
        f"{k}: cache {manifest.get(k)!r} != now {v!r}" for k, v in expected.items() if manifest.get(k) != v
    )


def prepare(
    root: str | Path,
    size: int = 64,
    channels: int = 3,
    workers: int = 0,
    progress: bool = True,
    force: bool = False,
) -> FrameCache:
    """Decode `root` once into the cache (or reuse a cache whose content check still matches)."""
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder; expected a folder of video files or frame folders")
    if size < 1 or channels not in (1, 3) or workers < 0:
        raise ValueError(f"need size >= 1, channels 1 or 3, workers >= 0; got {size}, {channels}, {workers}")
    folder = cache_folder(root, size, channels)
    manifest_path = folder / "manifest.json"
    if manifest_path.is_file() and not force:
        manifest = json.loads(manifest_path.read_text())
        reason = _stale(manifest, root, size, channels, fingerprint(root, walk(root)[0]))
        if not reason:
            if progress:
                print(f"reusing frame cache {folder} ({manifest['frames']} frames)")
            return FrameCache(folder)
        print(f"frame cache {folder.name} is stale, preparing again: {reason}")
    segments, skipped, check = index_folder(root, progress)
    total = sum(s.length for s in segments)
    if not total:
        warn_skipped(f"prepare {root}", skipped)
        raise ValueError(f"{root}: no readable video file or image frame")
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path.unlink(missing_ok=True)  # from here on, no finished-looking cache
    offsets = np.cumsum([0] + [s.length for s in segments])
    tmp = folder / f".frames-{os.getpid()}.npy"
    frames = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(total, size, size, channels))
    good = [np.zeros(s.length, bool) for s in segments]
    loader = DataLoader(_Decode(segments, size, channels), batch_size=None, num_workers=workers)
    with tqdm(total=total, desc=f"prepare {root.name}", unit="frame", disable=not progress) as bar:
        for k, pos, chunk, error in loader:
            if error is not None:
                skipped.append(error)
                continue
            chunk = chunk.numpy() if isinstance(chunk, torch.Tensor) else chunk
            frames[offsets[k] + pos : offsets[k] + pos + len(chunk)] = chunk
            good[k][pos : pos + len(chunk)] = True
            bar.update(len(chunk))
    frames.flush()
    del frames
    os.replace(tmp, folder / "frames.npy")
    runs = []
    for k, seg in enumerate(segments):  # runs of decoded frames: windows never cross a bad frame
        edges = np.flatnonzero(np.diff(np.concatenate([[0], good[k].astype(np.int8), [0]])))
        for a, b in zip(edges[::2], edges[1::2]):
            name = seg.name if a == 0 else f"{seg.name}@{seg.start + a}"
            runs.append(
                {"name": name, "split": seg.split, "offset": int(offsets[k] + a), "length": int(b - a)}
            )
    manifest = {
        "format": CACHE_FORMAT,
        "source": str(root),
        "size": size,
        "channels": channels,
        "check": check,
        "frames": int(sum(r["length"] for r in runs)),
        "files": int(sum(len(s.paths) for s in segments)),
        "segments": runs,
        "skipped": skipped,
    }
    tmp_manifest = folder / f".manifest-{os.getpid()}.json"
    tmp_manifest.write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    os.replace(tmp_manifest, manifest_path)
    warn_skipped(f"prepare {root}", skipped)
    if progress:
        print(f"frame cache {folder}: {manifest['frames']} frames in {len(runs)} runs")
    return FrameCache(folder)


class FrameCache:
    """A prepared cache: `manifest` (a dict) and `frames`, the (N, size, size, C) uint8 memmap,
    opened lazily in each process (DataLoader workers open their own)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.manifest = json.loads((self.folder / "manifest.json").read_text())
        self.size, self.channels = self.manifest["size"], self.manifest["channels"]
        self._frames = None

    @property
    def frames(self) -> np.ndarray:
        if self._frames is None:
            self._frames = np.load(self.folder / "frames.npy", mmap_mode="r")
        return self._frames

    def __getstate__(self):  # a worker started by 'spawn' maps the file itself
        return {**self.__dict__, "_frames": None}


class CachedClips(torch.utils.data.Dataset):
    """Windows of `frames` frames every `stride` of a cache's runs in one split ('train',
    'test' or 'all'). `ds[i]` -> {'video': (C, T, H, W) in [-1, 1], 'labels': (0,), 'name'};
    `ds.batch(indices)` -> (B, C, T, H, W), one gather from the memmap."""

    def __init__(self, cache: FrameCache, frames: int = 16, stride: int = 1, split: str = "all"):
        if frames < 1 or stride < 1:
            raise ValueError(f"frames and stride must be >= 1, got {frames}, {stride}")
        self.cache, self.frames_per_clip, self.stride = cache, frames, stride
        runs = select_split(_Runs.of(cache.manifest["segments"]), split, cache.manifest["source"])
        span, skipped, starts, names = span_of(frames, stride), [], [], []
        for run in runs:
            if run.length < span:
                skipped.append(f"{run.name}: {run.length} frames, shorter than one clip ({span})")
            for s in window_starts(run.length, frames, stride):
                starts.append(run.offset + s)
                names.append(run.name)
        warn_skipped(f"CachedClips {cache.manifest['source']}", skipped)
        if not starts:
            raise ValueError(
                f"{cache.manifest['source']}: no {split!r} video holds {frames} frames at stride {stride} "
                f"({span} consecutive frames)"
            )
        self.starts, self.names = np.asarray(starts, np.int64), names
        self._offsets = np.arange(0, span, stride)

    def __len__(self) -> int:
        return len(self.starts)

    def frames(self, indices) -> np.ndarray:
        """(B, T, H, W, C) uint8 of windows `indices`."""
        idx = self.starts[np.asarray(indices, np.int64)]
        return self.cache.frames[idx[:, None] + self._offsets]

    def batch(self, indices) -> torch.Tensor:
        return to_video(self.frames(list(indices)))

    def __getitem__(self, index):
        if isinstance(index, (list, tuple)):  # a whole batch (DataLoader with batch_size=None)
            return self.batch(index)
        return {"video": self.batch([index])[0], "labels": torch.zeros(0), "name": self.names[index]}


class _Runs:
    """Manifest runs with the attributes select_split reads."""

    def __init__(self, entry: dict):
        self.name, self.split = entry["name"], entry["split"]
        self.offset, self.length = entry["offset"], entry["length"]

    @staticmethod
    def of(entries):
        return [_Runs(e) for e in entries]
