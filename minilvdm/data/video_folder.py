"""Your own videos: a folder of video files (MP4, GIF, ...) and/or frame folders, any size, any
frame rate, RGB or grey. SkyTimelapse's `<split>/<video>/<clip>/<frame>.jpg` is one case.

    ds = VideoFolder("my_videos", VideoFolderConfig(frames=16, size=64, split="train"))
    ds[i]["video"]      # (C, T, size, size) float in [-1, 1]: centre square crop, bicubic resize

Sources: every video file is one; every folder that holds image files is one (its frames in
natural order). Splits: `train/` and `test/` (or `sky_train/`, `sky_test/`) folders when the
root has them, else every 5th video (by sorted name; a frame folder counts under its top-level
folder) is held out as 'test'. Indexing reads image headers and container metadata only, no
pixels, so it is fast; bad input never crashes an epoch:

    zero-byte, unreadable file, no video stream   -> skipped at indexing, warning names the file
    frame size (or colour mode) changes in a folder -> the folder is split there, named in the warning
    source shorter than one window                -> skipped, warning names it
    empty folders, symlink loops                  -> skipped, named in the warning
    a frame that fails to decode when read        -> that window is replaced by the next good one,
                                                     counted in `replaced`, warning names the file

Nothing is ever written under the data folder.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from .frames import (
    GREY_MODES,
    IMAGE_SUFFIXES,
    load_square,
    natural_key,
    probe_image,
    span_of,
    square_frame,
    to_video,
    warn_skipped,
    window_starts,
)

VIDEO_SUFFIXES = {".mp4", ".gif", ".mov", ".avi", ".mkv", ".webm", ".m4v"}
SPLIT_DIRS = {"train": ("train", "sky_train"), "test": ("test", "sky_test")}
SPLITS = ("train", "test", "all")
HOLDOUT_EVERY = 5


@dataclass
class VideoFolderConfig:
    frames: int = 16
    stride: int = 1
    size: int = 64
    split: str = "all"  # 'train' | 'test' | 'all'
    channels: int = 3  # 3: grey sources repeated to RGB; 1: RGB sources converted to grey

    def validate(self) -> None:
        if self.frames < 1 or self.stride < 1 or self.size < 1:
            raise ValueError(f"frames, stride and size must be >= 1, got {self}")
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")


@dataclass
class Segment:
    """A run of frames of one size: a whole video file, or a frame folder (or part of one)."""

    name: str  # path relative to the root; '@k' appended when a folder is split at frame k
    split: str  # 'train' | 'test'
    kind: str  # 'frames' | 'gif' | 'video'
    paths: list[str]  # the frame files, or the one video file
    length: int
    size: tuple[int, int]
    grey: bool
    fps: float = 0.0
    start: int = 0  # first frame of the run within its source
    extra: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- walking


def walk(root: Path) -> tuple[list[Path], list[str]]:
    """Image and video files under root (symlinks followed, loops cut), and what was skipped."""
    files, skipped, seen = [], [], set()
    for folder, dirs, names in os.walk(root, followlinks=True):
        inode = os.stat(folder)
        if (inode.st_dev, inode.st_ino) in seen:
            skipped.append(f"{folder}: symlink loop (folder already visited)")
            dirs[:] = []
            continue
        seen.add((inode.st_dev, inode.st_ino))
        dirs.sort()
        wanted = [n for n in names if Path(n).suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES]
        if not wanted and not dirs:
            skipped.append(f"{folder}: empty folder (no image or video files)")
        files += [Path(folder) / n for n in wanted]
    return files, skipped


def fingerprint(root: Path, files: list[Path]) -> str:
    """A content check over names, sizes and modification times: a changed folder, another check."""
    digest = hashlib.sha256()
    for path in sorted(files):
        try:
            info = path.stat()
            digest.update(f"{path.relative_to(root)}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
        except OSError:
            digest.update(f"{path.relative_to(root)}\0missing\n".encode())
    return digest.hexdigest()[:16]


def _split_of(rel: Path, split_dirs: bool, group_rank: dict[str, int]) -> str:
    if split_dirs:
        return next(s for s, names in SPLIT_DIRS.items() if rel.parts[0] in names)
    return "test" if group_rank[rel.parts[0]] % HOLDOUT_EVERY == HOLDOUT_EVERY - 1 else "train"


# ----------------------------------------------------------------------------- probing


def probe_video(path: Path):
    """(frames, (width, height), grey, fps) from container metadata, or why it cannot be used."""
    try:
        if path.stat().st_size == 0:
            return "zero-byte file"
        if path.suffix.lower() == ".gif":
            with Image.open(path) as im:
                return im.n_frames, im.size, im.mode in GREY_MODES, 0.0
        import imageio_ffmpeg

        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)]
        cmd += ["-map", "0:v:0", "-c", "copy", "-f", "null", "-"]  # demux only: counts packets, no decode
        out = subprocess.run(cmd, capture_output=True, timeout=120).stderr.decode(errors="replace")
    except Exception as err:
        return f"unreadable ({type(err).__name__}: {err})"
    stream = next((ln for ln in out.splitlines() if "Video:" in ln), None)
    counts = re.findall(r"frame=\s*(\d+)", out)
    if stream is None or not counts:
        last = out.strip().splitlines()[-1] if out.strip() else "no output"
        return f"unreadable (no video stream: {last})"
    flat = re.sub(r"\([^()]*\)", "", re.sub(r"\([^()]*\)", "", stream.split("Video:", 1)[1]))
    size = re.search(r"(\d+)x(\d+)", flat)
    fps = re.search(r"([\d.]+) fps", flat)
    pix_fmt = flat.split(",")[1].strip() if "," in flat else ""
    if size is None:
        return f"unreadable (no frame size in: {stream.strip()})"
    width, height = int(size.group(1)), int(size.group(2))
    rotation = re.search(r"rotation of (-?[\d.]+) degrees", out)
    if rotation and round(abs(float(rotation.group(1)))) % 180 == 90:  # ffmpeg auto-rotates phone videos
        width, height = height, width
    return int(counts[-1]), (width, height), pix_fmt.startswith("gray"), float(fps.group(1)) if fps else 0.0


def _frame_runs(folder: Path, frames: list[Path], rel: str, split: str, skipped: list[str]) -> list[Segment]:
    """A frame folder cut into runs of readable frames of one size and colour mode."""
    runs, current = [], None
    for i, path in enumerate(frames):
        probe = probe_image(path, decode=False)
        if isinstance(probe, str):
            skipped.append(f"{path}: {probe}")
            current = None
            continue
        size, grey = probe
        if current is not None and (current.size, current.grey) != (size, grey):
            skipped.append(f"{path}: size {size} differs from {current.size} in its folder (split there)")
            current = None
        if current is None:
            name = rel if not runs else f"{rel}@{i}"
            current = Segment(name, split, "frames", [], 0, size, grey, start=i)
            runs.append(current)
        current.paths.append(str(path))
        current.length += 1
    return runs


def index_folder(root: str | Path, progress: bool = False) -> tuple[list[Segment], list[str], str]:
    """Every usable run of frames under root: (segments, skipped, content check)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder; expected a folder of video files or frame folders")
    files, skipped = walk(root)
    rels = [f.relative_to(root) for f in files]
    split_dirs = any(r.parts[0] in SPLIT_DIRS["train"] + SPLIT_DIRS["test"] for r in rels if len(r.parts) > 1)
    if split_dirs:  # only files under train/ and test/ folders count
        rels = [r for r in rels if len(r.parts) > 1 and any(r.parts[0] in v for v in SPLIT_DIRS.values())]
    # held out together: a video file at the top, or everything under one top-level folder
    groups = {r.parts[0] for r in rels if len(r.parts) > 1 or r.suffix.lower() in VIDEO_SUFFIXES}
    groups = sorted(groups, key=lambda g: natural_key(Path(g)))
    rank = {g: i for i, g in enumerate(groups)}
    by_folder: dict[Path, list[Path]] = {}
    videos = []
    for rel in rels:
        if rel.suffix.lower() in VIDEO_SUFFIXES:
            videos.append(rel)
        else:
            by_folder.setdefault(rel.parent, []).append(root / rel)
    segments = []
    for rel in tqdm(videos, desc="index videos", disable=not progress):
        probe = probe_video(root / rel)
        if isinstance(probe, str):
            skipped.append(f"{root / rel}: {probe}")
            continue
        count, size, grey, fps = probe
        kind = "gif" if rel.suffix.lower() == ".gif" else "video"
        split = _split_of(rel, split_dirs, rank)
        segments.append(Segment(str(rel), split, kind, [str(root / rel)], count, size, grey, fps))
    for folder, frames in tqdm(sorted(by_folder.items()), desc="index frames", disable=not progress):
        frames.sort(key=natural_key)
        # a frame folder's group is its top folder; images right under root form one group
        split = _split_of(folder / "x", split_dirs, rank) if folder.parts else "train"
        segments += _frame_runs(root / folder, frames, str(folder), split, skipped)
    segments.sort(key=lambda s: natural_key(Path(s.name)))
    return segments, skipped, fingerprint(root, files)


