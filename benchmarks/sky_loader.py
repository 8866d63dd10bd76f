"""SkyTimelapse loader speed on real-size frames: 1,000 JPEGs of 640x360, the size of the
released SkyTimelapse frames, written to a temporary folder in the real layout
(`sky_train/<video>/<clip>/<frame>.jpg`), then read by the one folder loader.

The frames are synthetic skies (`data/sky.py`'s `sky_frame` drawn at 640x640, shifted 2
pixels per frame and cropped to 360 rows), so their JPEG sizes and decode cost resemble
photographs of skies rather than noise. Reported: indexing time (the loader decodes every
frame once to find bad files), then clips/s and frames/s of `ds[i]` (decode, centre square
crop, bicubic resize).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from minilvdm.core.config import by_profile
from minilvdm.data import SkyConfig, SkyTimelapse
from minilvdm.data.sky import _noise_spectrum, sky_frame

WIDTH, HEIGHT = 640, 360  # released SkyTimelapse frames


def write_jpeg_folder(
    root: str | Path,
    frames: int = 1000,
    per_clip: int = 40,
    clips_per_video: int = 5,
    width: int = WIDTH,
    height: int = HEIGHT,
    seed: int = 0,
) -> Path:
    """`frames` JPEG frames of width x height under root/sky_train in the SkyTimelapse layout:
    clip folders of `per_clip` frames, `clips_per_video` clip folders per video."""
    if frames < 1 or per_clip < 1 or height > width:
        raise ValueError(
            f"need frames, per_clip >= 1 and height <= width, got {frames}, {per_clip}, {height}"
        )
    root = Path(root)
    rng = np.random.default_rng(seed)
    for i in range(frames):
        clip_index, frame = divmod(i, per_clip)
        video, clip = divmod(clip_index, clips_per_video)
        name = f"video_{video:04d}"
        folder = root / "sky_train" / name / f"{name}_{clip + 1}"
        folder.mkdir(parents=True, exist_ok=True)
        if frame == 0:  # one sky per clip folder (an FFT at 640x640), then moved by whole pixels
            base = sky_frame(_noise_spectrum(rng, width), np.zeros(2), rng.uniform(0.3, 0.6), 0.5, width)
        rgb = np.roll(base, 2 * frame, axis=1)[:height]  # (height, width, 3): clouds drift right
        Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(
            folder / f"{name}_{clip + 1}_{frame + 1:04d}.jpg", quality=92
        )
    return root


def measure(root: Path, size: int, frames: int = 16, repeats: int = 1) -> dict:
    start = time.perf_counter()
    ds = SkyTimelapse(root, SkyConfig(frames=frames, size=size))
    index_s = time.perf_counter() - start
    ds[0]  # warm-up
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        for i in range(len(ds)):
            ds[i]
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    clips = repeats * len(ds)
    return {
        "index_s": index_s,
        "clips": clips,
        "clips_s": clips / seconds,
        "frames_s": clips * frames / seconds,
        "frames_cpu_s": clips * frames / max(cpu, 1e-9),  # per CPU-second: what an idle core would give
    }


def run() -> str:
    frames = by_profile(ci=64, quick=1000, full=1000)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        root = write_jpeg_folder(tmp, frames=frames)
        write_s = time.perf_counter() - start
        jpeg_kb = np.mean([p.stat().st_size for p in Path(tmp).rglob("*.jpg")]) / 1024
        rows = [(size, measure(root, size)) for size in (64, 128, 256)]
    lines = [
        f"{frames} JPEG frames of {WIDTH}x{HEIGHT} (mean {jpeg_kb:.0f} KB, quality 92) in clip folders "
        f"of 40 frames, written in {write_s:.0f} s to a temporary folder; windows of 16 frames. "
        "One process, no DataLoader workers. The CPU was shared with other jobs (load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end): wall-clock rates are lower bounds; "
        "frames per CPU-second is what one idle core would give.",
        "",
        "| clip | index (decode every frame once) s | clips read | clips/s | frames/s | frames per CPU-s |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| 16x{s}x{s}x3 | {r['index_s']:.1f} | {r['clips']} | {r['clips_s']:.1f} | {r['frames_s']:.0f} "
        f"| {r['frames_cpu_s']:.0f} |"
        for s, r in rows
    ]
    return "\n".join(lines)
