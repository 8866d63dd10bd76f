"""Image model -> video model (Video LDM, LaVie) on Moving MNIST, per-frame VAE latents:
the lifted model (frozen spatial layers, temporal layers trained) against the same video
UNet trained from scratch for equal steps, and the lift autoguided by that UNet; LaVie's
forgetting experiment (continued training on thicker digits, video only against joint with
original frames); flicker of the image decoder against the temporally fine-tuned decoder.
Checkpoints are reused from outputs/checkpoints, so the wall-clock columns are those of the
runs that trained them."""

from __future__ import annotations

import time

from minilvdm.core.config import by_profile, get_profile
from minilvdm.core.presets import preset
from minilvdm.diffusion.unet import count_parameters
from minilvdm.eval import real_clips, recognisability
from minilvdm.eval.metrics import bootstrap_ci
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
    w = preset("mnist").lift_autoguidance
    rows = []
    for label, trainer, time_on, guide in (
        ("image LDM, frames sampled independently", image, False, None),
        ("lifted: image LDM + temporal layers (spatial frozen)", lifted, True, None),
        (f"lifted, autoguided by the from-scratch UNet (w = {w:g})", lifted, True, scratch),
        ("video UNet from scratch (all parameters)", scratch, True, None),
    ):
        t0 = time.perf_counter()
        videos = sample_clips(
            trainer.ema.module,
            n,
            frames,
            enable_time=time_on,
            steps=ddim,
            seed=1,
            autoguide=guide and guide.ema.module,
            guidance=w if guide else 1.0,
        )
        sample_s = time.perf_counter() - t0
        m = video_metrics(videos, real)
        rec = bootstrap_ci(lambda p: p.mean(), recognisability(videos, reduce=False))  # over clips
        c = count_parameters(trainer.model.unet)
        rows.append(
            f"| {label} | {trainer.step} | {trainer.seconds / 60:.1f} | "
            f"{c['trainable']:,} / {c['total']:,} | {m['fvd']:.1f} | {m['frame_fd']:.1f} | "
            f"{m['frame_change']:.4f} | {rec[0]:.2f} [{rec[1]:.2f}, {rec[2]:.2f}] | {sample_s:.0f} |"
        )
    floor = video_metrics(real_clips("mnist", n, part=1, frames=frames)[0], real)
    lines = [
        f"### Lifted vs from scratch ({frames}-frame clips, {n} samples vs {n} real test clips, DDIM {ddim})",
        "",
        "| model | steps | train min | trained / total params | FVD | frame FD | frame change "
        "| recognisable [95% CI] | sample s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *rows,
        f"| real vs real (floor) | - | - | - | {floor['fvd']:.1f} | {floor['frame_fd']:.1f} | "
        f"{floor['frame_change']:.4f} | {floor['recognisable']:.2f} | - |",
        "",
        f"The lifted model's video steps come after {image.step} image steps ({image.seconds / 60:.1f} min); "
        f"both video runs take {lifted.step} steps of {lifted.config.batch_size} clips. "
        f"FVD uses the project's clip encoder on {frames}-frame clips (not I3D); "
        "frame change = mean |x_t+1 - x_t| on [0, 1]. "
        "Wall-clock on a shared 2-core CPU (other jobs running): noisy. "
        "'Autoguided' samples the lift with u_scratch + w (u_lift - u_scratch) at every DDIM step "
        "(autoguidance, Karras et al. 2024: the guide is a weaker model of the same kind, here the "
        "from-scratch UNet that this comparison trains anyway), two UNet calls per step "
        "(presets.py `lift_autoguidance`; w was picked on another sampling seed, where 48 clips read "
        "0.65 / 0.79 / 0.79 / 0.79 / 0.75 at w = 1 / 2 / 2.5 / 3 / 4, FVD lowest at 2; session 29).",
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
