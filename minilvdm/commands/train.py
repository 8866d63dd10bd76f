"""`python -m minilvdm train`: the VAE (reused if trained) and a latent (or pixel) video diffusion model."""

from __future__ import annotations


def add_arguments(parser):
    parser.add_argument("--dataset", choices=("mnist", "sky"), default="mnist")
    parser.add_argument(
        "--space",
        choices=("latent", "pixel"),
        default="latent",
        help="'pixel' trains the pixel-space baseline with the same UNet",
    )
    parser.add_argument("--conditional", action="store_true", help="digit-class conditional (Moving MNIST)")


def model_from_args(args):
    """Train, resume or reuse the model the arguments name; returns (trainer, ema model)."""
    from ..lvdm import default_lvdm_config, train_lvdm

    if args.conditional and args.dataset != "mnist":
        raise SystemExit("--conditional needs --dataset mnist (digit classes)")
    cfg = default_lvdm_config(args.dataset, args.space, args.conditional)
    return train_lvdm(cfg)


def run(args):
    trainer, _ = model_from_args(args)
    loss = sum(v for _, v in trainer.history[-50:]) / max(1, len(trainer.history[-50:]))
    print(
        f"checkpoint: {trainer.ckpt_path}\nsteps: {trainer.step}, recent loss {loss:.4f}, "
        f"training time {trainer.seconds / 60:.1f} min"
    )
    return 0
