"""`python -m minilvdm demo`: the main job, as far as the pipeline exists.

Stages run in order and each appends to a short report in outputs/report.md:
data -> VAE -> latent diffusion (short clips, FVD against the real-vs-real floor) -> long
video (prediction + interpolation models, one streamed long video and its drift).
`--dataset sky` runs the same stages on SkyTimelapse (real under data/ when present,
else synthetic skies).
"""

from __future__ import annotations

import argparse
import time

from ..core.config import get_device, get_profile, output_dir
from ..core.cost import peak_rss_mb
from ..core.presets import preset
from ..core.viz import save_gif, save_mp4
from ..data import MovingMNIST, SkyConfig, SkyTimelapse, find_sky_root
from ..vae.latent_cache import video_size
from .data import sky_synthetic_config

DATASETS = ("mnist", "sky")


def add_arguments(parser: argparse.ArgumentParser):
    parser.add_argument("--dataset", choices=DATASETS, default="mnist")


def stage_data(args, report: list[str]) -> None:
    out = output_dir() / "demo"
    if args.dataset == "mnist":
        clips = MovingMNIST(split="test").videos(0, 16)
    else:
        root, real = find_sky_root(sky_synthetic_config())
        sky = SkyTimelapse(root, SkyConfig(frames=16, size=video_size("sky"), split="test"))
        clips = sky.videos(range(min(16, len(sky))))
    gif = save_gif(clips, out / f"{args.dataset}_real.gif")
    mp4 = save_mp4(clips, out / f"{args.dataset}_real.mp4")
    report.append(f"- data: {len(clips)} real {args.dataset} clips {tuple(clips.shape[1:])} -> {gif}, {mp4}")


def stage_vae(args, report: list[str]) -> None:
    """Train (or reuse) the quick VAE for the chosen data set and report held-out PSNR."""
    from ..vae.model import evaluate_vae, train_vae
    from .vae import eval_data_config, side_by_side

    trainer = train_vae(args.dataset)
    result = evaluate_vae(trainer.ema.module, eval_data_config(args.dataset))
    gif = save_gif(
        side_by_side(result["videos"][:4], result["recon"][:4]),
        output_dir() / "demo" / f"{args.dataset}_vae.gif",
    )
    cfg, size = trainer.ema.module.cfg, video_size(args.dataset)
    report.append(
        f"- vae: {cfg.compression(16, size, size):.0f}x compression, held-out PSNR {result['psnr']:.2f} dB, "
        f"SSIM {result['ssim']:.3f} on {result['clips']} clips -> {gif}"
    )


def stage_lvdm(args, report: list[str]) -> None:
    """Train (or reuse) the latent video diffusion model, sample clips, measure them."""
    import torch

    from ..eval import format_score, frechet_video_distance, real_clips, score
    from ..methods.lvdm import default_lvdm_config, train_lvdm
    from ..vae.model import train_vae

    trainer, model = train_lvdm(default_lvdm_config(args.dataset), vae_trainer=train_vae(args.dataset))
    p = preset(args.dataset)
    n = p.sample_clips
    start = time.perf_counter()
    videos = model.sample(
        n,
        size=video_size(args.dataset),
        steps=p.sample_steps,
        generator=torch.Generator().manual_seed(0),
    )
    seconds = time.perf_counter() - start
    out = output_dir() / "demo"
    torch.save(videos, out / f"{args.dataset}_lvdm_samples.pt")
    gif, mp4 = (
        save_gif(videos[:16], out / f"{args.dataset}_lvdm.gif"),
        save_mp4(videos[:16], out / f"{args.dataset}_lvdm.mp4"),
    )
    real = real_clips(args.dataset, n)[0]  # as many real clips as generated: comparable FDs
    result = score(videos, real, dataset=args.dataset)
    floor = frechet_video_distance(real_clips(args.dataset, n, part=1)[0], real, dataset=args.dataset)
    fvd = result["fvd"][0]
    report.append(
        f"- latent diffusion: {trainer.step} steps ({trainer.seconds / 60:.1f} min training), {n} clips by "
        f"DDIM in {seconds:.0f} s -> {gif}, {mp4}\n  FVD {fvd:.1f} = {fvd / floor:.1f}x the real-vs-real "
        f"floor {floor:.1f} (same sample counts)\n  " + format_score(result).replace("\n", "\n  ")
    )


