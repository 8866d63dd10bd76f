"""Your own videos at real-data scale (issue 21): indexing and reading rates of the video-folder
data set and its decoded-frame cache, then the quick pipeline trained on a folder of MP4s.

Generated under outputs/bench-own-data/ (never data/): real-size (640x360) JPEG frame
folders in the SkyTimelapse layout and MP4 files, synthetic skies (`sky_frame`) drifting 2
pixels a frame, so JPEG and H.264 costs resemble photographs of skies. Reported:

- indexing rate (frames/s): header and container metadata reads only (target: 100,000
  frames in < 60 s)
- reading rate (frames/s into (B, C, T, H, W) batches) with 0, 1 and 2 DataLoader workers,
  from the files and from the cache, at 64x64 and 128x128 (targets from the cache: 20,000 at
  64, 5,000 at 128)
- the pipeline: `prepare`, VAE, LVDM, samples and FVD against held-out clips of the same folder

    python -m benchmarks own_data --profile quick     # ci: a tiny version that checks the wiring
"""

from __future__ import annotations

import os
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from minilvdm.core.config import by_profile, environ, output_dir
from minilvdm.core.viz import write_mp4_frames
from minilvdm.data.frame_cache import CachedClips, prepare
from minilvdm.data.loader import StepBatches
from minilvdm.data.sky import _noise_spectrum, sky_frame
from minilvdm.data.video_folder import VideoFolder, VideoFolderConfig, index_folder

WIDTH, HEIGHT = 640, 360


def _sky_frames(rng, n: int, width: int = WIDTH, height: int = HEIGHT):
    base = sky_frame(_noise_spectrum(rng, width), np.zeros(2), rng.uniform(0.3, 0.6), 0.5, width)
    for i in range(n):
        yield (np.clip(np.roll(base, 2 * i, axis=1)[:height], 0, 1) * 255).astype(np.uint8)