# ----------------------------------------------------------------------------- decoding


class FrameError(RuntimeError):
    """A frame that failed to decode; names the file."""


def decode_frames(seg: Segment, start: int, count: int, size: int, channels: int) -> np.ndarray:
    """Frames start..start+count of a segment: (count, size, size, channels) uint8."""
    if seg.kind == "frames":
        out = []
        for path in seg.paths[start : start + count]:
            try:
                out.append(load_square(Path(path), size, channels))
            except Exception as err:
                raise FrameError(f"{path}: {type(err).__name__}: {err}") from err
        return np.stack(out)
    path = seg.paths[0]
    try:
        if seg.kind == "gif":
            with Image.open(path) as im:
                out = []
                for i in range(start, start + count):
                    im.seek(i)
                    out.append(square_frame(im, size, channels))
                return np.stack(out)
        return np.stack(list(_ffmpeg_frames(seg, start, count, size, channels)))
    except FrameError:
        raise
    except Exception as err:
        raise FrameError(f"{path}: {type(err).__name__}: {err}") from err


def _ffmpeg_frames(seg: Segment, start: int, count: int | None, size: int, channels: int):
    import imageio_ffmpeg

    seek = []
    if start and seg.fps > 0:  # accurate seek: the first frame at or after this time is `start`
        seek = ["-ss", f"{(start - 0.5) / seg.fps:.6f}"]
    skip = start if (start and seg.fps <= 0) else 0  # no frame rate: decode from the start
    limit = ["-frames:v", str(count + skip)] if count is not None else []
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", *seek]
    cmd += ["-i", seg.paths[0], "-map", "0:v:0", *limit, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    width, height = seg.size
    nbytes, got = width * height * 3, 0
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        for i in itertools.count():
            raw = proc.stdout.read(nbytes)
            if len(raw) < nbytes:
                break
            if i >= skip:
                frame = np.frombuffer(raw, np.uint8).reshape(height, width, 3)
                yield square_frame(Image.fromarray(frame), size, channels)
                got += 1
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
    if count is not None and got < count:
        raise FrameError(f"{seg.paths[0]}: decoded {got} of {count} frames from frame {start}")


def iter_segment(seg: Segment, size: int, channels: int, chunk: int = 256):
    """All frames of a segment in chunks of (<= chunk, size, size, channels) uint8, decoded in
    order (one pass over a video file); stops early (FrameError) at the first bad frame."""
    if seg.kind == "video":
        buf = []
        for frame in _ffmpeg_frames(seg, 0, seg.length, size, channels):
            buf.append(frame)
            if len(buf) == chunk:
                yield np.stack(buf)
                buf = []
        if buf:
            yield np.stack(buf)
        return
    for start in range(0, seg.length, chunk):
        yield decode_frames(seg, start, min(chunk, seg.length - start), size, channels)


# ----------------------------------------------------------------------------- the data set


def cut_windows(segments, frames: int, stride: int, skipped: list[str]) -> list[tuple[int, int]]:
    """(segment index, first frame) of every window; segments shorter than one are skipped."""
    span, windows = span_of(frames, stride), []
    for k, seg in enumerate(segments):
        if seg.length < span:
            skipped.append(f"{seg.name}: {seg.length} frames, shorter than one clip ({span})")
        windows += [(k, s) for s in window_starts(seg.length, frames, stride)]
    return windows


def select_split(segments: list[Segment], split: str, root) -> list[Segment]:
    chosen = [s for s in segments if split == "all" or s.split == split]
    if segments and not chosen:
        raise ValueError(
            f"{root}: no {split!r} videos: the folder has no {'/'.join(SPLIT_DIRS[split])} folder and "
            f"holds {len({s.name.split('/')[0] for s in segments})} videos, of which every "
            f"{HOLDOUT_EVERY}th is held out as 'test'"
        )
    return chosen


class VideoFolder(Dataset):
    """`ds[i]` -> {'video': (C, T, size, size) float in [-1, 1], 'labels': (0,) float, 'name'}.
    Reads the files on every access; `frame_cache.prepare` decodes them once instead."""

    def __init__(self, root: str | Path, config: VideoFolderConfig | None = None, progress: bool = False):
        self.config = cfg = config or VideoFolderConfig()
        cfg.validate()
        self.root = Path(root)
        segments, self.skipped, self.fingerprint = index_folder(self.root, progress)
        self.segments = select_split(segments, cfg.split, self.root)
        self.windows = cut_windows(self.segments, cfg.frames, cfg.stride, self.skipped)
        warn_skipped(f"VideoFolder {self.root}", self.skipped)
        if not self.windows:
            raise ValueError(
                f"{self.root}: no video or frame folder holds {cfg.frames} readable frames at stride "
                f"{cfg.stride} ({span_of(cfg.frames, cfg.stride)} consecutive frames)"
            )
        self.replaced, self._bad = 0, set()

    def __len__(self) -> int:
        return len(self.windows)

    def frames(self, index: int) -> np.ndarray:
        """Window `index` (or, if a frame fails to decode, the next good one): (T, H, W, C) uint8."""
        cfg = self.config
        for k in range(len(self.windows)):
            i = (index + k) % len(self.windows)
            if i in self._bad:
                continue
            seg_index, start = self.windows[i]
            try:
                clip = decode_frames(
                    self.segments[seg_index], start, span_of(cfg.frames, cfg.stride), cfg.size, cfg.channels
                )
                return clip[:: cfg.stride]
            except FrameError as err:
                self._bad.add(i)
                self.replaced += 1
                msg = f"{err}; window {i} replaced by the next good one ({self.replaced} so far)"
                warnings.warn(msg, stacklevel=3)
        raise RuntimeError(f"{self.root}: none of the {len(self.windows)} windows could be decoded")

    def __getitem__(self, index: int) -> dict:
        seg_index, _ = self.windows[index]
        return {
            "video": to_video(self.frames(index)),
            "labels": torch.zeros(0),
            "name": self.segments[seg_index].name,
        }
