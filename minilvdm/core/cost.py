"""Measured cost: of one training step (wall time and memory), and peak memory of a process.

    row = step_cost(model, x, repeats=3)      # {'ms': ..., 'saved_mb': ..., 'peak_mb': ...}

- ms        median wall time of forward + backward + optimizer step
- saved_mb  bytes of the tensors autograd saves for backward (activation memory), counted
            by a saved-tensor hook as they are saved; each storage counted once
- peak_mb   torch.cuda.max_memory_allocated on CUDA; None on CPU, where PyTorch has no
            allocator statistics (saved_mb is the measured figure there)

    peak_rss_mb()                  this process's peak resident memory so far
    measured_once(key, measure)    a timing taken once per machine and kept in outputs/
    run_measured(cmd, env)         a command in a child process: its seconds and peak memory
    throughput(make_clip, count)   items per second of a data loader's `make_clip(i)`
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch
from torch import nn

from .config import autocast, get_device, get_profile, output_dir


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# A fresh interpreter runs the command and reports the peak RSS of its children: the largest
# process among the command and everything it waited for (e.g. nbconvert's kernel).
_WRAPPER = (
    "import json, resource, subprocess, sys; rc = subprocess.run(sys.argv[1:]).returncode; "
    "print(json.dumps({'rc': rc, 'kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))"
)


def throughput(make_clip, count: int) -> float:
    """Clips per second of `make_clip(i)` over `count` clips (after one warm-up clip)."""
    make_clip(0)
    start = time.perf_counter()
    for i in range(count):
        make_clip(i)
    return count / (time.perf_counter() - start)


def run_measured(cmd: list[str], env: dict | None = None, cwd=None) -> dict:
    """Run `cmd`; {'returncode', 'seconds', 'peak_mb', 'output'} (stdout and stderr together)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *cmd],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = proc.stdout.rstrip().splitlines()
    measured = bool(lines) and lines[-1].startswith('{"rc"')  # the wrapper's report, last
    result = json.loads(lines.pop()) if measured else {"rc": proc.returncode, "kb": 0}
    return {
        "returncode": result["rc"],
        "seconds": time.perf_counter() - start,
        "peak_mb": result["kb"] / 1024,
        "output": "\n".join(lines),
    }


COSTS_FILE = "measured_costs.json"


def shipped_costs(key: str) -> dict | None:
    """With MINILVDM_WEIGHTS=shipped: the timings of `key` in this profile that named the
    shipped models (minilvdm/weights/pretrained/measured_costs.json, any device and thread
    count), so a new machine finds the shipped pixel baseline instead of re-timing and
    training one of another step count. None when the switch is off or nothing is shipped."""
    from .checkpoint import SHIPPED_DIR, weights_mode

    path = SHIPPED_DIR / COSTS_FILE
    if weights_mode() != "shipped" or not path.is_file():
        return None
    table = json.loads(path.read_text())
    found = [v for k, v in sorted(table.items()) if k.startswith(f"{key}|{get_profile()}|")]
    return found[0] if found else None


def measured_once(key: str, measure) -> dict:
    """measure() -> {name: seconds}, run once per key, profile and device, then read back from
    outputs/measured_costs.json. An equal-compute comparison derives a step count from timings;
    a fresh timing differs a little each run, so a rerun would train (and name) a new
    checkpoint. The thread count is recorded with a timing but does not call for a new one: a
    run at 2 threads reuses the 1-thread timing (the first by name when several were kept), so
    it trains the same steps. Delete the file to measure again. With the shipped-weights switch
    on, a timing not yet made here is the shipped one (`shipped_costs`)."""
    path = output_dir() / COSTS_FILE
    prefix = f"{key}|{get_profile()}|{get_device()}|"

    def read() -> tuple[dict, dict | None]:  # (the table, its timing of this key or None)
        table = json.loads(path.read_text()) if path.exists() else {}
        known = sorted(k for k in table if k.startswith(prefix))
        return table, table[known[0]] if known else None

    table, kept = read()
    if kept is not None:
        return kept
    shipped = shipped_costs(key)
    if shipped is not None:
        print(f"using the shipped timings of {key} (set MINILVDM_WEIGHTS=train to time them here)")
    timing = shipped or {name: float(value) for name, value in measure().items()}
    # read again: another process may have kept a timing while this one measured (two
    # equal-compute trainings in parallel lost one of their timings so); one of this key
    # wins over ours, as that process may already have derived a step count from it
    table, kept = read()
    if kept is not None:
        return kept
    table[f"{prefix}threads={torch.get_num_threads()}"] = timing
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(table, indent=1, sort_keys=True))
    tmp.replace(path)  # atomic: an interrupted write leaves the old table
    return timing