def write_jpegs(root: Path, frames: int, per_clip: int = 100, seed: int = 0) -> Path:
    """`frames` JPEGs in `sky_train/<video>/<clip>/`; one sky drawn per clip, the rest copies of
    its first `unique` encodings (index cost does not depend on pixel content)."""
    rng = np.random.default_rng(seed)
    unique = min(per_clip, 40)
    for clip in range(-(-frames // per_clip)):
        folder = root / "sky_train" / f"video_{clip // 5:04d}" / f"video_{clip // 5:04d}_{clip % 5 + 1}"
        folder.mkdir(parents=True, exist_ok=True)
        n = min(per_clip, frames - clip * per_clip)
        if clip < 2:  # two clips of distinct frames; later clips copy them (writing is not measured)
            for i, rgb in enumerate(_sky_frames(rng, n)):
                Image.fromarray(rgb).save(folder / f"f_{i + 1:05d}.jpg", quality=92)
        else:
            source = root / "sky_train" / "video_0000" / f"video_0000_{clip % 2 + 1}"
            for i in range(n):
                shutil.copyfile(source / f"f_{i % unique + 1:05d}.jpg", folder / f"f_{i + 1:05d}.jpg")
    return root


def write_mp4s(root: Path, videos: int, frames: int, width=WIDTH, height=HEIGHT, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for v in range(videos):
        write_mp4_frames(_sky_frames(rng, frames, width, height), root / f"clip_{v:03d}.mp4", fps=8)
    return root


def index_rate(root: Path) -> tuple[int, float]:
    start = time.perf_counter()
    segments, _, _ = index_folder(root)
    return sum(s.length for s in segments), time.perf_counter() - start


def read_rate(read, n_windows: int, frames: int, workers: int, batch: int = 8, seconds: float = 5.0) -> float:
    """Frames per second into (B, C, T, H, W) batches of random windows."""

    def indices(step, rank, world):
        return torch.randint(n_windows, (batch,), generator=torch.Generator().manual_seed(step)).tolist()

    batches = StepBatches(read, indices, workers=workers)
    batches(0)  # warm-up (starts the workers)
    start, step = time.perf_counter(), 1
    while time.perf_counter() - start < seconds:
        batches(step)
        step += 1
    rate = (step - 1) * batch * frames / (time.perf_counter() - start)
    batches.close()
    return rate


def data_rates(work: Path) -> list[str]:
    n_jpeg = by_profile(ci=400, quick=100_000, full=100_000)
    n_mp4, mp4_frames = by_profile(ci=(2, 40), quick=(20, 500), full=(20, 500))
    jpegs, mp4s = write_jpegs(work / "jpeg", n_jpeg), write_mp4s(work / "mp4", n_mp4, mp4_frames)
    lines = [
        "| data | frames | index s | index frames/s |",
        "| --- | --- | --- | --- |",
    ]
    for name, root in (("JPEG folders 640x360", jpegs), ("MP4 640x360", mp4s)):
        count, seconds = index_rate(root)
        lines.append(f"| {name} | {count} | {seconds:.1f} | {count / seconds:.0f} |")
    lines += ["", "| source | size | workers | frames/s into batches |", "| --- | --- | --- | --- |"]
    frames = 16
    for name, root in (("JPEG", jpegs), ("MP4", mp4s)):
        for size in (64, 128):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                files = VideoFolder(root, VideoFolderConfig(frames=frames, size=size))
                start = time.perf_counter()
                cache = prepare(root, size=size, workers=2, progress=False, force=True)
                prep_s = time.perf_counter() - start
                clips = CachedClips(cache, frames=frames)

            def from_files(idx, files=files):
                return torch.stack([files[i]["video"] for i in idx])

            for workers in (0, 1, 2):
                rate = read_rate(from_files, len(files), frames, workers, seconds=by_profile(2, 10, 10))
                lines.append(f"| {name} files | {size} | {workers} | {rate:.0f} |")
            for workers in (0, 1, 2):
                rate = read_rate(clips.batch, len(clips), frames, workers, seconds=by_profile(2, 10, 10))
                lines.append(f"| {name} cache | {size} | {workers} | {rate:.0f} |")
            lines.append(
                f"| {name} prepare (2 workers) | {size} | 2 | {cache.manifest['frames'] / prep_s:.0f} "
                f"(decode once, {prep_s:.0f} s) |"
            )
    return lines


def gpu_need() -> str:
    """What one step of the full profile reads (the GPU step time itself is not measured here)."""
    from minilvdm.core.presets import preset

    full, clip = preset("sky", "full"), 16  # 16: the LVDM's training clips (default_data_config)
    frames = full.lvdm_train.batch_size * clip
    return (
        f"A training step of the full sky profile reads {full.lvdm_train.batch_size} clips x "
        f"{clip} frames = {frames} frames at {full.video_size}x{full.video_size}: at "
        f"s seconds per GPU step the loader must give {frames}/s frames per second ({frames * 4:,} at "
        "0.25 s, an assumed step time: no GPU step was measured). The cache read in the main "
        "process (0 workers) is the fastest path here; workers only add the cost of passing batches "
        "between processes."
    )


def pipeline(work: Path) -> list[str]:
    """The quick pipeline on a folder of MP4s: VAE, LVDM, samples, FVD on its held-out clips."""
    from minilvdm.eval.metrics import score
    from minilvdm.methods.lvdm import default_data_config, default_lvdm_config, train_lvdm
    from minilvdm.vae.latent_cache import ClipSource, VideoDataConfig, video_size

    videos, frames = by_profile(ci=(5, 40), quick=(40, 96), full=(40, 96))  # ci: 2 held-out clips
    root = write_mp4s(work / "pipeline", videos, frames, width=320, height=180, seed=1)
    path = str(root.resolve())
    start = time.perf_counter()
    cfg = default_lvdm_config("folder")
    trainer, model = train_lvdm(cfg, data_cfg=default_data_config("folder", path=path), progress=False)
    n = by_profile(ci=4, quick=64, full=256)
    samples = model.sample(n, size=video_size("folder"), generator=torch.Generator().manual_seed(0))
    size = video_size("folder")
    held = ClipSource(VideoDataConfig("folder", split="test", frames=16, size=size, path=path))
    real = held.clips(range(min(n, held.length)))[0]
    boot = by_profile(ci=5, quick=100, full=100)
    fvd = score(samples, real, "sky", n_boot=boot)["fvd"]
    # the floor: as many real clips of the folder's training split against the same held-out clips
    train = ClipSource(VideoDataConfig("folder", split="train", frames=16, size=size, path=path))
    floor = score(train.clips(range(min(n, train.length)))[0], real, "sky", n_boot=boot)["fvd"]
    return [
        f"{videos} generated MP4s of {frames} frames at 320x180; every 5th held out ({held.length} "
        f"held-out 16-frame clips). Trained from scratch: VAE + LVDM ({trainer.step} steps), "
        f"{(time.perf_counter() - start) / 60:.1f} min in all.",
        "",
        f"- FVD of {n} samples against {len(real)} held-out clips of the same folder (sky evaluator): "
        f"**{fvd[0]:.1f}** [{fvd[1]:.1f}, {fvd[2]:.1f}]",
        f"- floor: {min(n, train.length)} real training clips of the folder against the same held-out "
        f"clips: {floor[0]:.1f} [{floor[1]:.1f}, {floor[2]:.1f}]; samples / floor "
        f"{fvd[0] / max(floor[0], 1e-9):.1f}",
    ]


def run() -> str:
    work = output_dir() / "bench-own-data"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        with environ(
            "MINILVDM_OUTPUTS", str(work / "outputs")
        ):  # caches and checkpoints: fresh, then removed
            lines = [
                f"Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start; "
                "16-frame windows, batches of 8.",
                "",
            ]
            lines += data_rates(work)
            lines += ["", gpu_need()]
            lines += ["", "### Pipeline on a folder of MP4 files", ""] + pipeline(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return "\n".join(lines)
