"""`python -m minilvdm data`: generate both data sets, save previews, measure throughput."""

from __future__ import annotations

from ..core.config import output_dir
from ..core.cost import throughput
from ..core.presets import preset
from ..core.viz import save_gif
from ..data import MovingMNIST, SkyConfig, SkyTimelapse, find_sky_root, sky_synthetic_config


def add_arguments(parser):
    parser.add_argument("--clips", type=int, default=None, help="clips to time per data set")


def validate(args):
    from . import at_least

    at_least(args, "--clips", 1)


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
    count = args.clips or preset().throughput_clips
    rates = {
        "moving_mnist 16x64x64x1": throughput(lambda i: mnist[i], count),
        "sky 16x64x64x3 (JPEG decode + resize)": throughput(lambda i: sky[i % len(sky)], count),
    }
    for name, rate in rates.items():
        print(f"{name}: {rate:.1f} clips/s (one process)")
    return 0
