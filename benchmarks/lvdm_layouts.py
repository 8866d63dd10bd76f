"""Latent video diffusion by VAE layout (issues 3 and 6): the quick LVDM recipe trained on the
latents of the time x4 / 4-channel VAE (the default), of the time x2 / 2-channel VAE, and of
that VAE at width 24 (`benchmarks vae_layouts`), all 16x compressions; samples scored against
the same real clips. Checkpoints are reused from outputs/checkpoints."""

from __future__ import annotations

import dataclasses
import time

import torch

from benchmarks.vae_layouts import layout_config
from minilvdm.config import by_profile, get_profile
from minilvdm.eval import frechet_video_distance, real_clips, recognisability
from minilvdm.lvdm import default_lvdm_config, train_lvdm
from minilvdm.train import pick_weights
from minilvdm.vae import train_vae

LAYOUTS = ((4, 4, None), (2, 2, None), (2, 2, 24))  # (time factor, channels, width or default)


def run() -> str:
    n, steps = by_profile(ci=4, quick=64, full=256), by_profile(ci=2, quick=50, full=50)
    real = real_clips("mnist", n)[0]
    floor = frechet_video_distance(real_clips("mnist", n, part=1)[0], real)
    rows = []
    for time_factor, channels, width in LAYOUTS:
        vae_cfg = layout_config(time_factor, channels, width)
        vae_trainer = train_vae("mnist", vae_cfg, progress=False)
        cfg = default_lvdm_config("mnist")
        cfg = dataclasses.replace(cfg, unet=dataclasses.replace(cfg.unet, in_channels=channels))
        trainer, _ = train_lvdm(cfg, vae_trainer=vae_trainer, progress=False)
        cells = []
        for weights in ("raw", "ema"):
            t0 = time.perf_counter()
            videos = pick_weights(trainer, weights).sample(
                n, steps=steps, generator=torch.Generator().manual_seed(0)
            )
            seconds = (time.perf_counter() - t0) / n
            cells.append(
                f"{frechet_video_distance(videos, real):.1f} | {recognisability(videos):.3f} | {seconds:.2f}"
            )
        label = f"time x{time_factor}, {channels} ch, width {vae_cfg.base_channels}"
        rows.append(f"| {label} | {trainer.step} | {trainer.seconds / 60:.1f} | {' | '.join(cells)} |")
    return "\n".join(
        [
            f"### Samples by VAE layout ({n} clips, DDIM {steps}, seed 0; FVD floor {floor:.1f})",
            "",
            "| VAE layout | LVDM steps | train min | FVD raw | recognisable raw | s/clip raw "
            "| FVD EMA | recognisable EMA | s/clip EMA |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            "The same UNet recipe (`default_lvdm_config`, its input channels set to the VAE's) and training "
            "(`lvdm.default_train_config`) on each VAE's latents of the same clips. Recognisability as in "
            "the `lvdm` section (real clips: about 0.46). Train minutes: wall-clock on a 2-core CPU shared "
            f"with other jobs. Profile `{get_profile()}`.",
            "",
        ]
    )
