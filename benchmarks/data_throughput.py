"""Data throughput: clips per second for both data sets, one process."""

from minilvdm.core.config import by_profile
from minilvdm.core.cost import throughput
from minilvdm.data import MovingMNIST, SkyConfig, SkyTimelapse, find_sky_root, sky_synthetic_config


def run() -> str:
    count = by_profile(ci=16, quick=512, full=2048)
    mnist = MovingMNIST()
    root, real = find_sky_root(sky_synthetic_config())
    rows = [("Moving MNIST, 2 digits", "16x64x64x1", throughput(lambda i: mnist[i], count))]
    for size in (64, 128):
        sky = SkyTimelapse(root, SkyConfig(frames=16, size=size))
        name = f"SkyTimelapse ({'real' if real else 'synthetic'} JPEG folders, decode + resize)"
        rows.append((name, f"16x{size}x{size}x3", throughput(lambda i, ds=sky: ds[i % len(ds)], count)))
    lines = ["| data set | clip | clips/s (1 process) |", "| --- | --- | --- |"]
    lines += [f"| {name} | {shape} | {rate:.0f} |" for name, shape, rate in rows]
    return "\n".join(lines) + f"\n\n{count} clips each, after one warm-up clip."
