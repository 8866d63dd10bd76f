"""`python -m minilvdm train`: the VAE (reused if trained) and a latent (or pixel) video diffusion model.

    python -m minilvdm train --data my_videos --steps 500 --batch-size 8 --lr 1e-3

Options change the config hash, so every setting trains (and later reuses) its own checkpoint.
"""

from __future__ import annotations

from . import UsageError, add_training_options, check_training_options, dataset_of, train_overrides


def add_arguments(parser, steps_flag: str = "--steps"):
    parser.add_argument("--dataset", choices=("mnist", "sky"), default=None, help="default: mnist")
    parser.add_argument(
        "--space",
        choices=("latent", "pixel"),
        default="latent",
        help="'pixel' trains the pixel-space baseline with the same UNet",
    )
    parser.add_argument("--conditional", action="store_true", help="digit-class conditional (Moving MNIST)")
    add_training_options(parser, steps_flag)


def validate(args, steps_flag: str = "--steps"):
    check_training_options(args, steps_flag)
    if args.conditional and dataset_of(args) != "mnist":
        raise UsageError("--conditional needs --dataset mnist (digit classes)")


def model_from_args(args):
    """Train, resume or reuse the model the arguments name; returns (trainer, ema model)."""
    from ..methods.lvdm import default_data_config, default_lvdm_config, default_train_config, train_lvdm

    dataset = dataset_of(args)
    cfg = default_lvdm_config(dataset, args.space, args.conditional)
    train_cfg = train_overrides(default_train_config(args.space, dataset, args.conditional), args)
    return train_lvdm(cfg, train_cfg, default_data_config(dataset, path=args.data))


def run(args):
    trainer, _ = model_from_args(args)
    loss = sum(v for _, v in trainer.history[-50:]) / max(1, len(trainer.history[-50:]))
    print(
        f"checkpoint: {trainer.ckpt_path}\nsteps: {trainer.step}, recent loss {loss:.4f}, "
        f"training time {trainer.seconds / 60:.1f} min"
    )
    return 0
