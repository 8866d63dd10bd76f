"""Checkpoint files: where they live, how they are written and read, and the shipped-weights switch.

    path = checkpoint_path("vae-mnist", cfg, train_cfg)   # outputs/checkpoints/<name>-<profile>-<hash>.pt
    save_checkpoint(state, path)                          # atomic
    state = load_checkpoint(path, expect_configs={"model": ...})

Files are written atomically (temporary file, then rename) and read with `weights_only=True`,
so loading runs no code. With MINILVDM_WEIGHTS=shipped, `checkpoint_path` first copies a
missing file from the shipped weights (`minilvdm/weights/pretrained/`, see `pretrained.py`)
when they hold one of that name. Every name `checkpoint_path` hands out is also noted in
outputs/checkpoints/requested.json ({file: {"profile", "last"}}), so `python -m minilvdm ship
--requested` can ship every model the notebooks asked for. Shipped files store the EMA in
float16, or (`ship --int8`) its larger weight matrices (floating, ndim >= 2) as int8 with one
float32 scale per output channel (dim 0): `w = q * scale`, q in [-127, 127], scale = the channel's
max |w| / 127 (1 for an all-zero channel), the scales under `state["ema_int8_scales"]`;
`load_checkpoint` (and `ema_state_dict`, `load_into`) give float32 back. This module
sits below the trainer and every model, so each of them can name, save and load files without
importing the layers above.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import tempfile
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from .config import WEIGHTS_ENV, config_hash, get_profile, output_dir

CHECKPOINT_FORMAT = 1
WEIGHTS_MODES = ("train", "shipped")
SHIPPED_DIR = Path(__file__).resolve().parents[1] / "weights" / "pretrained"  # minilvdm/weights/pretrained
REQUESTED = "requested.json"  # in outputs/checkpoints: every name checkpoint_path handed out
INT8_SCALES = "ema_int8_scales"  # {EMA key: (out,) float32 scales} of an int8 shipped file


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: corrupt, unsafe, or made with another config."""


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


def checkpoint_path(name: str, *configs: Any) -> Path:
    """outputs/checkpoints/<name>-<profile>-<config hash>.pt: same config, same file, so a
    later notebook reuses what an earlier one trained. With MINILVDM_WEIGHTS=shipped a
    missing file is first copied from the shipped weights, if they hold one of that name."""
    folder = output_dir() / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{get_profile()}-{config_hash(*configs)}.pt"
    record_request(path)
    fetch_shipped(path)
    return path


def requested_path() -> Path:
    return output_dir() / "checkpoints" / REQUESTED


def read_requested(path: Path | None = None) -> dict:
    """{file name: {"profile": ..., "last": iso time}} from requested.json; {} when the file
    is missing or corrupt (the next record replaces it)."""
    path = path or requested_path()
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(entries, dict):
        return {}
    return {k: v for k, v in entries.items() if isinstance(v, dict)}


def record_request(path: Path) -> None:
    """Note in requested.json (next to `path`) that a run asked for this checkpoint. One small
    JSON rewrite, atomic (temporary file, then rename) and under a lock where the platform has
    one; a failure only warns: recording never stops training."""
    record = path.parent / REQUESTED
    try:
        with _locked(record):
            entries = read_requested(record)
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            entries[path.name] = {"profile": get_profile(), "last": now}
            fd, tmp = tempfile.mkstemp(prefix=f".{REQUESTED}.", dir=record.parent)
            try:
                with os.fdopen(fd, "w") as f:
                    json.dump(entries, f, indent=1, sort_keys=True)
                    f.write("\n")
                os.replace(tmp, record)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
    except Exception as err:
        warnings.warn(f"could not record {path.name} in {record}: {err}", stacklevel=3)


class _locked:
    """An exclusive lock on `<record>.lock` (fcntl; a no-op where there is none), so two
    processes recording at once do not drop each other's names."""

    def __init__(self, record: Path):
        self.path = record.with_name(f".{record.name}.lock")

    def __enter__(self):
        self.file = open(self.path, "a")
        try:
            import fcntl

            fcntl.flock(self.file, fcntl.LOCK_EX)
        except ImportError:
            pass
        return self

    def __exit__(self, *exc):
        self.file.close()  # closing releases the lock


