"""Profiles, devices, seeding and config dataclasses: the one switch every notebook and
command reads.

    MINILVDM_PROFILE=quick python -m minilvdm demo      # environment variable
    python -m minilvdm demo --profile quick             # the flag overrides it

Profiles:
    ci     seconds per notebook; checks the wiring, results are noise
    quick  minutes on a 2-core CPU; results a person can recognise
    full   one GPU
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import random
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

PROFILES = ("ci", "quick", "full")
PROFILE_ENV = "MINILVDM_PROFILE"
DEFAULT_PROFILE = "quick"

# Repo root (the folder holding minilvdm/; this file is minilvdm/core/config.py): data/, outputs/.
ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def get_profile() -> str:
    """The active profile: $MINILVDM_PROFILE, else 'quick'."""
    name = os.environ.get(PROFILE_ENV, DEFAULT_PROFILE).strip().lower()
    if name not in PROFILES:
        raise ValueError(f"{PROFILE_ENV}={name!r} is not a profile; choose one of {PROFILES}")
    return name


def set_profile(name: str) -> str:
    """Select a profile for this process (and the processes it starts)."""
    name = name.strip().lower()
    if name not in PROFILES:
        raise ValueError(f"profile {name!r} is not one of {PROFILES}")
    os.environ[PROFILE_ENV] = name
    return name


def by_profile(ci: T, quick: T, full: T, profile: str | None = None) -> T:
    """Pick the value for the active profile: `steps = by_profile(ci=5, quick=2000, full=50_000)`."""
    return {"ci": ci, "quick": quick, "full": full}[profile or get_profile()]


def data_dir() -> Path:
    """Where user-supplied data is read from ($MINILVDM_DATA or <repo>/data)."""
    return Path(os.environ.get("MINILVDM_DATA", ROOT / "data"))


def display_path(path: str | Path) -> str:
    """A path as a notebook or message should print it: relative to the repo root when inside
    it, else relative to the current directory when inside that, else, inside an outputs folder
    set elsewhere ($MINILVDM_OUTPUTS), as under outputs/; else unchanged (no machine's folder
    layout in saved outputs)."""
    absolute = Path(path).resolve()  # a relative path is taken from the current directory
    for base in (ROOT, Path.cwd().resolve()):
        if absolute.is_relative_to(base):
            return str(absolute.relative_to(base))
    outputs = Path(os.environ.get("MINILVDM_OUTPUTS", ROOT / "outputs")).resolve()
    if absolute.is_relative_to(outputs):
        return str(Path("outputs") / absolute.relative_to(outputs))
    return str(path)


@contextlib.contextmanager
def environ(name: str, value: str):
    """Set an environment variable (MINILVDM_OUTPUTS, MINILVDM_PROFILE, ...) for a block,
    then restore it, or remove it if it was unset."""
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def output_dir() -> Path:
    """Where everything we write goes ($MINILVDM_OUTPUTS or <repo>/outputs)."""
    path = Path(os.environ.get("MINILVDM_OUTPUTS", ROOT / "outputs"))
    path.mkdir(parents=True, exist_ok=True)
    return path


# ----------------------------------------------------------------------------- seeds
# Seed mixers (primes, so that seed * MIX + step gives distinct seeds across steps and seeds) and
# clip-index offsets that keep data sets apart. Every result depends on them: change none.
# (Also named elsewhere: i2v_experiments.SHIFT_START, eval.metrics.REAL_SEEDS.)
SEED_MIX = 1_000_003  # trainer steps, loader batches, joint image batches, long-video rounds, evaluators
LONG_BATCH_SEED_MIX = 7919  # the long models' example draws
FINETUNE_CLIPS_START = 7_000_000  # decoder fine-tuning: clips the VAE itself was not trained on


# ----------------------------------------------------------------------------- devices


def get_device(prefer: str | None = None) -> torch.device:
    """cuda, then mps, then cpu. `prefer` (or $MINILVDM_DEVICE) forces one."""
    prefer = prefer or os.environ.get("MINILVDM_DEVICE")
    if prefer:
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def autocast(device: torch.device | str):
    """bf16 autocast on CUDA; a no-op context everywhere else (CPU bf16 is slow and lossy)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def maybe_compile(model: torch.nn.Module, enabled: bool = True) -> torch.nn.Module:
    """torch.compile on CUDA only; on CPU (or if compilation is unavailable) return the model."""
    if not enabled or not torch.cuda.is_available():
        return model
    try:
        return torch.compile(model)
    except Exception as err:  # compile is an optimisation: never fail the run for it
        print(f"torch.compile unavailable ({err}); running eagerly")
        return model


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch so CPU runs repeat bit for bit. Returns a torch Generator."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- configs


