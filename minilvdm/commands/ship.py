"""`python -m minilvdm ship`: the command that (re)makes the shipped weights.

    python -m minilvdm ship --profile quick                # train/reuse the quick VAE + LVDM, ship them
    python -m minilvdm ship --profile quick --requested    # ship every finished model runs asked for
    ... --requested --since 2026-12-01T15:40               # only what runs asked for since then
    python -m minilvdm ship --add outputs/checkpoints/X.pt # ship these files too
    ... --replace                                          # drop every other shipped file first
    ... --remove X.pt                                      # drop this shipped file
    ... --int8                                             # the new files' weight matrices in int8

Without --requested or --add it trains (or reuses) the Moving MNIST pipeline exactly as `demo`
and the notebooks do. `--requested` reads outputs/checkpoints/requested.json (every name
`checkpoint_path` handed out: run the notebooks in a profile first) and ships the finished
files of the active profile. Files merge into minilvdm/weights/pretrained/ (see
`pretrained.ship`); MANIFEST.json gets one entry per file, with the VAE's and the LVDM's
quality on a small fixed sample measured on the shipped (float16 or int8) copies, which
tests/test_pretrained.py re-measures. A shipped file is a finished checkpoint too: `--add` it
with `--int8` to re-store it at about half the size (its entry keeps the trained file's sha256 as
`source_sha256`; check its metrics, int8 rounds more than float16).
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
from pathlib import Path

import torch

from ..core.checkpoint import read_requested
from ..core.config import get_profile
from . import UsageError

CHECK_CLIPS = 8  # the small fixed sample the test re-measures
CHECK_STEPS = 20  # DDIM steps for that sample
DEFAULT_EXCLUDE = ("evaluator_*", "recipe-*")  # metric networks ship in minilvdm/weights/; benchmark runs


def add_arguments(parser: argparse.ArgumentParser):
    parser.add_argument("--folder", default=None, help="output folder (default: minilvdm/weights/pretrained)")
    parser.add_argument(
        "--requested",
        action="store_true",
        help="ship every finished checkpoint of this profile listed in outputs/checkpoints/requested.json",
    )
    parser.add_argument(
        "--add", nargs="+", default=[], metavar="FILE", help="ship these checkpoint files too"
    )
    parser.add_argument(
        "--replace", action="store_true", help="remove every other shipped file (default: merge)"
    )
    parser.add_argument(
        "--remove",
        nargs="+",
        default=[],
        metavar="NAME",
        help="drop these shipped files (by file name) and their MANIFEST.json entries",
    )
    parser.add_argument(
        "--int8",
        action="store_true",
        help="store the new files' weight matrices in int8 with per-channel scales, half the float16 size",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        metavar="GLOB",
        help=f"with --requested: skip these names (default: {' '.join(DEFAULT_EXCLUDE)}; '' skips none)",
    )
    parser.add_argument(
        "--since",
        default=None,
        metavar="ISO-TIME",
        help="with --requested: only names last requested at or after this time (UTC unless it "
        "says otherwise, e.g. 2026-12-01T15:40): leaves out older hashes no current run asks for",
    )
    parser.add_argument(
        "--rebuild-command",
        default=None,
        metavar="TEXT",
        help="the rebuild command MANIFEST.json records for --requested/--add files",
    )


def shipped_folder(args) -> Path:
    from ..pretrained import SHIPPED_DIR

    return Path(args.folder) if args.folder else SHIPPED_DIR


def validate(args):
    folder = shipped_folder(args)
    for name in args.remove:
        if not (folder / name).is_file():
            raise UsageError(f"--remove: {name!r} is not a shipped file in {folder}")
    for name in args.add:
        if not Path(name).is_file():
            raise UsageError(f"--add: no checkpoint file at {name!r}")
    if args.since is not None:
        if not args.requested:
            raise UsageError("--since only filters --requested")
        args.since = parse_since(args.since)


def parse_since(text: str) -> datetime.datetime:
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since: {text!r} is not an ISO time such as 2026-12-01T15:40") from None
    return when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)


def requested_before(name: str, since: datetime.datetime, records: dict) -> bool:
    """Whether requested.json last saw `name` before `since` (an unreadable time counts as before)."""
    try:
        last = datetime.datetime.fromisoformat(records[name]["last"])
    except (KeyError, TypeError, ValueError):
        return True
    return (last if last.tzinfo else last.replace(tzinfo=datetime.timezone.utc)) < since


def vae_check(vae) -> dict:
    """PSNR and SSIM (dB, -) of posterior-mean reconstructions of CHECK_CLIPS held-out clips."""
    from ..vae.model import evaluate_vae
    from .vae import eval_data_config

    result = evaluate_vae(vae, eval_data_config("mnist", clips=CHECK_CLIPS))
    return {"psnr": round(result["psnr"], 4), "ssim": round(result["ssim"], 4)}


def lvdm_check(model) -> dict:
    """Statistics of CHECK_CLIPS clips sampled by DDIM from seed 0: a fingerprint of the
    weights (the mean pixel) and a quality figure (recognisability)."""
    from ..eval import recognisability

    # eta 0 on the even grid: the manifest's figures were measured so, before eta 1 and the shift
    seed = torch.Generator().manual_seed(0)
    videos = model.sample(CHECK_CLIPS, steps=CHECK_STEPS, eta=0.0, shift=1.0, generator=seed)
    return {
        "mean_pixel": round(videos.mean().item(), 4),
        "recognisability": round(recognisability(videos), 4),
    }


def quality_checks(folder: Path, entry: dict) -> dict:
    """`pretrained.ship`'s per-file checks: the VAE's reconstructions and the short-clip LVDM's
    samples (with the folder's Moving MNIST VAE of its profile), on the CPU; {} for others."""
    from ..pretrained import LVDM_ROLE, VAE_ROLE, load_lvdm, shipped_entry
    from ..vae.model import load_vae

    checked = {"check_clips": CHECK_CLIPS}
    if entry["role"] == VAE_ROLE and entry["dataset"] == "mnist":
        return {**vae_check(load_vae(folder / entry["file"], "cpu")), **checked}
    if entry["role"] == LVDM_ROLE:
        try:
            vae_file = shipped_entry(VAE_ROLE, entry["profile"], "mnist", folder)["file"]
        except LookupError as err:
            print(f"no check for {entry['file']}: {err}")
            return {}
        lvdm = load_lvdm(folder / entry["file"], load_vae(folder / vae_file, "cpu"), "cpu")
        return {**lvdm_check(lvdm), **checked, "check_ddim_steps": CHECK_STEPS}
    return {}


def requested(args) -> list[Path]:
    from ..pretrained import requested_checkpoints

    patterns = DEFAULT_EXCLUDE if args.exclude is None else [p for p in args.exclude if p]
    finished, skipped = requested_checkpoints()
    for line in skipped:
        print(line)
    records = read_requested() if getattr(args, "since", None) else {}
    chosen = []
    for path in finished:
        if any(fnmatch.fnmatch(path.name, p) for p in patterns):
            print(f"skipping {path.name}: excluded ({' '.join(patterns)})")
        elif records and requested_before(path.name, args.since, records):
            print(f"skipping {path.name}: last requested {records[path.name].get('last')}, before --since")
        else:
            chosen.append(path)
    return chosen


def run(args):
    from ..pretrained import is_finished, load_checkpoint, ship, split_name

    profile = get_profile()
    folder = shipped_folder(args)
    ship_cmd = f"python -m minilvdm ship --profile {profile}" + (" --int8" if args.int8 else "")
    if args.remove and not args.requested and not args.add:  # only a removal
        path = ship([], "", folder=folder, remove=args.remove)
        print(path.read_text())
        return 0
    if not args.requested and not args.add:  # the default: the quick Moving MNIST pipeline
        from ..methods.lvdm import default_lvdm_config, train_lvdm
        from ..vae.model import train_vae

        vae_trainer = train_vae("mnist")
        lvdm_trainer, _ = train_lvdm(default_lvdm_config("mnist"), vae_trainer=vae_trainer)
        paths, command = [vae_trainer.ckpt_path, lvdm_trainer.ckpt_path], ship_cmd
    else:
        paths = requested(args) if args.requested else []
        for name in args.add:
            state = load_checkpoint(name)
            try:
                split_name(name)
            except ValueError as err:
                raise UsageError(f"--add: {err}") from err
            if not is_finished(state):
                raise UsageError(f"--add: {name} is unfinished (step {state['step']})")
            paths.append(Path(name))
        if not paths:
            print("nothing to ship")
            return 0
        flags = (" --requested" if args.requested else "") + "".join(f" --add {a}" for a in args.add)
        command = (
            args.rebuild_command
            or f"<the notebook or command that trains it in {profile}>; {ship_cmd}{flags}"
        )
    path = ship(
        paths,
        command,
        folder=folder,
        replace=args.replace,
        checks=quality_checks,
        int8=args.int8,
        remove=args.remove,
    )
    print(path.read_text())
    return 0