def save_checkpoint(state: dict, path: str | Path) -> None:
    """Atomic: a kill during the write leaves the previous file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_checkpoint(path: str | Path, expect_configs: dict | None = None) -> dict:
    """Load safely (no code runs) and check the configs match, with clear errors."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"{path} holds pickled Python objects, which could run code; refusing to load it "
            f"(weights_only=True). Detail: {str(err).splitlines()[0]}"
        ) from err
    except Exception as err:
        raise CheckpointError(f"{path} is corrupt or truncated ({type(err).__name__}: {err})") from err
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a minilvdm checkpoint (format {CHECKPOINT_FORMAT})")
    if isinstance(state.get("ema"), dict):
        state["ema"] = float_ema(state)
        state.pop(INT8_SCALES, None)
    for key, expected in (expect_configs or {}).items():
        found = state.get("configs", {}).get(key)
        if found != expected:
            diff = config_diff(found or {}, expected)
            raise CheckpointError(f"{path} was made with another {key} config: {diff}")
    return state


def config_diff(found: dict, expected: dict) -> str:
    """'key: checkpoint x != now y; ...' for the keys whose values differ."""
    keys = sorted(set(found) | set(expected))
    parts = [
        f"{k}: checkpoint {found.get(k)!r} != now {expected.get(k)!r}"
        for k in keys
        if found.get(k) != expected.get(k)
    ]
    return "; ".join(parts)


def checkpoint_identity(path: str | Path) -> str:
    """The SHA-256 that names what was trained from `path` (a fine-tuned decoder, an image LDM
    on its latents): the file's own bytes, or, for a shipped float16 copy, the bytes of the
    trained checkpoint it was made from (MANIFEST.json `source_sha256`). So a model trained on
    top of a shipped VAE gets the name it got on top of the original, and is found shipped."""
    digest = sha256(path)
    try:
        files = json.loads((SHIPPED_DIR / "MANIFEST.json").read_text())["files"].values()
    except (OSError, ValueError, KeyError, AttributeError):
        return digest
    for entry in files:
        if entry.get("sha256") == digest and entry.get("source_sha256"):
            return entry["source_sha256"]
    return digest


def sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks (checkpoints can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def upcast(tensors: dict) -> dict:
    """The float16 tensors of a state dict (how shipped files store the EMA) as float32; the
    rest as they are. load_state_dict would convert on copy too, but code that reads tensors
    from a state directly should see the dtype the models train in."""
    return {
        k: v.float() if torch.is_tensor(v) and v.dtype == torch.float16 else v for k, v in tensors.items()
    }


def quantize(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(int8 q, float32 scale per output channel) with `dequantize`'s `q * scale` ~ `weight`
    (within scale / 2): symmetric, so a zero stays exactly zero."""
    weight = weight.float()
    scale = weight.abs().flatten(1).amax(1) / 127
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))  # an all-zero channel: no 0 / 0
    q = torch.round(weight / _per_channel(scale, weight.ndim)).clamp(-127, 127).to(torch.int8)
    return q, scale


def _per_channel(scale: torch.Tensor, ndim: int) -> torch.Tensor:
    return scale.view(-1, *[1] * (ndim - 1))


def dequantize(tensors: dict, scales: dict) -> dict:
    """The int8 tensors of a state dict that have `scales` (how `ship --int8` stores weight
    matrices) as float32, `q * scale` per output channel; the rest as they are."""
    return {k: v.float() * _per_channel(scales[k], v.ndim) if k in scales else v for k, v in tensors.items()}


def float_ema(state: dict) -> dict:
    """A checkpoint's EMA in float32 however it is stored (float32, float16 or int8), loaded
    by `load_checkpoint` or not."""
    return upcast(dequantize(state["ema"], state.get(INT8_SCALES, {})))


def ema_state_dict(state: dict) -> dict:
    """The EMA model's own state dict from a Trainer (or shipped) checkpoint: AveragedModel's
    'module.' prefix dropped, its step counter left out, float16 or int8 storage as float32."""
    ema = float_ema(state)
    return {k.removeprefix("module."): v for k, v in ema.items() if k.startswith("module.")}


def load_into(trainer, state: dict) -> None:
    """Trainer.load for a shipped (slim) checkpoint: weights and step, a fresh optimizer."""
    trainer.ema.load_state_dict(float_ema(state))
    trainer.model.load_state_dict(ema_state_dict(state))
    trainer.step, trainer.history = state["step"], [tuple(h) for h in state["history"]]
    trainer.seconds = state.get("seconds", 0.0)
