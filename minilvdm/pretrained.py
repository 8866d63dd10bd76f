"""Shipped weights: a classroom can skip training with one switch.

    MINILVDM_WEIGHTS=shipped jupyter lab        # or: python -m minilvdm --weights shipped demo

With the switch on, `checkpoint_path` finds a missing checkpoint in `minilvdm/weights/pretrained/`
(same file name = same profile and configs) and copies it into outputs/checkpoints, where the
Trainer reuses it as a finished run. Nothing else changes: a notebook that trains by default
loads instead, and a config that differs from the shipped one simply trains. The switch and
the fetch live in `checkpoint.py`, below the trainer (re-exported here).

Shipped files are slim: EMA weights only, in float16 (no optimizer, no raw weights), so the
Trainer can reuse them but not resume them; with `--int8` the weight matrices are int8 with
per-channel scales instead (about half the size; the layout is in core/checkpoint.py). Every
loader gives float32 models back. `ship` merges files into the folder (`python -m minilvdm ship
[--requested] [--add FILE...] [--int8]`, see commands/ship.py) and keeps MANIFEST.json, one
entry per file: role, sha256, storage ('float16' or 'int8'; absent in older entries), steps,
training seconds, the command that rebuilds it and its metrics (a weight fingerprint for every
file, quality checks for the VAE and the short-clip LVDM); tests/test_pretrained.py checks them
again.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import torch

from .core.checkpoint import (  # noqa: F401  (re-exported)
    INT8_SCALES,
    SHIPPED_DIR,
    WEIGHTS_ENV,
    WEIGHTS_MODES,
    checkpoint_identity,
    ema_state_dict,
    fetch_shipped,
    float_ema,
    load_checkpoint,
    load_into,
    quantize,
    read_requested,
    requested_path,
    save_checkpoint,
    set_weights_mode,
    sha256,
    weights_mode,
)
from .core.config import PROFILES, config_from_dict, get_device, get_profile, output_dir
from .methods.lvdm import LatentVideoDiffusion, LVDMConfig
from .vae.model import load_vae

MANIFEST = "MANIFEST.json"
MAX_TOTAL_MB = 40.0
VAE_ROLE, LVDM_ROLE = "vae", "lvdm-latent-mnist"  # the pipeline `load_shipped_pipeline` returns
_NAME = re.compile(rf"^(?P<role>.+)-(?P<profile>{'|'.join(PROFILES)})-(?P<hash>[0-9a-f]{{10}})\.pt$")


def split_name(name: str) -> tuple[str, str]:
    """'lvdm-latent-mnist-quick-052e94b0a0.pt' -> ('lvdm-latent-mnist', 'quick'): the name
    `checkpoint_path` was given (the role) and the profile."""
    match = _NAME.match(Path(name).name)
    if not match:
        raise ValueError(f"{name!r} is not named <name>-<profile>-<config hash>.pt")
    return match["role"], match["profile"]


def dataset_of(state: dict) -> str | None:
    """The data set a checkpoint was trained on (data config, else model config): two files of
    one role on different data (the Moving MNIST and sky VAEs are both 'vae') are not rivals."""
    configs = state.get("configs", {})
    return configs.get("data", {}).get("dataset") or configs.get("model", {}).get("dataset")


def is_finished(state: dict) -> bool:
    """Trained to its own train config's steps (a run stopped at `until` is not)."""
    return state["step"] >= state["configs"]["train"]["steps"]


def _progress(state: dict) -> str:
    return f"step {state['step']} of {state['configs']['train']['steps']}"


# Smaller matrices stay float16 under `int8`: they save a few hundred bytes, and they include
# the few-channel input and output convolutions, whose rounding reaches the pixels directly (the
# quick Moving MNIST VAE's 576-value output conv alone took its SSIM from 0.927 to 0.889).
INT8_MIN_VALUES = 1024