def stage_long(args, report: list[str]) -> None:
    """Train (or reuse) the prediction and interpolation models, stream a few long videos to
    disk and measure drift: FVD of each 128-frame block (all its 16-frame windows) against
    held-out clips, next to the real-vs-real floor at the same sample counts."""
    from ..eval import block_windows, frechet_video_distance, real_clips, segment_distances
    from ..methods.classroom import warm_start_init
    from ..methods.long_video.models import (
        default_long_config,
        generate_long_videos,
        long_video_config,
        train_long_model,
    )
    from ..vae.model import train_vae

    vae_trainer = train_vae(args.dataset)
    init = warm_start_init(args.dataset, vae_trainer)  # from the classroom LVDM where it is here
    pred_cfg = default_long_config("predict", args.dataset, init=init)
    pred_trainer, predictor = train_long_model(pred_cfg, vae_trainer=vae_trainer)
    interp_trainer, interpolator = train_long_model(
        default_long_config("interp", args.dataset, init=init), vae_trainer=vae_trainer
    )
    p = preset(args.dataset)
    cfg = long_video_config(args.dataset, frames=p.long_frames, steps=p.long_steps)
    count, block = p.long_videos, 128  # each drift point: count * 8 clips
    videos, seconds, result = generate_long_videos(
        predictor,
        interpolator,
        vae_trainer.ema.module.eval(),
        cfg,
        count,
        output_dir() / "demo" / f"{args.dataset}_long",
        clip=pred_cfg.clip,
        size=video_size(args.dataset),
    )
    windows = block_windows(videos, block)  # segment k = every window of block k
    n = p.drift_real_clips
    real = real_clips(args.dataset, n)[0]
    seg = segment_distances(windows, real, dataset=args.dataset)
    floor = frechet_video_distance(
        real_clips(args.dataset, len(windows), part=1)[0], real, dataset=args.dataset
    )
    fvd = ", ".join(f"{v:.1f}" for v in seg["fvd"])
    report.append(
        f"- long video: prediction {pred_trainer.step} + interpolation {interp_trainer.step} steps"
        f"{' (warm-started from the classroom LVDM)' if init else ''} "
        f"({(pred_trainer.seconds + interp_trainer.seconds) / 60:.1f} min training); {count} videos of "
        f"{result['frames']} frames ({result['keyframes']} keyframes {cfg.stride} latent frames apart), "
        f"{seconds:.0f} s each -> {result['mp4']}\n"
        f"  drift: FVD of each {block}-frame block ({len(windows)} clips of 16 frames) vs {n} real clips: "
        f"{fvd} (real vs real at the same counts: {floor:.1f})"
    )


STAGES = [
    ("data", stage_data),
    ("vae", stage_vae),
    ("latent diffusion", stage_lvdm),
    ("long video", stage_long),
]


def run(args):
    start = time.perf_counter()
    report = [f"# minilvdm demo ({args.dataset}, profile {get_profile()}, device {get_device()})", ""]
    for name, stage in STAGES:
        t0 = time.perf_counter()
        print(f"== stage {name}", flush=True)
        stage(args, report)
        report.append(
            f"  ({name}: {time.perf_counter() - t0:.1f} s, peak memory so far {peak_rss_mb():.0f} MB)"
        )
    report.append(f"\ntotal time: {time.perf_counter() - start:.1f} s, peak memory {peak_rss_mb():.0f} MB")
    path = output_dir() / "report.md"
    path.write_text("\n".join(report) + "\n")
    print("\n".join(report))
    print(f"\nreport: {path}\noutputs: {output_dir()}")
    return 0
