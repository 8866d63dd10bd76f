"""`python -m minilvdm <command> [--profile ci|quick|full]`.

Each command lives in `minilvdm/commands/<name>.py` with `add_arguments(parser)` and
`run(args)`. Building the parser imports every command module (each adds its own options),
so a command keeps its heavy imports (models, training) inside `run`, and `--help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from .commands import UsageError
from .core.checkpoint import WEIGHTS_MODES, set_weights_mode, weights_mode
from .core.config import PROFILES, get_profile, set_profile

COMMANDS = {
    "demo": "the main job: data -> models -> samples -> report, in outputs/",
    "prepare": "decode a folder of your own videos once into the frame cache that training reads",
    "data": "generate and preview both data sets; measure their throughput",
    "vae": "train and evaluate the 3D video VAE; --finetune its decoder, --cache the latents",
    "train": "train a latent (or pixel-space) video diffusion model; the VAE first if needed",
    "sample": "sample clips from a trained model: GIF, MP4 and a tensor file for `eval`",
    "long": "generate a long video (e.g. --frames 1024) hierarchically, streamed to MP4 and .npy",
    "student-notebooks": "write copies of the notebooks with exercise solutions stripped",
    "eval": "score generated clips (.pt tensors) against held-out real clips, with intervals",
    "train-evaluators": "retrain the evaluator networks behind the metrics (minilvdm/weights/)",
    "ship": "write shipped weights + metrics: the quick VAE + LVDM, or --requested / --add files",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minilvdm", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=PROFILES, help="overrides $MINILVDM_PROFILE")
    parser.add_argument(
        "--weights",
        choices=WEIGHTS_MODES,
        help="shipped: reuse the shipped quick weights (overrides $MINILVDM_WEIGHTS)",
    )
    sub = parser.add_subparsers(dest="command", metavar="command")
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument(
            "--profile", choices=PROFILES, default=argparse.SUPPRESS, help="overrides $MINILVDM_PROFILE"
        )
        p.add_argument(
            "--weights", choices=WEIGHTS_MODES, default=argparse.SUPPRESS, help="overrides $MINILVDM_WEIGHTS"
        )
        module = importlib.import_module(f"minilvdm.commands.{name.replace('-', '_')}")
        module.add_arguments(p)
        p.set_defaults(_module=module, _prog=p.prog)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "profile", None):
        set_profile(args.profile)
    if getattr(args, "weights", None):
        set_weights_mode(args.weights)
    if not args.command:
        parser.print_help()
        return 0
    try:
        if hasattr(args._module, "validate"):
            args._module.validate(args)
        print(f"minilvdm {args.command}  (profile: {get_profile()}, weights: {weights_mode()})", flush=True)
        return args._module.run(args) or 0
    except UsageError as err:  # the user's mistake: one line, status 2 (as argparse does)
        print(f"{args._prog}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