def slim_state(state: dict, max_history: int = 500, int8: bool = False) -> dict:
    """A finished Trainer checkpoint reduced to what sampling and reuse need: the EMA weights
    with their float tensors in float16 (scalars such as the VAE's scale factor, integer and
    bool buffers and the EMA's n_averaged stay as they are). `int8`: the weight matrices
    (ndim >= 2) of at least INT8_MIN_VALUES values in int8 with per-channel scales instead. A
    shipped file slims again: its EMA is read back to float32 first, so it can be re-stored
    either way."""
    history = state["history"]
    stride = max(1, len(history) // max_history)
    ema, scales = {}, {}
    for k, v in float_ema(state).items():
        if int8 and v.is_floating_point() and v.ndim >= 2 and v.numel() >= INT8_MIN_VALUES:
            ema[k], scales[k] = quantize(v)
        else:
            ema[k] = v.half() if v.is_floating_point() and v.numel() > 1 else v
    return {
        "format": state["format"],
        "shipped": True,
        "ema": ema,
        **({INT8_SCALES: scales} if scales else {}),
        "step": state["step"],
        "configs": state["configs"],
        "history": history[::stride],
        "seconds": state.get("seconds", 0.0),
    }


def ema_first_step_share(state: dict) -> float:
    """How much of the run's first-step (nearly random) weights its EMA still holds: the product
    of the decays of the EMA's later updates (`train.ema_decay_at`). A shipped file holds the
    EMA only, while short runs sample their raw weights (`train.sampling_weights`), so a share
    that is not small makes the shipped copy sample unlike the trained model."""
    from .core.train import TrainConfig
    from .core.train import ema_first_step_share as share_after

    fields = TrainConfig.__dataclass_fields__
    cfg = TrainConfig(**{k: v for k, v in state.get("configs", {}).get("train", {}).items() if k in fields})
    averaged = state["ema"].get("n_averaged")
    return share_after(cfg, int(averaged) if averaged is not None else state["step"])


def fingerprint(state: dict) -> float:
    """Sum of |w| over the EMA's float tensors (in float64, sorted by name) as stored, i.e.
    after the fp16 or int8 rounding: any change to the stored weights changes it. Re-check a
    file with `fingerprint(load_checkpoint(path))`."""
    total = sum(
        v.double().abs().sum().item()
        for k, v in sorted(float_ema(state).items())
        if k.startswith("module.") and v.is_floating_point()
    )
    return round(total, 4)


def storage(path: Path) -> str:
    """'int8' or 'float16': how a shipped file stores its weight matrices."""
    return "int8" if INT8_SCALES in torch.load(path, map_location="cpu", weights_only=True) else "float16"


def _entry(path: Path, command: str | None, metrics: dict | None = None, source: str | None = None) -> dict:
    state = load_checkpoint(path)  # dequantized: the scales are gone, so `storage` reads the file
    try:
        role, profile = split_name(path.name)
    except ValueError:  # a file the switch cannot find (not a checkpoint_path name): kept, listed
        role, profile = None, None
    return {
        "role": role,
        "profile": profile,
        "dataset": dataset_of(state),
        "file": path.name,
        "sha256": sha256(path),
        "source_sha256": source,  # the trained checkpoint's bytes: `checkpoint_identity`
        "storage": storage(path),
        "bytes": path.stat().st_size,
        "mb": round(path.stat().st_size / 2**20, 3),
        "steps": state["step"],
        "seconds": round(state.get("seconds", 0.0), 1),
        "command": command,
        "metrics": {**(metrics or {}), "fingerprint": fingerprint(state)},
    }


def deflated(data: bytes) -> bytes:
    """A torch.save archive rewritten with every record deflated (zlib level 9): torch.load
    reads it as it is, and the weights' low-entropy bytes shrink by about 5-10%."""
    out = io.BytesIO()
    deflate = dict(compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", **deflate) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
    return out.getvalue()


def _write_atomic(data: bytes, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def ship(
    checkpoints: Iterable[str | Path],
    command: str,
    folder: Path = SHIPPED_DIR,
    replace: bool = False,
    checks: Callable[[Path, dict], dict] | None = None,
    int8: bool = False,
    remove: Iterable[str] = (),
) -> Path:
    """Merge slim copies of finished `checkpoints` into `folder` and rewrite MANIFEST.json.

    A file of the same name is rewritten; a shipped file of the same role, profile and data
    set under another config hash (an older config) is removed, unless requested.json shows a
    run still asks for it (the KL sweep's VAEs share a role); every other file stays, with its
    entry. `replace`: remove every other shipped file first. The size limit counts the whole
    folder after merging and is checked before anything is written (ValueError).
    `checks(folder, entry)`: extra metrics per file, measured on the shipped copies.
    `int8`: store the new files' weight matrices in int8 (`slim_state`); a shipped file given
    as a checkpoint is re-stored so, keeping its source's identity and its rebuild command.
    `remove`: names of shipped files to drop (what no notebook loads any more; ValueError for a
    name that is not shipped). Every file is written `deflated`."""
    sources = [Path(p) for p in checkpoints]
    slim = {}
    for path in sources:
        split_name(path.name)  # a name the switch can find again
        state = load_checkpoint(path)
        if not is_finished(state):
            raise ValueError(f"{path.name} is unfinished: {_progress(state)}")
        if (share := ema_first_step_share(state)) > 0.01:
            print(
                f"warning: {path.name}'s EMA still holds {share:.0%} of its first step's weights; "
                "where the package samples raw weights, its shipped copy will sample differently "
                "(train longer, or with ema_warmup)"
            )
        buffer = io.BytesIO()
        torch.save(slim_state(state, int8=int8), buffer)
        slim[path.name] = (deflated(buffer.getvalue()), dataset_of(state), checkpoint_identity(path))
    old = _read_manifest(folder)
    remove = set(remove)
    shipped = {p.name for p in folder.glob("*.pt")} if folder.is_dir() else set()
    if missing := sorted(remove - shipped):
        raise ValueError(f"cannot remove {', '.join(missing)}: not shipped in {folder}")
    restored = {p.name for p in sources if p.resolve().parent == folder.resolve() and p.name in old}
    requested = read_requested()
    new_slots = {(*split_name(name), dataset) for name, (_, dataset, _) in slim.items()}
    files, drop = {}, []
    for path in sorted(folder.glob("*.pt")) if folder.is_dir() else []:
        if path.name in slim:
            continue
        before = old.get(path.name, {})
        entry = _entry(path, before.get("command"), before.get("metrics"), before.get("source_sha256"))
        slot = (entry["role"], entry["profile"], entry["dataset"])
        stale = slot in new_slots and path.name not in requested
        if replace or stale or path.name in remove:
            drop.append(path)
        else:
            files[path.name] = entry
    total_mb = (sum(len(d) for d, _, _ in slim.values()) + sum(e["bytes"] for e in files.values())) / 2**20
    if total_mb > MAX_TOTAL_MB:
        raise ValueError(
            f"shipped weights would total {total_mb:.1f} MB ({len(slim)} new, {len(files)} kept), "
            f"over the {MAX_TOTAL_MB:.0f} MB budget"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for path in drop:
        print(f"removing shipped {path.name}")
        path.unlink()
    for name, (data, _, source) in slim.items():
        _write_atomic(data, folder / name)
        recorded = old[name].get("command") if name in restored else None  # a re-store keeps it
        files[name] = _entry(folder / name, recorded or command, source=source)
    _write_manifest(folder, files)  # the files on disk are listed even if a check fails below
    ship_costs(folder, {e["profile"] for e in files.values() if e["profile"]})
    if checks is not None:
        for entry in files.values():
            entry["metrics"].update(checks(folder, entry))
        _write_manifest(folder, files)
    return folder / MANIFEST


def ship_costs(folder: Path, profiles: set[str]) -> None:
    """Copy this machine's step timings of `profiles` (outputs/measured_costs.json) next to
    the weights: an equal-compute model's step count, hence its name, derives from them
    (`cost.shipped_costs`). The recipe study's timings stay out: nothing ships from it."""
    from .core.cost import COSTS_FILE

    source, target = output_dir() / COSTS_FILE, folder / COSTS_FILE
    mine = json.loads(source.read_text()) if source.is_file() else {}
    table = json.loads(target.read_text()) if target.is_file() else {}
    table.update(
        {
            k: v
            for k, v in mine.items()
            if (k.split("|") + [""])[1] in profiles and not k.startswith("recipe-")  # key|profile|...
        }
    )
    if table:
        _write_atomic(json.dumps(table, indent=1, sort_keys=True).encode(), target)


def _write_manifest(folder: Path, files: dict) -> None:
    manifest = {
        "max_total_mb": MAX_TOTAL_MB,
        "total_mb": round(sum(e["bytes"] for e in files.values()) / 2**20, 2),
        "files": dict(sorted(files.items())),
    }
    _write_atomic((json.dumps(manifest, indent=2) + "\n").encode(), folder / MANIFEST)


def _read_manifest(folder: Path) -> dict:
    """{file name: entry} of the manifest in `folder`; {} when there is none."""
    try:
        return {e["file"]: e for e in manifest(folder)["files"].values() if "file" in e}
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return {}


def requested_checkpoints(profile: str | None = None) -> tuple[list[Path], list[str]]:
    """(finished checkpoints, lines about the others) among the files requested.json lists for
    `profile` (default: the active one) that exist in outputs/checkpoints."""
    profile = profile or get_profile()
    folder = output_dir() / "checkpoints"
    finished, skipped = [], []
    for name, record in sorted(read_requested().items()):
        path = folder / name
        try:
            named = split_name(name)[1]
        except ValueError:
            named = record.get("profile")
        if named != profile or not path.is_file():
            continue
        try:
            state = load_checkpoint(path)
        except Exception as err:
            skipped.append(f"skipping {name}: {err}")
            continue
        if is_finished(state):
            finished.append(path)
        else:
            skipped.append(f"skipping {name}: unfinished, {_progress(state)}")
    return finished, skipped


def manifest(folder: Path = SHIPPED_DIR) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"no shipped weights: {path} is missing (run `python -m minilvdm ship`)")
    return json.loads(path.read_text())


def shipped_entry(
    role: str, profile: str = "quick", dataset: str | None = None, folder: Path | None = None
) -> dict:
    """The MANIFEST entry of the shipped file with this role and profile (and data set)."""
    files = manifest(folder or SHIPPED_DIR)["files"].values()
    found = [
        e
        for e in files
        if e.get("role") == role and e.get("profile") == profile and dataset in (None, e.get("dataset"))
    ]
    if len(found) != 1:
        raise LookupError(
            f"{len(found)} shipped files of role {role!r}, profile {profile!r}, data {dataset!r}"
        )
    return found[0]


def load_shipped_pipeline(folder: Path | None = None, device=None, profile: str = "quick"):
    """(vae, lvdm): the shipped Moving MNIST VAE and latent video diffusion model, EMA
    weights in float32, in eval mode, without touching outputs/: `lvdm.sample(4)` gives videos."""
    folder = folder or SHIPPED_DIR
    device = device or get_device()
    vae = load_vae(folder / shipped_entry(VAE_ROLE, profile, "mnist", folder)["file"], device)
    return vae, load_lvdm(folder / shipped_entry(LVDM_ROLE, profile, folder=folder)["file"], vae, device)


def load_lvdm(path: Path, vae, device=None) -> LatentVideoDiffusion:
    """The EMA LVDM of a checkpoint (float32, eval mode) over `vae`, the VAE it was trained with."""
    state = load_checkpoint(path)
    lvdm = LatentVideoDiffusion(config_from_dict(LVDMConfig, state["configs"]["model"]), vae)
    lvdm.load_state_dict(ema_state_dict(state))
    return lvdm.to(device or get_device()).eval()
