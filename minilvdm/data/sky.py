"""SkyTimelapse (Xiong et al., CVPR 2018): a procedural generator and one folder loader.

Layout, real and synthetic alike:

    <root>/sky_train/<video>/<clip>/<frame>.jpg
    <root>/sky_test/<video>/<clip>/<frame>.jpg

The synthetic generator also writes `<root>/sky_<split>/labels.json`: for each
`<video>/<clip>` its wind speed and direction, and per-frame cloud cover and time of
day. Real data is used when found under data/ (see `find_sky_root`), otherwise synthetic
skies are generated once into outputs/.

Synthetic skies:
    sky(y, tod)   vertical gradient between a zenith and a horizon colour, both
                  interpolated over time of day tod in [0, 1] (night, dawn, day, dusk)
    n(x)          periodic 1/f^beta noise (fBm-like), built in Fourier space
    n_t(x)        = n(x - w t): clouds carried by wind w, shifted exactly in Fourier space
    cloud_t(x)    = smoothstep(1 - c_t - 0.2, 1 - c_t + 0.2, n_t(x)), cover c_t drifts
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm.auto import tqdm

from ..core.config import config_hash, data_dir, output_dir
from ..core.presets import preset

SKY_LABELS = ("wind_speed", "wind_direction", "cover", "time_of_day")
GENERATOR_VERSION = 1  # bump when the images change: cached synthetic folders are then rebuilt

# (time of day, zenith RGB, horizon RGB): night, dawn, noon, dusk, night
_PALETTE = np.array(
    [
        [0.00, 0.02, 0.03, 0.10, 0.05, 0.07, 0.18],
        [0.25, 0.20, 0.30, 0.60, 0.95, 0.60, 0.35],
        [0.50, 0.20, 0.45, 0.85, 0.70, 0.85, 0.98],
        [0.75, 0.25, 0.25, 0.55, 0.98, 0.50, 0.30],
        [1.00, 0.02, 0.03, 0.10, 0.05, 0.07, 0.18],
    ]
)


@dataclass
class SyntheticSkyConfig:
    videos: int = 12  # per split
    clips_per_video: int = 2
    frames_per_clip: int = 32
    size: int = 96  # resolution written to disk
    max_wind: float = 1.5  # pixels per frame at that resolution
    seed: int = 0


def _palette(tod: float) -> tuple[np.ndarray, np.ndarray]:
    cols = [np.interp(tod % 1.0, _PALETTE[:, 0], _PALETTE[:, i]) for i in range(1, 7)]
    return np.array(cols[:3]), np.array(cols[3:])


def _noise_spectrum(rng: np.random.Generator, size: int, beta: float = 2.2) -> np.ndarray:
    """Random complex spectrum with power ~ 1/f^beta: its inverse FFT is periodic noise."""
    ky = np.fft.fftfreq(size)[:, None]
    kx = np.fft.rfftfreq(size)[None, :]
    radius = np.sqrt(kx**2 + ky**2)
    radius[0, 0] = 1.0
    amplitude = radius ** (-beta / 2)
    amplitude[0, 0] = 0.0
    amplitude[radius > 0.12] = 0.0  # no pixel-scale grain: soft clouds
    phase = rng.uniform(0, 2 * np.pi, size=amplitude.shape)
    return amplitude * np.exp(1j * phase)


def sky_frame(spectrum: np.ndarray, shift: np.ndarray, cover: float, tod: float, size: int):
    """One RGB frame (size, size, 3) in [0, 1]: clouds moved by `shift` = w t pixels."""
    ky = np.fft.fftfreq(size)[:, None]
    kx = np.fft.rfftfreq(size)[None, :]
    moved = spectrum * np.exp(-2j * np.pi * (kx * shift[0] + ky * shift[1]))
    noise = np.fft.irfft2(moved, s=(size, size))
    noise = (noise - noise.mean()) / (noise.std() + 1e-8)
    noise = 1 / (1 + np.exp(-1.7 * noise))  # squash to (0, 1), roughly uniform
    lo, hi = 1 - cover - 0.2, 1 - cover + 0.2
    cloud = np.clip((noise - lo) / (hi - lo), 0, 1)
    cloud = cloud * cloud * (3 - 2 * cloud)  # smoothstep
    zenith, horizon = _palette(tod)
    y = np.linspace(0, 1, size)[:, None, None]
    sky = zenith * (1 - y) + horizon * y
    daylight = 0.25 + 0.75 * math.sin(math.pi * min(max((tod - 0.2) / 0.6, 0), 1))
    cloud_colour = 0.5 * (horizon + 1.0) * daylight
    return sky * (1 - cloud[..., None]) + cloud_colour * cloud[..., None]


def generate_synthetic_sky(root: str | Path, cfg: SyntheticSkyConfig, splits=("train", "test")):
    """Write synthetic sky videos in the SkyTimelapse layout, with labels.json per split."""
    root = Path(root)
    for split_index, split in enumerate(splits):
        split_dir = root / f"sky_{split}"
        labels = {}
        total = cfg.videos * cfg.clips_per_video * cfg.frames_per_clip
        bar = tqdm(total=total, desc=f"synthetic sky_{split}", unit="frame", leave=False)
        for v in range(cfg.videos):
            rng = np.random.default_rng([cfg.seed, split_index, v])
            spectrum = _noise_spectrum(rng, cfg.size)
            speed = rng.uniform(0.3, 1.0) * cfg.max_wind
            direction = rng.uniform(-np.pi, np.pi)
            wind = speed * np.array([np.cos(direction), np.sin(direction)])
            length = cfg.clips_per_video * cfg.frames_per_clip
            cover = np.linspace(*rng.uniform(0.15, 0.75, size=2), length)
            tod0 = rng.uniform(0.2, 0.8)
            tod = tod0 + np.linspace(0, rng.uniform(0.02, 0.12), length)
            name = f"video_{v:04d}"
            for t in range(length):
                clip, frame = divmod(t, cfg.frames_per_clip)
                folder = split_dir / name / f"{name}_{clip + 1}"
                if frame == 0:  # labels per clip folder, per-frame values from its first frame
                    here = slice(t, t + cfg.frames_per_clip)
                    labels[f"{name}/{folder.name}"] = {
                        "wind_speed": float(speed),
                        "wind_direction": float(direction),
                        "cover": cover[here].tolist(),
                        "time_of_day": tod[here].tolist(),
                    }
                folder.mkdir(parents=True, exist_ok=True)
                rgb = sky_frame(spectrum, wind * t, cover[t], tod[t], cfg.size)
                image = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8))
                image.save(folder / f"{name}_{clip + 1}_{frame + 1:04d}.jpg", quality=92)
                bar.update()
        bar.close()
        (split_dir / "labels.json").write_text(json.dumps(labels))
        (split_dir / "config.json").write_text(json.dumps(asdict(cfg)))
    return root


def find_sky_root(synthetic: SyntheticSkyConfig | None = None) -> tuple[Path, bool]:
    """(root, is_real): real SkyTimelapse under data/ when present, else synthetic skies.

    Real data is looked for at data/sky_timelapse/sky_train (or data/sky_train).
    Synthetic skies are generated on first use into outputs/data/.
    """
    for candidate in (data_dir() / "sky_timelapse", data_dir()):
        if (candidate / "sky_train").is_dir():
            return candidate, True
    cfg = synthetic or SyntheticSkyConfig()
    root = output_dir() / "data" / f"sky_synthetic_v{GENERATOR_VERSION}_{config_hash(cfg)}"
    if not (root / "sky_test" / "labels.json").is_file():  # written last: marks completion
        generate_synthetic_sky(root, cfg)
    return root, False


def sky_synthetic_config() -> SyntheticSkyConfig:
    """The synthetic sky set of the profile (presets.py `sky_synthetic`: small in ci, larger for
    quick/full; 32-frame clip folders at least, so the long-video models have room)."""
    return SyntheticSkyConfig(**preset("sky").sky_synthetic.kwargs())


def synthetic_sky_clips(
    n: int, seed: int, frames: int = 16, cfg: SyntheticSkyConfig | None = None, size: int = 64
):
    """`n` sky clips (n, 3, frames, size, size) in [-1, 1] and their labels (n, 4) in SKY_LABELS
    order (wind speed in pixels per frame at size x size, direction in radians, mean cover, mean
    time of day), drawn like `generate_synthetic_sky` (default settings: what the sky encoder
    imitates) and resized like `SkyTimelapse`, without the disk round trip."""
    cfg = cfg or SyntheticSkyConfig()
    videos, labels = [], []
    for i in range(n):
        rng = np.random.default_rng([seed, i, 0x534B59])
        spectrum = _noise_spectrum(rng, cfg.size)
        speed = rng.uniform(0.3, 1.0) * cfg.max_wind
        direction = rng.uniform(-np.pi, np.pi)
        length = cfg.clips_per_video * cfg.frames_per_clip
        cover_ends = rng.uniform(0.15, 0.75, size=2)
        tod0, tod_span = rng.uniform(0.2, 0.8), rng.uniform(0.02, 0.12)
        start = int(rng.integers(0, length - frames + 1))
        wind = speed * np.array([np.cos(direction), np.sin(direction)])
        cover = np.linspace(*cover_ends, length)[start : start + frames]
        tod = (tod0 + np.linspace(0, tod_span, length))[start : start + frames]
        rgb = np.stack(
            [
                sky_frame(spectrum, wind * t, cover[i], tod[i], cfg.size)
                for i, t in enumerate(range(start, start + frames))
            ]
        )  # (T, S, S, 3)
        clip = torch.from_numpy(np.clip(rgb, 0, 1)).permute(3, 0, 1, 2).float()  # (3, T, S, S)
        clip = F.interpolate(clip, size=(size, size), mode="bicubic", antialias=True, align_corners=False)
        videos.append(clip.clamp(0, 1) * 2 - 1)
        labels.append([speed * size / cfg.size, direction, cover.mean(), tod.mean()])
    return torch.stack(videos), torch.tensor(labels, dtype=torch.float32)
