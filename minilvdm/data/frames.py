"""Pieces every folder loader shares: frame order, the centre square crop and resize, image
probes, window cutting, uint8 -> model layout, and the one skip warning.

The SkyTimelapse loader (sky_folder.py), the video-folder data set (video_folder.py) and the
decoded-frame cache (frame_cache.py) all use these, so a clip means the same pixels in each.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
GREY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


def natural_key(path: Path):
    """frame_2 before frame_10."""
    return [int(s) if s.isdigit() else s for s in re.split(r"(\d+)", path.name)]


def center_square(width: int, height: int) -> tuple[int, int, int, int]:
    """The centre square crop box (left, top, right, bottom) of a width x height frame:
    the loader keeps the middle min(width, height) pixels of the longer side."""
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


def probe_image(path: Path, decode: bool = True) -> tuple[tuple[int, int], bool] | str:
    """((width, height), grey) of an image file, or the reason it cannot be used.

    decode=False reads the header only (PIL defers pixel decoding to `.load()`): fast, but a
    truncated file passes and is caught when it is read."""
    try:
        if path.stat().st_size == 0:
            return "zero-byte file"
        with Image.open(path) as im:
            if decode:
                im.load()  # full decode: catches truncated files that open() alone accepts
            return im.size, im.mode in GREY_MODES
    except Exception as err:
        return f"unreadable ({type(err).__name__}: {err})"


def square_frame(im: Image.Image, size: int, channels: int = 3) -> np.ndarray:
    """Centre square crop, bicubic resize: (size, size, channels) uint8."""
    im = im.convert("RGB" if channels == 3 else "L")
    im = im.crop(center_square(*im.size)).resize((size, size), Image.BICUBIC)  # 640x360 -> 360x360 -> size
    out = np.asarray(im, dtype=np.uint8)
    return out if out.ndim == 3 else out[..., None]


def load_square(path: Path, size: int, channels: int = 3) -> np.ndarray:
    with Image.open(path) as im:
        return square_frame(im, size, channels)


def window_starts(length: int, frames: int, stride: int) -> list[int]:
    """Non-overlapping windows of `frames` frames every `stride` frames in a run of `length`."""
    span = (frames - 1) * stride + 1
    return list(range(0, length - span + 1, frames * stride))


def span_of(frames: int, stride: int) -> int:
    return (frames - 1) * stride + 1


def to_video(frames: np.ndarray) -> torch.Tensor:
    """uint8 (..., T, H, W, C) -> float (..., C, T, H, W) in [-1, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(frames))
    x = x.movedim(-1, -4)  # channels before time
    return x.float().div_(127.5).sub_(1.0)


def warn_skipped(what: str, skipped: list[str], stacklevel: int = 3) -> None:
    """One warning: the count, then the first 20 items, each naming its file or folder."""
    if not skipped:
        return
    shown = "\n  ".join(skipped[:20])
    more = f"\n  ... and {len(skipped) - 20} more" if len(skipped) > 20 else ""
    warnings.warn(f"{what} skipped {len(skipped)} item(s):\n  {shown}{more}", stacklevel=stacklevel)
