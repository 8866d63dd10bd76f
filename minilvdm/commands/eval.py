"""`python -m minilvdm eval PATH`: score generated clips against held-out real clips.

PATH is a .pt file holding a (N, C, T, H, W) tensor in [-1, 1] (or a dict with one such
tensor under 'videos' or 'samples'), a .gif/.mp4 of one clip, or a folder of those
(files sorted by name, stacked). C = 1 means Moving MNIST, C = 3 sky (or --dataset).
Prints FVD, frame FD (and for Moving MNIST recognisability) with 95% bootstrap
intervals and the sample counts; videos longer than 16 frames also get per-segment
distances (and identity persistence for Moving MNIST).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from ..eval.evaluators import CLIP_FRAMES
from ..eval.metrics import format_score, identity_persistence, real_clips, score, segment_distances
from . import UsageError, at_least

SUFFIXES = (".pt", ".gif", ".mp4")


def add_arguments(parser):
    parser.add_argument(
        "path", help="a .pt tensor file (N, C, T, H, W) in [-1, 1], a .gif/.mp4, or a folder of them"
    )
    parser.add_argument(
        "--dataset", choices=("mnist", "sky"), default=None, help="default: from the channels"
    )
    parser.add_argument(
        "--real", type=int, default=None, help="real clips to compare with (default: as many)"
    )
    parser.add_argument("--boot", type=int, default=100, help="bootstrap resamples for the intervals")
    parser.add_argument("--json", default=None, help="also write the results to this JSON file")


def _read_frames(path: Path) -> torch.Tensor:
    """A .gif or .mp4 of one clip -> (3, T, H, W) in [-1, 1]."""
    if path.suffix == ".gif":
        from PIL import Image, ImageSequence

        with Image.open(path) as im:
            frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]
    else:
        import imageio_ffmpeg

        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
        w, h = meta["size"]
        frames = [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader]
    return torch.from_numpy(np.stack(frames)).permute(3, 0, 1, 2).float() / 127.5 - 1


def _read_one(path: Path) -> torch.Tensor:
    if path.suffix == ".pt":
        obj = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(obj, dict):
            obj = obj.get("videos", obj.get("samples"))
        if not isinstance(obj, torch.Tensor):
            raise ValueError(f"{path}: expected a tensor, or a dict with 'videos' or 'samples'")
        return obj
    if path.suffix in (".gif", ".mp4"):
        return _read_frames(path)
    raise ValueError(f"{path}: unsupported file type; use one of {SUFFIXES}")


def load_videos(path: str | Path) -> torch.Tensor:
    """Everything at `path` as one (N, C, T, H, W) float tensor, with clear errors."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES)
        if not files:
            raise ValueError(f"{path}: no {'/'.join(SUFFIXES)} files")
    elif path.is_file():
        files = [path]
    else:
        raise FileNotFoundError(f"{path} does not exist")
    parts = [_read_one(f) for f in files]
    parts = [p.unsqueeze(0) if p.ndim == 4 else p for p in parts]
    shapes = {tuple(p.shape[1:]) for p in parts}
    if any(p.ndim != 5 for p in parts) or len(shapes) != 1:
        raise ValueError(
            f"{path}: expected clips (C, T, H, W) or batches (N, C, T, H, W) of one shape, got {shapes}"
        )
    videos = torch.cat(parts).float()
    if videos.min() < -1.01 or videos.max() > 1.01:
        raise ValueError(
            f"{path}: values must lie in [-1, 1], found [{videos.min():.3f}, {videos.max():.3f}]"
        )
    return videos


def validate(args):
    at_least(args, "--real", 2)
    at_least(args, "--boot", 1)
    if not Path(args.path).exists():
        raise UsageError(f"path: {args.path} does not exist")


def run(args):
    try:
        fake = load_videos(args.path)
    except (FileNotFoundError, ValueError) as err:  # a missing or malformed file: the user's to fix
        raise UsageError(f"path: {err}") from err
    dataset = args.dataset or ("mnist" if fake.shape[1] == 1 else "sky")
    if dataset == "mnist" and fake.shape[1] == 3:  # an RGB file of grey clips
        fake = fake.mean(1, keepdim=True)
    t = fake.shape[2]
    n_real = args.real or max(len(fake), 16)
    print(f"{len(fake)} generated clips {tuple(fake.shape[1:])} ({dataset}); {n_real} held-out real clips")
    real, _ = real_clips(dataset, n_real, frames=min(t, CLIP_FRAMES))
    first = fake[:, :, :CLIP_FRAMES]
    result = score(first, real, dataset, n_boot=args.boot)
    print(("first 16 frames: " if t > CLIP_FRAMES else "") + format_score(result))
    out = {"dataset": dataset, "path": str(args.path), "score": result}
    if t >= 2 * CLIP_FRAMES:
        segments = segment_distances(fake, real, dataset=dataset)
        print("per segment (start frame: FVD, frame FD):")
        for s, v, f in zip(segments["start"], segments["fvd"], segments["frame_fd"]):
            print(f"  {s:5d}: {v:10.3f} {f:10.3f}")
        out["segments"] = segments
        if dataset == "mnist":
            persistence = identity_persistence(fake).tolist()
            print("identity persistence per segment:", " ".join(f"{p:.3f}" for p in persistence))
            out["identity_persistence"] = persistence
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
        print(f"wrote {args.json}")
    return 0
