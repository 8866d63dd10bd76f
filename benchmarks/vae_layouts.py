"""Latent layouts at equal compression (issue 3): the quick VAE recipe with time x4 and 4
channels (LVDM's layout, the default until issue 3's study), time x2 and 2 channels (the
default since: width 16 at 4500 steps; also at 3000 steps and widths 20 and 24), and time x1
and 1 channel: each 16x fewer values than a 1x16x64x64 Moving MNIST clip. Checkpoints are
reused from outputs/checkpoints (the default layout's is the one notebook 01 trains)."""

from __future__ import annotations

import dataclasses

from minilvdm.core.config import get_profile
from minilvdm.vae import default_train_config, default_vae_config, evaluate_vae, train_vae
from minilvdm.vae.latent_cache import eval_data_config

# (time factor, latent channels, width or None = the profile's, steps in quick); space x4.
# Steps are pinned for quick (other profiles use their default), so the rows keep naming the
# same checkpoints when the default layout or its step count changes.
LAYOUTS = (
    (4, 4, None, 3000),
    (2, 2, None, 3000),
    (2, 2, None, 4500),
    (2, 2, 20, 3000),
    (2, 2, 24, 3000),
    (1, 1, None, 3000),
)


def layout_config(time_factor: int, channels: int, width: int | None):
    """The default Moving MNIST VAE config with another layout (and width, if given)."""
    default = default_vae_config("mnist")
    width = width or default.base_channels
    return dataclasses.replace(
        default, time_factor=time_factor, latent_channels=channels, base_channels=width
    )


def layout_vae(time_factor: int, channels: int, width: int | None = None, quick_steps: int = 3000):
    """Train (or reuse) the Moving MNIST VAE of one layout: `quick_steps` steps in quick."""
    cfg, train_cfg = layout_config(time_factor, channels, width), default_train_config("mnist")
    if get_profile() == "quick":
        train_cfg = dataclasses.replace(train_cfg, steps=quick_steps)
    return train_vae("mnist", cfg, train_cfg, progress=False)


def run() -> str:
    rows, data, default = [], eval_data_config("mnist"), default_vae_config("mnist")
    default_steps = default_train_config("mnist").steps
    for time_factor, channels, width, steps in LAYOUTS:
        cfg = layout_config(time_factor, channels, width)
        trainer = layout_vae(time_factor, channels, width, steps)
        result = evaluate_vae(trainer.ema.module.eval(), data)
        c, t, h, w = cfg.latent_shape(data.frames, data.size, data.size)
        ratio = data.frames * data.size**2 / (c * t * h * w)
        params = sum(p.numel() for p in trainer.model.parameters()) / 1e6
        label = f"time x{time_factor}, {channels} ch, width {cfg.base_channels}"
        label += " (default)" if cfg == default and trainer.step == default_steps else ""
        rows.append(
            f"| {label} | {c}x{t}x{h}x{w} | {ratio:.0f}x | {params:.2f} M | {trainer.step} "
            f"| {trainer.seconds / 60:.1f} | {result['psnr']:.2f} | {result['ssim']:.3f} "
            f"| {result['flicker']:.4f} |"
        )
    tc = default_train_config("mnist")
    return "\n".join(
        [
            f"### Held-out reconstruction by latent layout ({data.count} unseen-digit clips, 1x16x64x64)",
            "",
            "| layout | latent | fewer values | params | steps | train min | PSNR dB | SSIM | flicker |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"Same recipe otherwise (the steps column's steps of {tc.batch_size} 8-frame clips, "
            f"lr {tc.lr:g}, "
            "L2 loss, EMA weights); train minutes are wall-clock on a 2-core CPU shared with other jobs. "
            f"Target (issue 3): quick PSNR >= 26 dB. Profile `{get_profile()}`.",
            "",
        ]
    )
