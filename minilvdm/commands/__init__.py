"""Command-line commands: one module each, with `add_arguments(parser)` and `run(args)`, and
optionally `validate(args)`, called before anything runs.

A user's mistake raises UsageError: `main` prints `minilvdm <command>: error: <message>` (one
line, naming the option and the rule) and exits with status 2; any other failure keeps its
traceback.
"""

from __future__ import annotations

import math
from pathlib import Path


class UsageError(Exception):
    """A command-line mistake: the message names the option and the rule."""


def at_least(args, option: str, low, allow_none: bool = True) -> None:
    """Raise UsageError unless args.<option> >= low (None passes when allow_none)."""
    value = getattr(args, option.lstrip("-").replace("-", "_"))
    if value is None and allow_none:
        return
    if value is None or not math.isfinite(value) or value < low:
        raise UsageError(f"{option} must be >= {low}, got {value}")


def positive(args, option: str) -> None:
    value = getattr(args, option.lstrip("-").replace("-", "_"))
    if value is not None and not (math.isfinite(value) and value > 0):
        raise UsageError(f"{option} must be > 0, got {value}")


def data_folder(value: str | None) -> str:
    """--data: an existing folder, returned resolved (so the config hash names the folder)."""
    if value is None:
        return ""
    path = Path(value).expanduser()
    if not path.is_dir():
        raise UsageError(f"--data must be a folder of videos or frame folders; no folder at {value!r}")
    return str(path.resolve())


def add_training_options(parser, steps_flag: str = "--steps") -> None:
    """--data, --steps, --batch-size, --lr: your own videos and the training schedule."""
    parser.add_argument("--data", default=None, help="a folder of your own videos (MP4, GIF, frame folders)")
    parser.add_argument(steps_flag, type=int, default=None, dest="train_steps", help="training steps")
    parser.add_argument("--batch-size", type=int, default=None, help="training batch size")
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate")


def check_training_options(args, steps_flag: str = "--steps") -> None:
    if args.train_steps is not None and args.train_steps < 1:
        raise UsageError(f"{steps_flag} must be >= 1, got {args.train_steps}")
    at_least(args, "--batch-size", 1)
    positive(args, "--lr")
    args.data = data_folder(args.data)
    if args.data and getattr(args, "dataset", None) is not None:
        raise UsageError("--data reads your own videos; it cannot be combined with --dataset")


def train_overrides(train_cfg, args):
    """The train config with the command line's --steps, --batch-size and --lr applied."""
    import dataclasses

    values = {"steps": args.train_steps, "batch_size": args.batch_size, "lr": args.lr}
    return dataclasses.replace(train_cfg, **{k: v for k, v in values.items() if v is not None})


def dataset_of(args) -> str:
    return "folder" if args.data else (args.dataset or "mnist")
