"""Shipped quick-profile weights: a classroom can skip training with one switch.

    MINILVDM_WEIGHTS=shipped jupyter lab        # or: python -m minilvdm --weights shipped demo

With the switch on, `checkpoint_path` finds a missing quick-profile checkpoint in
`minilvdm/weights/pretrained/` (same file name = same configs) and copies it into
outputs/checkpoints, where the Trainer reuses it as a finished run. Nothing else
changes: a notebook that trains by default loads instead, and a config that differs from
the shipped one simply trains. The switch and the fetch live in `checkpoint.py`, below
the trainer (re-exported here).

Shipped files are slim: EMA weights only (no optimizer, no raw weights), so the Trainer
can reuse them but not resume them. `python -m minilvdm ship` trains (or reuses) the
quick Moving MNIST pipeline and rewrites the files and MANIFEST.json, which records the
metrics they reach on a small fixed sample; tests/test_pretrained.py checks them again.
"""

from __future__ import annotations

import json
from pathlib import Path

from .core.checkpoint import (  # noqa: F401  (re-exported)
    SHIPPED_DIR,
    WEIGHTS_ENV,
    WEIGHTS_MODES,
    ema_state_dict,
    fetch_shipped,
    load_checkpoint,
    load_into,
    save_checkpoint,
    set_weights_mode,
    sha256,
    weights_mode,
)
from .core.config import config_from_dict, get_device
from .methods.lvdm import LatentVideoDiffusion, LVDMConfig
from .vae.model import load_vae

MANIFEST = "MANIFEST.json"
MAX_TOTAL_MB = 30.0


def slim_state(state: dict, max_history: int = 500) -> dict:
    """A finished Trainer checkpoint reduced to what sampling and reuse need."""
    history = state["history"]
    stride = max(1, len(history) // max_history)
    return {
        "format": state["format"],
        "shipped": True,
        "ema": state["ema"],
        "step": state["step"],
        "configs": state["configs"],
        "history": history[::stride],
        "seconds": state.get("seconds", 0.0),
    }


def ship(checkpoints: dict[str, Path], metrics: dict, command: str, folder: Path = SHIPPED_DIR) -> Path:
    """Write slim copies of `checkpoints` ({role: path}) and MANIFEST.json into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.pt"):  # stale files of an earlier config would never match again
        old.unlink()
    files = {}
    for role, path in checkpoints.items():
        target = folder / Path(path).name
        save_checkpoint(slim_state(load_checkpoint(path)), target)
        files[role] = {"file": target.name, "sha256": sha256(target), "mb": target.stat().st_size / 2**20}
    total = sum(f["mb"] for f in files.values())
    if total > MAX_TOTAL_MB:
        raise ValueError(f"shipped weights total {total:.1f} MB, over the {MAX_TOTAL_MB:.0f} MB budget")
    manifest = {"command": command, "files": files, "total_mb": round(total, 2), "metrics": metrics}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return folder / MANIFEST


def manifest(folder: Path = SHIPPED_DIR) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"no shipped weights: {path} is missing (run `python -m minilvdm ship`)")
    return json.loads(path.read_text())


def load_shipped_pipeline(folder: Path | None = None, device=None):
    """(vae, lvdm): the shipped Moving MNIST VAE and latent video diffusion model, EMA
    weights, in eval mode, without touching outputs/: `lvdm.sample(4)` gives videos."""
    folder = folder or SHIPPED_DIR
    files = manifest(folder)["files"]
    device = device or get_device()
    vae = load_vae(folder / files["vae"]["file"], device)
    state = load_checkpoint(folder / files["lvdm"]["file"])
    lvdm = LatentVideoDiffusion(config_from_dict(LVDMConfig, state["configs"]["model"]), vae)
    lvdm.load_state_dict(ema_state_dict(state))
    return vae, lvdm.to(device).eval()