# Field metadata for options added after checkpoints were named: at their default value they
# are left out of `config_to_dict` (and so of every config hash), so older checkpoint file names,
# shipped weights among them, stay valid. `field(default=..., metadata=OMIT_AT_DEFAULT)`.
OMIT_AT_DEFAULT = {"omit_at_default": True}


def _omit(cfg: Any, values: dict) -> dict:
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value) and isinstance(values.get(f.name), dict):
            values[f.name] = _omit(value, values[f.name])
        elif f.metadata.get("omit_at_default") and value == f.default:
            values.pop(f.name, None)
    return values


def config_to_dict(cfg: Any) -> dict:
    """A dataclass as plain JSON-able values (nested dataclasses become dicts, tuples lists);
    fields marked OMIT_AT_DEFAULT are left out while they hold their default."""
    if not dataclasses.is_dataclass(cfg):
        raise TypeError(f"expected a dataclass config, got {type(cfg).__name__}")
    return _omit(cfg, json.loads(json.dumps(dataclasses.asdict(cfg), default=str)))


def config_from_dict(cls: type[T], values: dict) -> T:
    """Rebuild a (possibly nested) dataclass from `config_to_dict` output."""
    kwargs = {}
    hints = {f.name: f for f in dataclasses.fields(cls)}
    for key, value in values.items():
        if key not in hints:
            raise ValueError(f"{cls.__name__} has no field {key!r}")
        ftype = hints[key].type
        sub = _dataclass_type(ftype)
        if sub is not None and isinstance(value, dict):
            value = config_from_dict(sub, value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    return cls(**kwargs)


def _dataclass_type(ftype):
    if isinstance(ftype, type) and dataclasses.is_dataclass(ftype):
        return ftype
    if isinstance(ftype, str):  # postponed annotations: look the name up in our modules
        import sys

        for mod in list(sys.modules.values()):
            if mod and getattr(mod, "__name__", "").startswith("minilvdm"):
                candidate = getattr(mod, ftype, None)
                if isinstance(candidate, type) and dataclasses.is_dataclass(candidate):
                    return candidate
    return None


def config_hash(*cfgs: Any) -> str:
    """A short stable hash of one or more configs (or strings, e.g. a parent checkpoint's
    file name): names checkpoints and caches."""
    blob = json.dumps([c if isinstance(c, str) else config_to_dict(c) for c in cfgs], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


WEIGHTS_ENV = "MINILVDM_WEIGHTS"  # 'train' or 'shipped' (checked in checkpoint.weights_mode)


def describe(*cfgs: Any) -> str:
    """The text every notebook's first cell prints: profile, weights (trained here or shipped),
    device and configs."""
    weights = os.environ.get(WEIGHTS_ENV, "train").strip().lower()
    lines = [
        f"profile: {get_profile()}   weights: {weights}   device: {get_device()}   torch {torch.__version__}"
    ]
    for cfg in cfgs:
        lines.append(f"{type(cfg).__name__}:")
        for key, value in config_to_dict(cfg).items():
            lines.append(f"    {key} = {value}")
    return "\n".join(lines)
