"""The video VAE: held-out reconstruction (Moving MNIST, synthetic sky), training throughput
and peak memory, flicker before/after Video LDM decoder fine-tuning, and (2+1)D vs full 3D
blocks at equal training time. Checkpoints are reused from outputs/checkpoints."""

from __future__ import annotations

import dataclasses
import time

import torch

from minilvdm.core.config import by_profile, get_profile
from minilvdm.core.cost import peak_rss_mb
from minilvdm.vae import (
    VideoVAE,
    default_train_config,
    default_vae_config,
    evaluate_vae,
    random_crop,
    train_data_config,
    train_vae,
    vae_loss,
)
from minilvdm.vae.finetune import finetune_decoder
from minilvdm.vae.latent_cache import ClipSource, eval_data_config


def step_cost(cfg, train_cfg, data_cfg, steps: int = 3) -> dict:
    """Wall and CPU seconds per training step (forward + backward + AdamW) of a fresh model."""
    torch.manual_seed(0)
    model = VideoVAE(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=train_cfg.lr)
    source = ClipSource(data_cfg)
    batch = random_crop(source.videos(0, train_cfg.batch_size), data_cfg.crop, 0)
    rss0 = peak_rss_mb()

    def step():
        loss = vae_loss(model, batch)
        opt.zero_grad()
        loss.backward()
        opt.step()

    step()  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    wall, cpu = (time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps
    return {
        "wall": wall,
        "cpu": cpu,
        "clips_s": train_cfg.batch_size / wall,
        "rss": peak_rss_mb(),
        "rss0": rss0,
    }


def run() -> str:
    lines = []
    # 1. Reconstruction on held-out clips, both data sets.
    rows, trained = [], {}
    for dataset in ("mnist", "sky"):
        cfg, tc, dc = default_vae_config(dataset), default_train_config(dataset), train_data_config(dataset)
        trainer = train_vae(dataset, cfg, tc, dc)
        trained[dataset] = trainer
        res = evaluate_vae(trainer.ema.module, eval_data_config(dataset))
        held = "unseen digits, split='test'" if dataset == "mnist" else "sky_test (synthetic)"
        rows.append(
            f"| {dataset} | {cfg.in_channels}x16x64x64 -> {'x'.join(map(str, cfg.latent_shape(16, 64, 64)))} "
            f"| {cfg.compression(16, 64, 64):.0f}x | {tc.steps} x {tc.batch_size} clips of {dc.frames}x{dc.crop or dc.size}x"  # noqa: E501
            f"{dc.crop or dc.size} | {trainer.seconds / 60:.1f} | {res['clips']} {held} | {res['psnr']:.2f} | "  # noqa: E501
            f"{res['ssim']:.3f} | {res['flicker']:.4f} |"
        )
    lines += [
        "### Held-out reconstruction (posterior mean)",
        "",
        "| data | video -> latent | fewer values | training | train min | eval clips | PSNR dB | SSIM | flicker |",  # noqa: E501
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"Target (issue 3): quick PSNR >= 26 dB on Moving MNIST. Timings are wall-clock on a shared CPU "
        f"(other jobs were running), profile `{get_profile()}`.",
        "",
    ]

    # 2. Throughput and memory of one training step.
    cfg, tc, dc = default_vae_config("mnist"), default_train_config("mnist"), train_data_config("mnist")
    cost = step_cost(cfg, tc, dc)
    lines += [
        f"### Training throughput (Moving MNIST, {get_profile()} settings)",
        "",
        "| batch | clip | wall s/step | CPU s/step | clips/s | peak RSS MB |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {tc.batch_size} | {dc.frames}x{dc.crop or dc.size}x{dc.crop or dc.size}x1 | {cost['wall']:.2f} | {cost['cpu']:.2f} "  # noqa: E501
        f"| {cost['clips_s']:.1f} | {cost['rss']:.0f} |",
        "",
        "CPU s/step sums both threads; peak RSS is the whole benchmark process (data, models, "
        "activations) at that point.",
        "",
    ]

    # 3. Flicker before/after temporal decoder fine-tuning (encoder frozen).
    base = trained["mnist"]
    ft = finetune_decoder(base.ckpt_path, train_data_config("mnist"))
    eval_cfg = eval_data_config("mnist")
    before, after = evaluate_vae(base.ema.module, eval_cfg), evaluate_vae(ft.ema.module.vae, eval_cfg)
    lines += [
        "### Video LDM decoder fine-tuning (3D-conv patch discriminator, encoder frozen)",
        "",
        "| decoder | flicker (lower is better) | PSNR dB | SSIM |",
        "| --- | --- | --- | --- |",
        f"| before | {before['flicker']:.4f} | {before['psnr']:.2f} | {before['ssim']:.3f} |",
        f"| after {ft.step} steps ({ft.seconds / 60:.1f} min) | {after['flicker']:.4f} | {after['psnr']:.2f} "
        f"| {after['ssim']:.3f} |",
        "",
        "flicker = mean |(x_hat[t+1] - x_hat[t]) - (x[t+1] - x[t])| on [0, 1], held-out Moving MNIST.",
        "",
    ]

    # 4. (2+1)D vs full 3D at equal CPU time.
    budget = by_profile(ci=2.0, quick=120.0, full=3600.0)  # CPU seconds of training each
    rows = []
    for block in ("factorized", "full"):
        bcfg = dataclasses.replace(cfg, block=block)
        c = step_cost(bcfg, tc, dc)
        steps = max(2, int(budget / c["cpu"]))
        btc = dataclasses.replace(tc, steps=steps, ckpt_every=max(50, steps))
        trainer = train_vae("mnist", bcfg, btc, dc, name="vae-blockcmp")
        res = evaluate_vae(trainer.ema.module, eval_cfg)
        params = sum(p.numel() for p in trainer.ema.module.parameters()) / 1e6
        rows.append(
            f"| {block} | {params:.2f} M | {c['wall']:.2f} | {c['cpu']:.2f} | {steps} | {res['psnr']:.2f} "
            f"| {res['ssim']:.3f} |"
        )
    lines += [
        f"### (2+1)D vs full 3D blocks at equal training CPU time ({budget:.0f} CPU-s each)",
        "",
        "| block | params | wall s/step | CPU s/step | steps | PSNR dB | SSIM |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        "Steps = budget / measured CPU s/step, so each block gets the same compute.",
    ]
    return "\n".join(lines)
