"""`python -m minilvdm prepare --data PATH --size 64`: decode a folder of your own videos once
into the frame cache (outputs/frames/...) that `vae --data` and `train --data` read.

A folder whose files changed (names, sizes, modification times) is prepared again; an
unchanged one is reused. Nothing is written under PATH.
"""

from __future__ import annotations

import time

from . import UsageError, at_least, data_folder


def add_arguments(parser):
    parser.add_argument("--data", required=True, help="a folder of video files (MP4, GIF) or frame folders")
    parser.add_argument("--size", type=int, default=None, help="frame size (default: the profile's, 64)")
    parser.add_argument("--channels", type=int, choices=(1, 3), default=3, help="3: RGB (grey repeated)")
    parser.add_argument("--workers", type=int, default=0, help="decoding processes")
    parser.add_argument("--force", action="store_true", help="prepare again even if the cache is fresh")


def validate(args):
    at_least(args, "--size", 8)
    at_least(args, "--workers", 0)
    args.data = data_folder(args.data)
    if not args.data:
        raise UsageError("--data is required")


def run(args):
    from ..data.frame_cache import prepare
    from ..vae.latent_cache import video_size

    size = args.size or video_size("folder")
    start = time.perf_counter()
    try:
        cache = prepare(args.data, size, args.channels, args.workers, force=args.force)
    except ValueError as err:  # e.g. no readable video in the folder: the user's data, not a bug
        raise UsageError(f"--data {err}") from err
    m = cache.manifest
    splits = {s: sum(r["length"] for r in m["segments"] if r["split"] == s) for s in ("train", "test")}
    print(
        f"{m['frames']} frames of {size}x{size}x{m['channels']} from {m['files']} files "
        f"(train {splits['train']}, held-out test {splits['test']}); {len(m['skipped'])} skipped; "
        f"{time.perf_counter() - start:.1f} s\ncache: {cache.folder}"
    )
    return 0
