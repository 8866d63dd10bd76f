"""VideoFusion's base generator from a pretrained image model (issue 8): the decomposed model
on notebook 07's per-frame latents, its base generator starting from notebook 07's image LDM
and fine-tuned at a tenth of the learning rate (the paper's recipe), kept frozen, or trained
from scratch, at equal steps. Checkpoints are reused from outputs/checkpoints (the frame VAE
and image LDM are those of notebook 07 and `benchmarks image_to_video`)."""

from __future__ import annotations

import time

from minilvdm.core.config import by_profile, get_profile
from minilvdm.core.presets import preset
from minilvdm.core.train import sampling_weights
from minilvdm.eval import motion_amount, real_clips
from minilvdm.methods.image_to_video import image_pipeline
from minilvdm.methods.image_to_video.experiments import video_metrics
from minilvdm.methods.videofusion import held_out_losses, sample_videos
from minilvdm.methods.videofusion.image_base import BASE_INIT_RUNS, train_from_image_model


def run() -> str:
    frames, n = by_profile(ci=4, quick=8, full=16), by_profile(ci=4, quick=48, full=256)
    ddim = by_profile(ci=2, quick=20, full=50)
    vae_trainer, latents, image = image_pipeline(frames, progress=False)
    vae = vae_trainer.ema.module
    real = real_clips("mnist", n, frames=frames)[0]
    probe = latents[: by_profile(ci=4, quick=64, full=256)]
    rows = []
    for label, pretrained, scale in BASE_INIT_RUNS:
        trainer, model = train_from_image_model(
            image, latents, lam=0.5, base_lr_scale=scale, pretrained=pretrained, progress=False
        )
        losses = held_out_losses(model, probe)
        t0 = time.perf_counter()
        videos = sample_videos(model, vae, n, steps=ddim, seed=1, frames=frames)
        sample_s = time.perf_counter() - t0
        m = video_metrics(videos, real)
        rows.append(
            f"| {label} | {trainer.step} | {trainer.seconds / 60:.1f} | {losses['base']:.4f} | "
            f"{losses['residual']:.4f} | {m['fvd']:.1f} | {m['frame_fd']:.1f} | {m['recognisable']:.2f} | "
            f"{m['frame_change']:.4f} | "
            f"{motion_amount(videos):.2f} | {sample_s:.0f} |"
        )
    other = real_clips("mnist", n, part=1, frames=frames)[0]
    floor = video_metrics(other, real)
    tc = trainer.config
    lines = [
        f"### Base generator: pretrained image model vs scratch (lambda 0.5, {frames}-frame clips, "
        f"{n} samples vs {n} real test clips, DDIM {ddim})",
        "",
        "| base generator | steps | train min | base loss | residual loss | FVD | frame FD | recognisable "
        "| frame change | motion (px/frame) | sample s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        f"| real vs real (floor) | - | - | - | - | {floor['fvd']:.1f} | {floor['frame_fd']:.1f} | "
        f"{floor['recognisable']:.2f} | {floor['frame_change']:.4f} | {motion_amount(other):.2f} | - |",
        "",
        f"The image LDM is notebook 07's ({image.step} steps of single latent frames, its EMA weights); "
        f"each VideoFusion run then takes {tc.steps} steps of {tc.batch_size} clips at lr {tc.lr:g}, the "
        "residual generator (a video UNet of the same width with a frame-index embedding) always from "
        f"scratch at 1x. Losses: mean over {len(probe)} training clips x 4 seeded noise draws, after "
        f"training. Samples use the {sampling_weights()} weights and DDIM at Moving MNIST's eta "
        f"({preset('mnist').sample_eta:g}, presets.py `sample_eta`). FVD uses the project's clip encoder on "
        f"{frames}-frame clips (not I3D). Profile `{get_profile()}`; wall-clock on a shared 2-core CPU.",
        "",
    ]
    return "\n".join(lines)
