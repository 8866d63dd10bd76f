"""Shipped quick-profile weights: a classroom can skip training with one switch.

    MINILVDM_WEIGHTS=shipped jupyter lab        # or: python -m minilvdm --weights shipped demo

With the switch on, `checkpoint_path` finds a missing quick-profile checkpoint in
`minilvdm/weights/pretrained/` (same file name = same configs) and copies it into
outputs/checkpoints, where the Trainer reuses it as a finished run. Nothing else
changes: a notebook that trains by default loads instead, and a config that differs from
the shipped one simply trains.

Shipped files are slim: EMA weights only (no optimizer, no raw weights), so the Trainer
can reuse them but not resume them. `python -m minilvdm ship` trains (or reuses) the
quick Moving MNIST pipeline and rewrites the files and MANIFEST.json, which records the
metrics they reach on a small fixed sample; tests/test_pretrained.py checks them again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

WEIGHTS_ENV = "MINILVDM_WEIGHTS"
WEIGHTS_MODES = ("train", "shipped")
SHIPPED_DIR = Path(__file__).resolve().parent / "weights" / "pretrained"
MANIFEST = "MANIFEST.json"
MAX_TOTAL_MB = 30.0


def _checked(mode: str) -> str:
    mode = mode.strip().lower()
    if mode not in WEIGHTS_MODES:
        raise ValueError(f"{WEIGHTS_ENV}={mode!r} is not one of {WEIGHTS_MODES}")
    return mode


def weights_mode() -> str:
    """'train' (default: notebooks train, reusing outputs/) or 'shipped' ($MINILVDM_WEIGHTS)."""
    return _checked(os.environ.get(WEIGHTS_ENV, "train"))


def set_weights_mode(mode: str) -> str:
    os.environ[WEIGHTS_ENV] = _checked(mode)
    return os.environ[WEIGHTS_ENV]


def fetch_shipped(path: Path) -> bool:
    """With the switch on: copy the shipped checkpoint named like `path` there, if one
    exists and `path` does not. Returns whether `path` now holds a shipped copy."""
    source = SHIPPED_DIR / path.name
    if weights_mode() != "shipped" or path.exists() or not source.is_file():
        return False
    shutil.copyfile(source, path)
    print(f"using shipped weights {source.name} (set {WEIGHTS_ENV}=train to train instead)")
    return True


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


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def ship(checkpoints: dict[str, Path], metrics: dict, command: str, folder: Path = SHIPPED_DIR) -> Path:
    """Write slim copies of `checkpoints` ({role: path}) and MANIFEST.json into `folder`."""
    from .train import load_checkpoint, save_checkpoint

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


def load_into(trainer, state: dict) -> None:
    """Trainer.load for a shipped (slim) checkpoint: weights and step, a fresh optimizer."""
    from .train import ema_state_dict

    trainer.ema.load_state_dict(state["ema"])
    trainer.model.load_state_dict(ema_state_dict(state))
    trainer.step, trainer.history = state["step"], [tuple(h) for h in state["history"]]
    trainer.seconds = state.get("seconds", 0.0)


def load_shipped_pipeline(folder: Path | None = None, device=None):
    """(vae, lvdm): the shipped Moving MNIST VAE and latent video diffusion model, EMA
    weights, in eval mode, without touching outputs/: `lvdm.sample(4)` gives videos."""
    from .config import config_from_dict, get_device
    from .lvdm import LatentVideoDiffusion, LVDMConfig
    from .train import ema_state_dict, load_checkpoint
    from .vae import load_vae

    folder = folder or SHIPPED_DIR
    files = manifest(folder)["files"]
    device = device or get_device()
    vae = load_vae(folder / files["vae"]["file"], device)
    state = load_checkpoint(folder / files["lvdm"]["file"])
    lvdm = LatentVideoDiffusion(config_from_dict(LVDMConfig, state["configs"]["model"]), vae)
    lvdm.load_state_dict(ema_state_dict(state))
    return vae, lvdm.to(device).eval()
