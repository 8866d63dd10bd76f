"""Image model -> video model (Video LDM, LaVie) on Moving MNIST, per-frame VAE latents:
the lifted model (frozen spatial layers, temporal layers trained) against the same video
UNet trained from scratch for equal steps; LaVie's forgetting experiment (continued
training on thicker digits, video only against joint with original frames); flicker of
the image decoder against the temporally fine-tuned decoder. Checkpoints are reused from
outputs/checkpoints, so the wall-clock columns are those of the runs that trained them."""

from __future__ import annotations

import time

from minilvdm.core.config import by_profile, get_profile
from minilvdm.diffusion.unet import count_parameters
from minilvdm.eval import real_clips
from minilvdm.methods.image_to_video import (
    JointConfig,
    i2v_config,
    image_pipeline,
    lift,
    sample_clips,
    train_video,
)
from minilvdm.methods.image_to_video.experiments import (
    default_shift_train_config,
    flicker_with_and_without,
    forgetting,
    forgetting_rows,
    shifted_latents,
    video_metrics,
)
from minilvdm.methods.lvdm import LatentVideoDiffusion


def run() -> str:
    frames, n = by_profile(ci=4, quick=8, full=16), by_profile(ci=4, quick=48, full=256)
    ddim = by_profile(ci=2, quick=20, full=50)
    vae_trainer, latents, image = image_pipeline(frames, progress=False)
    vae, vae_ckpt = vae_trainer.ema.module, vae_trainer.ckpt_path
    lifted = train_video(
        lift(image.ema.module), latents, JointConfig(), base_checkpoint=image.ckpt_path, name="i2v-lifted"
    )
    scratch = train_video(
        LatentVideoDiffusion(i2v_config(video=True), vae),
        latents,
        JointConfig(freeze_spatial=False),
        name="i2v-scratch",
    )
    real = real_clips("mnist", n, frames=frames)[0]
    rows = []
    for label, trainer, time_on in (
        ("image LDM, frames sampled independently", image, False),
        ("lifted: image LDM + temporal layers (spatial frozen)", lifted, True),
        ("video UNet from scratch (all parameters)", scratch, True),
    ):
        t0 = time.perf_counter()
        videos = sample_clips(trainer.ema.module, n, frames, enable_time=time_on, steps=ddim, seed=1)
        sample_s = time.perf_counter() - t0
        m = video_metrics(videos, real)
        c = count_parameters(trainer.model.unet)
        rows.append(
            f"| {label} | {trainer.step} | {trainer.seconds / 60:.1f} | "
            f"{c['trainable']:,} / {c['total']:,} | {m['fvd']:.1f} | {m['frame_fd']:.1f} | "
            f"{m['frame_change']:.4f} | {m['recognisable']:.2f} | {sample_s:.0f} |"
        )
    floor = video_metrics(real_clips("mnist", n, part=1, frames=frames)[0], real)
    lines = [
        f"### Lifted vs from scratch ({frames}-frame clips, {n} samples vs {n} real test clips, DDIM {ddim})",
        "",
        "| model | steps | train min | trained / total params | FVD | frame FD | frame change | recognisable | sample s |",  # noqa: E501
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        f"| real vs real (floor) | - | - | - | {floor['fvd']:.1f} | {floor['frame_fd']:.1f} | "
        f"{floor['frame_change']:.4f} | {floor['recognisable']:.2f} | - |",
        "",
        f"The lifted model's video steps come after {image.step} image steps ({image.seconds / 60:.1f} min); "
        f"both video runs take {lifted.step} steps of {lifted.config.batch_size} clips. "
        f"FVD uses the project's clip encoder on {frames}-frame clips (not I3D); "
        "frame change = mean |x_t+1 - x_t| on [0, 1]. "
        "Wall-clock on a shared 2-core CPU (other jobs running): noisy.",
        "",
    ]

    # LaVie's forgetting: continue on thicker digits, video only vs joint with original frames.
    ratio = 1.0
    runs = forgetting(lifted.ema.module, lifted.ckpt_path, latents, shifted_latents(vae, frames), ratio)
    models = {"before (lifted model)": lifted.ema.module, **{k: t.ema.module for k, t in runs.items()}}
    table = forgetting_rows(models, n, frames, real, steps=ddim)
    keys = (
        "image_frame_fd",
        "image_recognisable",
        "video_frame_fd",
        "video_recognisable",
        "video_frame_fd_thick",
    )
    rows = [
        "| " + " | ".join([label, *(f"{r[k]:.2f}" if "recog" in k else f"{r[k]:.1f}" for k in keys)]) + " |"
        for label, r in table.items()
    ]
    tc = default_shift_train_config()
    lines += [
        f"### Forgetting (LaVie): {tc.steps} more steps on thicker digits (3x3 dilation), all parameters",
        "",
        "| model | image mode: frame FD to original | image mode: recognisable | "
        "video: frame FD to original | video: recognisable | video: frame FD to thick |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"'joint' adds {ratio:g} original-distribution frame per clip to every batch (the frames skip the "
        f"temporal layers); 'video only' trains on the thick clips alone. {n} x {frames} generated frames "
        f"against {n} x {frames} real test frames; frame FD uses the frame classifier's features.",
        "",
    ]

    # Flicker: image decoder vs temporally fine-tuned decoder (same frozen encoder).
    fl = flicker_with_and_without(vae_ckpt, frames, progress=False)
    lines += [
        f"### Flicker of the per-frame autoencoder ({fl['image decoder']['clips']} held-out clips of {frames} frames)",  # noqa: E501
        "",
        "| decoder | PSNR dB | SSIM | flicker |",
        "| --- | --- | --- | --- |",
        *(
            f"| {k} | {fl[k]['psnr']:.2f} | {fl[k]['ssim']:.3f} | {fl[k]['flicker']:.4f} |"
            for k in ("image decoder", "fine-tuned decoder")
        ),
        "",
        f"Fine-tuning: {fl['trainer'].step} steps, 3D patch discriminator, encoder frozen; "
        f"profile `{get_profile()}`.",
    ]
    return "\n".join(lines)
