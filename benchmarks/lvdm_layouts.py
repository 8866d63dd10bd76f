"""Latent video diffusion by VAE layout (issues 3 and 6): the quick LVDM recipe trained on the
latents of the time x4 / 4-channel VAE (LVDM's layout) and of the time x2 / 2-channel VAE
(`benchmarks vae_layouts`), both 16x compressions, over several training seeds, and the
x2 VAE again at half the steps: its UNet sees twice the latent frames, so a step costs about
twice as much, and half the steps is about equal compute. Samples are scored against the
same real clips. Checkpoints are reused from outputs/checkpoints."""

from __future__ import annotations

import dataclasses
import statistics
import time

import torch

from benchmarks.vae_layouts import layout_config, layout_vae
from minilvdm.core.config import by_profile, get_profile
from minilvdm.core.train import pick_weights
from minilvdm.eval import frechet_video_distance, real_clips, recognisability
from minilvdm.methods.lvdm import default_lvdm_config, default_train_config, train_lvdm

# (time factor, channels, width or None = default, share of the default LVDM steps, seeds)
RUNS = ((4, 4, None, 1.0, (0, 1, 2)), (2, 2, None, 1.0, (0, 1)), (2, 2, None, 0.5, (0, 1)))


def score(trainer, n: int, steps: int, real: torch.Tensor) -> dict:
    out = {}
    for weights in ("raw", "ema"):
        t0 = time.perf_counter()
        videos = pick_weights(trainer, weights).sample(
            n, steps=steps, generator=torch.Generator().manual_seed(0)
        )
        out[weights] = (frechet_video_distance(videos, real), recognisability(videos))
        out[f"{weights}_s"] = (time.perf_counter() - t0) / n
    return out


def run() -> str:
    n, steps = by_profile(ci=4, quick=64, full=256), by_profile(ci=2, quick=50, full=50)
    real = real_clips("mnist", n)[0]
    floor = frechet_video_distance(real_clips("mnist", n, part=1)[0], real)
    rows, summary = [], []
    for time_factor, channels, width, share, seeds in RUNS:
        vae_cfg = layout_config(time_factor, channels, width)
        vae_trainer = layout_vae(time_factor, channels, width)  # 3000 steps in quick
        cfg = default_lvdm_config("mnist")
        cfg = dataclasses.replace(cfg, unet=dataclasses.replace(cfg.unet, in_channels=channels))
        label = f"time x{time_factor}, {channels} ch, width {vae_cfg.base_channels}"
        fvds = {"raw": [], "ema": []}
        for seed in seeds:
            base = default_train_config("latent", "mnist")
            train_cfg = dataclasses.replace(base, steps=max(1, round(base.steps * share)), seed=seed)
            trainer, _ = train_lvdm(cfg, train_cfg, vae_trainer=vae_trainer, progress=False)
            s = score(trainer, n, steps, real)
            for weights in fvds:
                fvds[weights].append(s[weights][0])
            rows.append(
                f"| {label} | {trainer.step} | {seed} | {trainer.seconds / 60:.1f} "
                f"| {s['raw'][0]:.1f} | {s['raw'][1]:.3f} | {s['ema'][0]:.1f} | {s['ema'][1]:.3f} "
                f"| {s['ema_s']:.2f} |"
            )
        cells = [f"{statistics.mean(v):.1f} ({min(v):.0f}-{max(v):.0f})" for v in fvds.values()]
        summary.append(f"| {label} | {train_cfg.steps} | {len(seeds)} | {' | '.join(cells)} |")
    return "\n".join(
        [
            f"### Samples by VAE layout ({n} clips, DDIM {steps}, sampling seed 0; FVD floor {floor:.1f})",
            "",
            "| VAE layout | LVDM steps | train seed | train min | FVD raw | recognisable raw "
            "| FVD EMA | recognisable EMA | s/clip EMA |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            "Mean FVD over training seeds (min-max):",
            "",
            "| VAE layout | LVDM steps | seeds | FVD raw | FVD EMA |",
            "| --- | --- | --- | --- | --- |",
            *summary,
            "",
            "The same UNet recipe (`default_lvdm_config`, its input channels set to the VAE's) and training "
            "(`lvdm.default_train_config`, its seed and, for the half-steps rows, its step count changed) on "
            "each VAE's latents of the same clips; one VAE per layout (its training seed is not varied). "
            "Recognisability as in the `lvdm` section (which also measures real clips). Train minutes: "
            "wall-clock "
            f"on a 2-core CPU shared with other jobs. Profile `{get_profile()}`.",
            "",
        ]
    )
