"""`python -m minilvdm long --frames 1024`: a long video, streamed to MP4 and a .npy tensor file.

Trains (or reuses) the VAE, the prediction model and the interpolation model first; for Moving
MNIST both start from the classroom LVDM where its weights are here (`warm_start_init`).
An interrupted run resumes when started again with the same arguments.
"""

from __future__ import annotations

import time

from ..core.config import output_dir
from . import at_least


def add_arguments(parser):
    parser.add_argument("--dataset", choices=("mnist", "sky"), default="mnist")
    parser.add_argument("--frames", type=int, default=1024, help="frames in the video (exact)")
    parser.add_argument("--mode", choices=("hierarchical", "autoregressive"), default="hierarchical")
    parser.add_argument("--steps", type=int, default=50, help="DDIM steps per clip")
    parser.add_argument(
        "--eta", type=float, default=None, help="DDIM eta (default: the data set's, presets.py sample_eta)"
    )
    parser.add_argument("--guidance", type=float, default=0.1, help="LVDM unconditional guidance w (0 = off)")
    parser.add_argument(
        "--perturb", type=int, default=None, help="perturbation level s (default: 1/10 of steps)"
    )
    parser.add_argument(
        "--no-perturb-training", action="store_true", help="models trained without perturbation"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="folder (default outputs/long/<settings>)")


def validate(args):
    at_least(args, "--frames", 1)
    at_least(args, "--steps", 1)
    at_least(args, "--eta", 0)
    at_least(args, "--guidance", 0)
    at_least(args, "--perturb", 0)


def run(args):
    from ..methods.long_video.models import (
        build_generator,
        default_long_config,
        long_video_config,
        train_long_model,
    )
    from ..methods.lvdm import warm_start_init
    from ..vae.latent_cache import video_size
    from ..vae.model import train_vae

    vae_trainer = train_vae(args.dataset)
    perturb = not args.no_perturb_training
    # autoregressive: a predictor of consecutive latent frames (stride 1), as the generator needs
    stride = 1 if args.mode == "autoregressive" else None
    init = warm_start_init(args.dataset, vae_trainer)  # from the classroom LVDM where it is here
    pred_cfg = default_long_config("predict", args.dataset, perturb, stride=stride, init=init)
    _, predictor = train_long_model(pred_cfg, vae_trainer=vae_trainer)
    interpolator = None
    if args.mode == "hierarchical":
        cfg = default_long_config("interp", args.dataset, perturb, init=init)
        _, interpolator = train_long_model(cfg, vae_trainer=vae_trainer)
    level = args.perturb if args.perturb is not None else predictor.cfg.perturb_sample
    cfg = long_video_config(
        args.dataset,
        stride=None,  # the models' own (the generator reads it from them)
        frames=args.frames,
        mode=args.mode,
        steps=args.steps,
        **({} if args.eta is None else {"eta": args.eta}),
        guidance=args.guidance,
        perturb_level=level,
        seed=args.seed,
    )
    settings = f"w{args.guidance}-s{level}-eta{cfg.eta:g}-seed{args.seed}" + ("-warm" if init else "")
    name = f"{args.dataset}-{args.mode}-{args.frames}f-{settings}"
    out = output_dir() / "long" / name if args.out is None else args.out
    start = time.perf_counter()
    generator = build_generator(
        predictor,
        interpolator,
        vae_trainer.ema.module.eval(),
        cfg,
        size=video_size(args.dataset),
    )
    result = generator.generate(out)
    seconds = time.perf_counter() - start
    print(
        f"{result['frames']} frames ({result['keyframes']} keyframes, {result['rounds']} prediction rounds) "
        f"in {seconds:.0f} s: {result['frames'] / seconds:.1f} frames/s"
    )
    print("wrote", result["mp4"], result["npy"])
    return 0
