"""`python -m minilvdm ship`: the one command that (re)makes the shipped weights.

Trains (or reuses) the quick Moving MNIST pipeline exactly as `demo` and the notebooks
do, then writes slim copies into minilvdm/weights/pretrained/ with MANIFEST.json: the
metrics each model reaches on a small fixed sample (checked by tests/test_pretrained.py)
and on the demo's larger sample.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ..core.config import get_profile

CHECK_CLIPS = 8  # the small fixed sample the test re-measures
CHECK_STEPS = 20  # DDIM steps for that sample


def add_arguments(parser: argparse.ArgumentParser):
    parser.add_argument("--folder", default=None, help="output folder (default: minilvdm/weights/pretrained)")


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

    videos = model.sample(CHECK_CLIPS, steps=CHECK_STEPS, generator=torch.Generator().manual_seed(0))
    return {
        "mean_pixel": round(videos.mean().item(), 4),
        "recognisability": round(recognisability(videos), 4),
    }


def run(args):
    from ..methods.lvdm import default_lvdm_config, train_lvdm
    from ..pretrained import SHIPPED_DIR, ship
    from ..vae.model import train_vae

    vae_trainer = train_vae("mnist")
    lvdm_trainer, model = train_lvdm(default_lvdm_config("mnist"), vae_trainer=vae_trainer)
    metrics = {
        "profile": get_profile(),
        "check_clips": CHECK_CLIPS,
        "check_ddim_steps": CHECK_STEPS,
        "vae": vae_check(vae_trainer.ema.module),
        "lvdm": lvdm_check(model),
        "vae_steps": vae_trainer.step,
        "lvdm_steps": lvdm_trainer.step,
    }
    folder = Path(args.folder) if args.folder else SHIPPED_DIR
    path = ship(
        {"vae": vae_trainer.ckpt_path, "lvdm": lvdm_trainer.ckpt_path},
        metrics,
        command=f"python -m minilvdm ship --profile {get_profile()}",
        folder=folder,
    )
    print(path.read_text())
    return 0
