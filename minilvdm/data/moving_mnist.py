"""Moving MNIST (Srivastava et al., 2015), generated on the fly with labels.

Clip `i` of a data set with seed `s` is a pure function of `(s, i)`: any worker, any
resumed run, any machine draws the same clip. There is no fixed epoch size.

Physics, per digit and per axis (pixels, top-left corner of the 28x28 digit):

    p_{t+1} = p_t + v_t, reflected at the walls lo = 0 and hi = size - 28:
        p < lo  ->  p = 2 lo - p,  v = -v
        p > hi  ->  p = 2 hi - p,  v = -v

Frames composite digits with a pixel-wise max, as in the original data set.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..core.config import data_dir, display_path
from .digits import DIGIT_SIZE, load_digits

MAX_DIGITS = 3
TEST_FILE = "mnist_test_seq.npy"


@dataclass
class MovingMNISTConfig:
    frames: int = 16
    size: int = 64
    min_digits: int = 2
    max_digits: int = 2
    min_speed: float = 2.0  # pixels per frame
    max_speed: float = 5.0
    split: str = "train"  # digits come from this split of MNIST
    seed: int = 0
    thickness: int = 0  # > 0: strokes dilated by a (2k+1)x(2k+1) max filter (a shifted distribution)

    def validate(self) -> None:
        if not 1 <= self.min_digits <= self.max_digits <= MAX_DIGITS:
            raise ValueError(f"need 1 <= min_digits <= max_digits <= {MAX_DIGITS}")
        if self.size <= DIGIT_SIZE:
            raise ValueError(f"size must exceed the digit size {DIGIT_SIZE}, got {self.size}")
        if self.frames < 1:
            raise ValueError(f"frames must be >= 1, got {self.frames}")
        travel = self.size - DIGIT_SIZE
        if not 0 <= self.min_speed <= self.max_speed < travel:
            raise ValueError(f"need 0 <= min_speed <= max_speed < {travel} (one bounce per step)")
        if self.split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {self.split!r}")
        if not 0 <= self.thickness <= 3:
            raise ValueError(f"thickness must lie in 0..3 (dilation radius in pixels), got {self.thickness}")


def bounce(pos: np.ndarray, vel: np.ndarray, lo: float, hi: float):
    """One time step of the physics above, for arrays of positions and velocities."""
    pos = pos + vel
    below, above = pos < lo, pos > hi
    pos = np.where(below, 2 * lo - pos, np.where(above, 2 * hi - pos, pos))
    vel = np.where(below | above, -vel, vel)
    return pos, vel


def trajectories(start: np.ndarray, velocity: np.ndarray, frames: int, lo: float, hi: float):
    """Positions and velocities for every frame: (T, n, 2) each, from (n, 2) starts."""
    positions = np.empty((frames, *start.shape))
    velocities = np.empty((frames, *start.shape))
    pos, vel = start.astype(np.float64), velocity.astype(np.float64)
    for t in range(frames):
        positions[t], velocities[t] = pos, vel
        pos, vel = bounce(pos, vel, lo, hi)
    return positions, velocities


def dilate(images: np.ndarray, radius: int) -> np.ndarray:
    """(n, 28, 28) digits with strokes thickened: max over a (2r+1)x(2r+1) window (r = 0: unchanged)."""
    if radius <= 0:
        return images
    padded = np.pad(images, ((0, 0), (radius, radius), (radius, radius)))
    size = images.shape[-1]
    shifts = [
        padded[:, dy : dy + size, dx : dx + size]
        for dy in range(2 * radius + 1)
        for dx in range(2 * radius + 1)
    ]
    return np.max(shifts, axis=0)


def render(digit_images: np.ndarray, positions: np.ndarray, size: int) -> np.ndarray:
    """(n, 28, 28) uint8 digits at (T, n, 2) x/y positions -> (T, size, size) float in [0, 1]."""
    frames = np.zeros((positions.shape[0], size, size), dtype=np.float32)
    digits = digit_images.astype(np.float32) / 255.0
    corners = np.rint(positions).astype(int)
    for t in range(positions.shape[0]):
        for d, (x, y) in enumerate(corners[t]):
            window = frames[t, y : y + DIGIT_SIZE, x : x + DIGIT_SIZE]
            np.maximum(window, digits[d], out=window)
    return frames


class MovingMNIST(Dataset):
    """`ds[i]` -> dict with
    video       (1, T, H, W) float32 in [-1, 1]
    digits      (3,) int64 digit classes, -1 for absent digits
    positions   (T, 3, 2) float32 top-left x, y per frame (NaN for absent digits)
    velocities  (T, 3, 2) float32 pixels per frame
    num_digits  int64
    """

    def __init__(self, config: MovingMNISTConfig | None = None, **overrides):
        cfg = config or MovingMNISTConfig()
        if overrides:
            cfg = MovingMNISTConfig(**{**cfg.__dict__, **overrides})
        cfg.validate()
        self.config = cfg
        self.digits = load_digits(cfg.split)

    def __len__(self) -> int:
        return 2**31 - 1  # generated on the fly: there is no epoch; index with any int

    def __getitem__(self, index: int) -> dict:
        cfg = self.config
        rng = np.random.default_rng([cfg.seed, int(index), 0x4D4D])
        n = int(rng.integers(cfg.min_digits, cfg.max_digits + 1))
        choice = rng.integers(0, len(self.digits), size=n)
        hi = float(cfg.size - DIGIT_SIZE)
        start = rng.uniform(0, hi, size=(n, 2))
        angle = rng.uniform(0, 2 * np.pi, size=n)
        speed = rng.uniform(cfg.min_speed, cfg.max_speed, size=n)
        velocity = np.stack([np.cos(angle), np.sin(angle)], axis=1) * speed[:, None]
        positions, velocities = trajectories(start, velocity, cfg.frames, 0.0, hi)
        frames = render(dilate(self.digits.images[choice], cfg.thickness), positions, cfg.size)

        digits = np.full(MAX_DIGITS, -1, dtype=np.int64)
        digits[:n] = self.digits.labels[choice]
        pos = np.full((cfg.frames, MAX_DIGITS, 2), np.nan, dtype=np.float32)
        vel = np.full((cfg.frames, MAX_DIGITS, 2), np.nan, dtype=np.float32)
        pos[:, :n], vel[:, :n] = positions, velocities
        return {
            "video": torch.from_numpy(frames * 2 - 1).unsqueeze(0),
            "digits": torch.from_numpy(digits),
            "positions": torch.from_numpy(pos),
            "velocities": torch.from_numpy(vel),
            "num_digits": torch.tensor(n),
        }

    def batch(self, start: int, size: int) -> dict:
        """Clips start..start+size-1 stacked: `video` is (B, 1, T, H, W)."""
        items = [self[i] for i in range(start, start + size)]
        return {k: torch.stack([it[k] for it in items]) for k in items[0]}

    def videos(self, start: int, size: int) -> torch.Tensor:
        """Just the clips, (B, 1, T, H, W) in [-1, 1]."""
        return torch.stack([self[i]["video"] for i in range(start, start + size)])


def load_test_file(path: str | Path | None = None) -> torch.Tensor:
    """The standard Moving MNIST test set, if the user placed it under data/.

    Returns a uint8 tensor (N, 1, T, 64, 64) backed by a read-only memory map
    (convert a slice with `to_unit_range`). Raises FileNotFoundError if absent.
    """
    path = Path(path) if path else data_dir() / TEST_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{display_path(path)} not found; put {TEST_FILE} there to use the test set")
    try:
        array = np.load(path, mmap_mode="r")
    except ValueError as err:
        raise ValueError(f"{display_path(path)}: not a readable .npy file ({err})") from err
    if array.dtype != np.uint8 or array.ndim != 4 or array.shape[2:] != (64, 64):
        raise ValueError(
            f"{display_path(path)}: expected uint8 (T, N, 64, 64) like (20, 10000, 64, 64), "
            f"got {array.dtype} {array.shape}"
        )
    # (T, N, H, W) -> (N, 1, T, H, W) as a view: nothing is copied or written. torch warns
    # that the memory map is read-only; that is the point, so the warning is silenced.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        clips = torch.from_numpy(array)
    return clips.permute(1, 0, 2, 3).unsqueeze(1)


def to_unit_range(uint8_video: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return uint8_video.float() / 127.5 - 1.0
