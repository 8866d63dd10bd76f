"""Latent layouts at equal compression (issue 3): the quick VAE recipe with time x4 and 4
channels (the layout every diffusion model here uses), time x2 and 2 channels, and time x1
and 1 channel: each 16x fewer values than a 1x16x64x64 Moving MNIST clip. Checkpoints are
reused from outputs/checkpoints (the default layout's is the one notebook 01 trains)."""

from __future__ import annotations

import dataclasses

from minilvdm.commands.vae import eval_data_config
from minilvdm.config import get_profile
from minilvdm.vae import default_train_config, default_vae_config, evaluate_vae, train_vae

LAYOUTS = ((4, 4), (2, 2), (1, 1))  # (time factor, latent channels); space x4 throughout


def run() -> str:
    rows, data = [], eval_data_config("mnist")
    for time_factor, channels in LAYOUTS:
        cfg = dataclasses.replace(
            default_vae_config("mnist"), time_factor=time_factor, latent_channels=channels
        )
        trainer = train_vae("mnist", cfg, progress=False)
        result = evaluate_vae(trainer.ema.module.eval(), data)
        c, t, h, w = cfg.latent_shape(data.frames, data.size, data.size)
        ratio = data.frames * data.size**2 / (c * t * h * w)
        params = sum(p.numel() for p in trainer.model.parameters()) / 1e6
        default = " (default)" if (time_factor, channels) == LAYOUTS[0] else ""
        rows.append(
            f"| time x{time_factor}, {channels} ch{default} | {c}x{t}x{h}x{w} | {ratio:.0f}x | {params:.2f} M"
            f" | {trainer.step} | {trainer.seconds / 60:.1f} | {result['psnr']:.2f} | {result['ssim']:.3f} "
            f"| {result['flicker']:.4f} |"
        )
    tc, width = default_train_config("mnist"), default_vae_config("mnist").base_channels
    return "\n".join(
        [
            f"### Held-out reconstruction by latent layout ({data.count} unseen-digit clips, 1x16x64x64)",
            "",
            "| layout | latent | fewer values | params | steps | train min | PSNR dB | SSIM | flicker |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            f"Same recipe otherwise (width {width}, batch {tc.batch_size} clips of 8 frames, lr {tc.lr:g}, "
            "L2 loss, EMA weights); train minutes are wall-clock on a 2-core CPU shared with other jobs. "
            f"Target (issue 3): quick PSNR >= 26 dB. Profile `{get_profile()}`.",
            "",
        ]
    )
