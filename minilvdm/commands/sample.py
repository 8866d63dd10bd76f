"""`python -m minilvdm sample`: clips from a trained model as GIF, MP4 and a tensor file for `eval`."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from ..core.config import output_dir
from ..core.viz import save_gif, save_mp4
from . import UsageError, at_least, dataset_of
from .train import add_arguments as add_model_arguments
from .train import model_from_args
from .train import validate as validate_model


def add_arguments(parser):
    add_model_arguments(parser, steps_flag="--train-steps")  # --steps is the sampler's here
    parser.add_argument("--n", type=int, default=16, help="clips to sample")
    parser.add_argument("--steps", type=int, default=50, help="sampler steps (DDPM uses all if 0)")
    parser.add_argument("--sampler", choices=("ddim", "ddpm"), default="ddim")
    parser.add_argument(
        "--eta", type=float, default=None, help="DDIM's eta (default: the data set's, presets.py sample_eta)"
    )
    parser.add_argument(
        "--shift",
        type=float,
        default=None,
        help="DDIM time grid: > 1 moves the steps towards the noise (default: the data set's, "
        "presets.py sample_shift; 1 = even)",
    )
    parser.add_argument("--guidance", type=float, default=None, help="guidance scale (conditional models)")
    parser.add_argument("--guidance-form", choices=("cfg", "lvdm"), default="cfg")
    parser.add_argument("--class-label", type=int, default=None, help="digit to generate (conditional)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="folder (default outputs/samples/<model>)")


def validate(args):
    validate_model(args, steps_flag="--train-steps")
    at_least(args, "--n", 1)
    at_least(args, "--steps", 0)
    at_least(args, "--eta", 0)
    if args.shift is not None and args.shift <= 0:
        raise UsageError(f"--shift must be > 0, got {args.shift}")
    if args.class_label is not None and not 0 <= args.class_label <= 9:
        raise UsageError(f"--class-label must be a digit 0..9, got {args.class_label}")


def run(args):
    from ..vae.latent_cache import video_size

    trainer, model = model_from_args(args)
    labels = None
    if model.cfg.num_classes:
        labels = (
            torch.full((args.n,), args.class_label)
            if args.class_label is not None
            else torch.arange(args.n) % model.cfg.num_classes
        )
    start = time.perf_counter()
    videos = model.sample(
        args.n,
        size=video_size(dataset_of(args)),
        steps=args.steps or None,
        sampler=args.sampler,
        eta=args.eta,
        shift=args.shift,
        guidance=args.guidance,
        guidance_form=args.guidance_form,
        class_label=labels,
        generator=torch.Generator().manual_seed(args.seed),
        progress=True,
    )
    seconds = time.perf_counter() - start
    out = output_dir() / "samples" / trainer.ckpt_path.stem if args.out is None else Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(videos, out / "samples.pt")  # (N, C, T, H, W) in [-1, 1]: what `eval` reads
    if labels is not None:
        torch.save(labels, out / "labels.pt")
    paths = [save_gif(videos, out / "samples.gif"), save_mp4(videos, out / "samples.mp4")]
    print(f"{args.n} clips {tuple(videos.shape[1:])} in {seconds:.1f} s ({seconds / args.n:.2f} s/clip)")
    print("wrote", out / "samples.pt", *paths)
    return 0
