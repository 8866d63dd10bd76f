"""`python -m minilvdm long --frames 1024`: a long video, streamed to MP4 and a .npy tensor file.

Trains (or reuses) the VAE, the prediction model and the interpolation model first; for Moving
MNIST both start from the classroom LVDM where its weights are here (`warm_start_init`).
`--autoguide` guides them by models of the same tasks trained from scratch (Karras et al. 2024;
trained here when absent, about 7 CPU-minutes): BENCHMARKS.md `long_video`. `--digit 3` draws a
video whose first digit is a 3 with a class-conditional pair (the long-budget pair where its
weights are here, as with MINILVDM_WEIGHTS=shipped; otherwise the quick pair, warm-started from
the class-conditional classroom LVDM, about 5 CPU-minutes when absent) and classifier-free
guidance on the digit (s = 4, DDIM eta 1: the best row of BENCHMARKS.md `long_classroom`, in
sessions 19 and 21 alike), which keeps the digits from changing identity along the video.
An interrupted run resumes when started again with the same arguments.
"""

from __future__ import annotations

import dataclasses
import time

from ..core.config import output_dir
from . import UsageError, at_least


def add_arguments(parser):
    parser.add_argument("--dataset", choices=("mnist", "sky"), default="mnist")
    parser.add_argument("--frames", type=int, default=1024, help="frames in the video (exact)")
    parser.add_argument("--mode", choices=("hierarchical", "autoregressive"), default="hierarchical")
    parser.add_argument("--steps", type=int, default=50, help="DDIM steps per clip")
    parser.add_argument(
        "--eta",
        type=float,
        default=None,
        help="DDIM eta (default: the data set's, presets.py sample_eta; 0 with --autoguide, 1 with --digit)",
    )
    parser.add_argument(
        "--guidance",
        type=float,
        default=None,
        help="guidance w, (1 + w) D - w D_uncond (0 = off; default 0.1, LVDM's; 1 with --autoguide; "
        "3 with --digit, classifier-free s = 4)",
    )
    parser.add_argument(
        "--autoguide",
        action="store_true",
        help="guide the warm-started models by from-scratch models of the same tasks (Moving MNIST)",
    )
    parser.add_argument(
        "--digit",
        type=int,
        default=None,
        help="the first digit (0-9): a class-conditional pair, guidance on the digit (Moving MNIST)",
    )
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
    if args.autoguide and args.dataset != "mnist":
        raise UsageError(
            "--autoguide: the guides are the warm-started Moving MNIST models' (--dataset mnist)"
        )
    if args.digit is not None:
        if not 0 <= args.digit <= 9 or args.dataset != "mnist" or args.autoguide:
            raise UsageError("--digit takes 0-9, with --dataset mnist and without --autoguide")


def sampling_defaults(args) -> tuple[float, float | None]:
    """(guidance w, DDIM eta or None for the data set's): what was asked, else the best measured
    for the kind of run. Autoguided at eta 1 the videos fell apart (BENCHMARKS.md `long_video`):
    eta 0; with a digit, s = 4 at eta 1 kept most windows recognisable (`long_classroom`)."""
    default_w = 1.0 if args.autoguide else (3.0 if args.digit is not None else 0.1)
    default_eta = 0.0 if args.autoguide else (1.0 if args.digit is not None else None)
    return (
        args.guidance if args.guidance is not None else default_w,
        args.eta if args.eta is not None else default_eta,
    )


def digit_long_pair(args, vae_trainer) -> tuple | None:
    """(predictor, interpolator) of the long-budget class-conditional pair for a --digit run of the
    default hierarchical, perturbation-trained kind, where its finished weights are here (shipped
    or trained once); None otherwise (the quick pair is used)."""
    from ..methods.long_video.models import classroom_long_pair

    if args.digit is None or args.mode != "hierarchical" or args.no_perturb_training:
        return None
    found = classroom_long_pair(vae_trainer, conditional=True)
    if found is None:
        return None
    print("using the long-budget class-conditional pair (BENCHMARKS.md long_classroom)")
    return found[0][1], found[1][1]


def run(args):
    from ..methods.classroom import warm_start_init
    from ..methods.long_video.models import (
        build_generator,
        default_long_config,
        long_video_config,
        train_long_model,
    )
    from ..vae.latent_cache import video_size
    from ..vae.model import train_vae

    vae_trainer = train_vae(args.dataset)
    perturb = not args.no_perturb_training
    # autoregressive: a predictor of consecutive latent frames (stride 1), as the generator needs
    stride = 1 if args.mode == "autoregressive" else None
    init = warm_start_init(args.dataset, vae_trainer)  # from the classroom LVDM where it is here
    if (args.autoguide or args.digit is not None) and not init:
        raise UsageError(
            f"{'--autoguide' if args.autoguide else '--digit'} needs the classroom weights to "
            "warm-start from: MINILVDM_WEIGHTS=shipped"
        )
    labelled = {"conditional": args.digit is not None}
    pred_cfg = default_long_config("predict", args.dataset, perturb, stride=stride, init=init, **labelled)
    interp_cfg = (
        default_long_config("interp", args.dataset, perturb, init=init, **labelled)
        if stride is None
        else None
    )
    train = lambda c: None if c is None else train_long_model(c, vae_trainer=vae_trainer)[1]  # noqa: E731
    long_pair = digit_long_pair(args, vae_trainer)
    if long_pair is not None:
        predictor, interpolator = long_pair
    else:
        predictor, interpolator = train(pred_cfg), train(interp_cfg)
    guides = (None, None)
    if args.autoguide:  # the same tasks from scratch: the weaker models the warm ones are pushed away from
        guides = tuple(train(c and dataclasses.replace(c, init="")) for c in (pred_cfg, interp_cfg))
    guidance, eta = sampling_defaults(args)
    level = args.perturb if args.perturb is not None else predictor.cfg.perturb_sample
    cfg = long_video_config(
        args.dataset,
        stride=None,  # the models' own (the generator reads it from them)
        frames=args.frames,
        mode=args.mode,
        steps=args.steps,
        **({} if eta is None else {"eta": eta}),
        guidance=guidance,
        perturb_level=level,
        seed=args.seed,
        class_label=args.digit,
    )
    settings = f"w{guidance}-s{level}-eta{cfg.eta:g}-seed{args.seed}" + ("-warm" if init else "")
    settings += "-autoguided" if args.autoguide else ""
    settings += f"-digit{args.digit}" if args.digit is not None else ""
    settings += "-longbudget" if long_pair is not None else ""  # another pair: other videos
    name = f"{args.dataset}-{args.mode}-{args.frames}f-{settings}"
    out = output_dir() / "long" / name if args.out is None else args.out
    start = time.perf_counter()
    generator = build_generator(
        predictor,
        interpolator,
        vae_trainer.ema.module.eval(),
        cfg,
        size=video_size(args.dataset),
        guides=guides,
    )
    result = generator.generate(out)
    seconds = time.perf_counter() - start
    print(
        f"{result['frames']} frames ({result['keyframes']} keyframes, {result['rounds']} prediction rounds) "
        f"in {seconds:.0f} s: {result['frames'] / seconds:.1f} frames/s"
    )
    print("wrote", result["mp4"], result["npy"])
    return 0