def saved_tensor_bytes(fn) -> tuple[object, int]:
    """Run fn() and return (its result, bytes of tensors saved for backward during it)."""
    seen: dict[int, int] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, sum(seen.values())


def step_cost(model: nn.Module, x: torch.Tensor, repeats: int = 3, warmup: int = 1, **kwargs) -> dict:
    """Time and memory of a denoiser training step on input x (any loss: here mean(out^2))."""
    device = x.device
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-6)
    t = torch.randint(0, 1000, (x.shape[0],), device=device)
    times, saved = [], 0
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    for i in range(warmup + repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        with autocast(device):
            out, saved = saved_tensor_bytes(lambda: model(x, t, **kwargs))
            loss = out.float().pow(2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    return {"ms": 1000 * statistics.median(times), "saved_mb": saved / 2**20, "peak_mb": peak}


def loss_step_seconds(loss_fn, params, repeats: int = 3, warmup: int = 1) -> float:
    """Median wall seconds of one training step of any model: loss_fn() -> scalar, backward,
    AdamW on `params`. Measure two models back to back to compare them under the same load."""
    params = [p for p in params if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-6)
    times = []
    for i in range(warmup + repeats):
        start = time.perf_counter()
        loss = loss_fn()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


# ----------------------------------------------------------------------------- factorized vs joint
ATTENTION_COST_SIZE = 16  # latent side: a 128x128 clip through an x8 autoencoder


def attention_cost_config(joint: bool):
    """The small UNet of the comparison: attention at the two finest levels (16x16 and 8x8
    tokens per frame), where its cost matters; both variants keep the temporal convs."""
    from ..diffusion.unet import UNetConfig

    return UNetConfig(
        in_channels=4,
        model_channels=32,
        channel_mult=(1, 2),
        attention_resolutions=(1, 2),
        joint_attention=joint,
        temporal_attention="none" if joint else "rope",
    )


def measure_attention_cost(
    frames_list, repeats: int = 3, batch: int = 1, math_kernel: bool = True, size: int = ATTENTION_COST_SIZE
) -> list[dict]:
    """One row per (T, 'factorized' | 'joint'): params, ms per step, saved MB (and with the
    textbook 'math' SDPA kernel, which stores softmax(QK^T)), and the attention logits per
    head at the finest level: T (HW)^2 + HW T^2 (factorized) or (T HW)^2 (joint)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    from ..diffusion.unet import SpaceTimeUNet, count_parameters
    from .config import get_device, seed_everything

    device, rows = get_device(), []
    for frames in frames_list:
        for joint in (False, True):
            seed_everything(0)
            model = SpaceTimeUNet(attention_cost_config(joint)).to(device)
            x = torch.randn(batch, 4, frames, size, size, device=device)
            row = step_cost(model, x, repeats=repeats)
            if math_kernel:
                with sdpa_kernel(SDPBackend.MATH):
                    row["math_saved_mb"] = step_cost(model, x, repeats=1, warmup=0)["saved_mb"]
            hw = size * size
            logits = (frames * hw) ** 2 if joint else frames * hw**2 + hw * frames**2
            kind = "joint" if joint else "factorized"
            rows.append(
                {
                    "frames": frames,
                    "kind": kind,
                    "params": count_parameters(model)["total"],
                    "logits": logits,
                    **row,
                }
            )
    return rows
