"""`python -m minilvdm vae`: train (or reuse) the video VAE, evaluate it on held-out clips,
optionally fine-tune its decoder (Video LDM) and encode the latent cache.

    python -m minilvdm vae --dataset mnist                     # quick profile by default
    python -m minilvdm vae --dataset sky --finetune --cache
    python -m minilvdm vae --profile full --dataset sky         # the GPU-sized run
    python -m minilvdm vae --data my_videos --steps 300 --batch-size 4 --lr 2e-3 --workers 1
    python -m benchmarks vae --profile quick                    # BENCHMARKS.md section (full: --profile full)
"""

from __future__ import annotations

import dataclasses

from ..core.config import config_hash, describe, output_dir
from ..core.presets import preset
from ..core.viz import save_gif, side_by_side
from ..vae.latent_cache import VideoDataConfig, eval_data_config, video_size
from . import UsageError, add_training_options, at_least, check_training_options, dataset_of, train_overrides

DATASETS = ("mnist", "sky")


def add_arguments(parser):
    parser.add_argument("--dataset", choices=DATASETS, default=None, help="default: mnist")
    add_training_options(parser)
    parser.add_argument("--workers", type=int, default=0, help="DataLoader processes reading --data clips")
    parser.add_argument("--time-factor", type=int, default=None, choices=(1, 2, 4))
    parser.add_argument("--space-factor", type=int, default=None, choices=(2, 4, 8))
    parser.add_argument("--latent-channels", type=int, default=None)
    parser.add_argument("--block", choices=("factorized", "full"), default=None)
    parser.add_argument("--kl-weight", type=float, default=None)
    parser.add_argument("--eval-clips", type=int, default=None, help="held-out clips to evaluate")
    parser.add_argument("--finetune", action="store_true", help="Video LDM temporal decoder fine-tuning")
    parser.add_argument("--cache", action="store_true", help="encode the training set to the latent cache")


def validate(args):
    check_training_options(args)
    for option in ("--latent-channels", "--eval-clips"):
        at_least(args, option, 1)
    at_least(args, "--kl-weight", 0)
    at_least(args, "--workers", 0)
    if args.finetune and args.data:
        raise UsageError("--finetune is not wired for --data yet; train the VAE without it")


def vae_config_from_args(args):
    from ..vae.model import default_vae_config

    cfg = default_vae_config(dataset_of(args))
    overrides = {
        "time_factor": args.time_factor,
        "space_factor": args.space_factor,
        "latent_channels": args.latent_channels,
        "block": args.block,
        "kl_weight": args.kl_weight,
    }
    return dataclasses.replace(cfg, **{k: v for k, v in overrides.items() if v is not None})


def run(args):
    from ..vae.model import default_train_config, evaluate_vae, train_data_config, train_vae

    dataset = args.dataset = dataset_of(args)
    cfg = vae_config_from_args(args)
    train_cfg = train_overrides(default_train_config(dataset), args)
    print(describe(cfg, train_cfg))
    data = train_data_config(dataset, path=args.data)
    trainer = train_vae(dataset, cfg, train_cfg, data, workers=args.workers)
    vae = trainer.ema.module
    eval_cfg = eval_data_config(dataset, args.eval_clips, path=args.data)
    try:
        result = evaluate_vae(vae, eval_cfg)
    except ValueError as err:  # a folder with no held-out videos (fewer than 5)
        print(f"no held-out clips ({str(err).splitlines()[0]}); evaluating on training clips")
        result = evaluate_vae(vae, dataclasses.replace(eval_cfg, split="train"))
    out, size = output_dir() / "vae", video_size(dataset)
    tag = f"{dataset}-{config_hash(cfg, train_cfg)}"
    gif = save_gif(side_by_side(result["videos"][:4], result["recon"][:4]), out / f"{tag}-recon.gif")
    print(
        f"VAE {args.dataset}: {cfg.compression(16, size, size):.0f}x fewer values, trained {trainer.step} "
        f"steps in {trainer.seconds:.0f} s; held-out {result['clips']} clips: PSNR {result['psnr']:.2f} dB, "
        f"SSIM {result['ssim']:.3f}, flicker {result['flicker']:.4f}; "
        f"scale factor {float(vae.scale_factor):.3f}"
    )
    print(f"originals (left) vs reconstructions (right): {gif}\ncheckpoint: {trainer.ckpt_path}")
    if args.finetune:
        from ..vae.finetune import finetune_decoder

        train_data = VideoDataConfig(
            args.dataset, split="train", frames=preset(dataset).short_frames, size=size
        )
        ft = finetune_decoder(trainer.ckpt_path, train_data)
        after = evaluate_vae(ft.ema.module.vae, eval_cfg)
        print(
            f"decoder fine-tuning ({ft.step} steps, {ft.seconds:.0f} s): flicker {result['flicker']:.4f} -> "
            f"{after['flicker']:.4f}, PSNR {result['psnr']:.2f} -> {after['psnr']:.2f} dB"
        )
        save_gif(side_by_side(result["recon"][:4], after["recon"][:4]), out / f"{tag}-finetune.gif")
    if args.cache:
        from ..vae.latent_cache import load_or_encode_latents

        data = VideoDataConfig(
            args.dataset,
            split="train",
            frames=16,
            size=size,
            count=preset(dataset).cache_clips,
            path=args.data,
        )
        cache = load_or_encode_latents(vae, trainer.ckpt_path, data)
        lat = cache["latents"]
        print(f"latent cache: {tuple(lat.shape)}, std {lat.std():.3f}")
    return 0
