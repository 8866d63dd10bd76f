"""`python -m minilvdm data`: generate both data sets, save previews, measure throughput."""

from __future__ import annotations

import time

from ..config import by_profile, output_dir
from ..data import MovingMNIST, SkyConfig, SkyTimelapse, SyntheticSkyConfig, find_sky_root
from ..viz import save_gif


def add_arguments(parser):
    parser.add_argument("--clips", type=int, default=None, help="clips to time per data set")


def validate(args):
    from . import at_least

    at_least(args, "--clips", 1)


def sky_synthetic_config() -> SyntheticSkyConfig:
    """The synthetic sky set every profile uses (small in ci, larger for quick/full)."""
    return by_profile(
        # ci: 32-frame clip folders (like quick) so the long-video models have room: 8 latent frames
        ci=SyntheticSkyConfig(videos=3, clips_per_video=1, frames_per_clip=32, size=64),
        quick=SyntheticSkyConfig(videos=24, clips_per_video=2, frames_per_clip=32, size=96),
        full=SyntheticSkyConfig(videos=200, clips_per_video=4, frames_per_clip=64, size=160),
    )


def throughput(make_clip, count: int) -> float:
    """Clips per second of `make_clip(i)` over `count` clips (after one warm-up clip)."""
    make_clip(0)
    start = time.perf_counter()
    for i in range(count):
        make_clip(i)
    return count / (time.perf_counter() - start)


def run(args):
    out = output_dir() / "data"
    mnist = MovingMNIST()
    sky_root, real = find_sky_root(sky_synthetic_config())
    sky = SkyTimelapse(sky_root, SkyConfig(frames=16, size=64), progress=True)
    print(f"Moving MNIST: digits from {mnist.digits.source}")
    print(f"SkyTimelapse: {'real' if real else 'synthetic'} data at {sky_root}, {len(sky)} clips")
    print(
        "previews:",
        save_gif(mnist.videos(0, 8), out / "moving_mnist.gif"),
        save_gif(sky.videos(range(min(4, len(sky)))), out / "sky.gif"),
    )
    count = args.clips or by_profile(ci=16, quick=256, full=2048)
    rates = {
        "moving_mnist 16x64x64x1": throughput(lambda i: mnist[i], count),
        "sky 16x64x64x3 (JPEG decode + resize)": throughput(lambda i: sky[i % len(sky)], count),
    }
    for name, rate in rates.items():
        print(f"{name}: {rate:.1f} clips/s (one process)")
    return 0
