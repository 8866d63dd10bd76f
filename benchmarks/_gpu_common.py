"""Pieces of benchmarks/gpu.py: the time guard, numeric comparison, and the markdown body of
the `gpu` section from gpu.json (kept apart so the check itself stays short)."""

from __future__ import annotations

import time

import torch

from minilvdm.core.config import environ


class Guard:
    """The check's time guard: a stage runs only if its expected cost (seconds) still fits."""

    def __init__(self, seconds: float, dry: bool, cost: dict):
        self.end, self.dry, self.skipped, self.cost = time.perf_counter() + seconds, dry, [], cost

    def left(self) -> float:
        return self.end - time.perf_counter()

    def allows(self, what: str, cost: str | float, reserve: float = 0.0) -> bool:
        need = (1.0 if self.dry else (self.cost[cost] if isinstance(cost, str) else cost)) + reserve
        if self.left() >= need:
            return True
        self.skipped.append(f"{what}: needs ~{need:.0f} s, {max(0.0, self.left()):.0f} s left")
        return False


def profile(name: str):
    return environ("MINILVDM_PROFILE", name)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def compare(ref: torch.Tensor, out: torch.Tensor, tol: float) -> dict:
    ref, out = ref.float(), out.float()
    err = (out - ref).norm().item() / max(ref.norm().item(), 1e-12)
    return {"max_abs": (out - ref).abs().max().item(), "rel_l2": err, "tol": tol, "ok": err <= tol}


def nonzero(model: torch.nn.Module) -> torch.nn.Module:
    """Zero-initialised layers (output, temporal) would make a fresh network's output 0 and the
    comparison vacuous: give them small random weights."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            if not p.any():
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)
    return model


def _ci(v) -> str:
    return f"{v[0]:.1f} [{v[1]:.1f}, {v[2]:.1f}]"


def body(r: dict) -> str:
    d = r["device"]
    lines = [
        f"{'**Dry run** (ci sizes; the figures mean nothing). ' if r['dry_run'] else ''}"
        f"Device {d.get('name', d['device'])}, torch {d['torch']}, CUDA {d['cuda']}; "
        f"{r.get('seconds', 0) / 60:.1f} of {r['budget_s'] / 60:.0f} min used.",
        "",
    ]
    if r.get("numerics"):
        lines += [
            "### Numerics against fp32 eager (relative L2 error; max abs)",
            "",
            "| model | inputs | bf16 autocast | torch.compile (fp32) |",
            "| --- | --- | --- | --- |",
        ]
        for name, e in r["numerics"].items():
            b, c = e["bf16"], e.get("compile", {"status": "skipped by the time guard"})
            bf = f"{b['rel_l2']:.2e}; {b['max_abs']:.2e} ({'ok' if b['ok'] else 'OVER'} <= {b['tol']:g})"
            if "rel_l2" in c:
                cs = (
                    f"{c['rel_l2']:.2e}; {c['max_abs']:.2e} ({'ok' if c['ok'] else 'OVER'} <= {c['tol']:g}), "
                )
                cs += f"{c['seconds']} s to compile and run"
            else:
                cs = c["status"] + (f": {c['error']}" if "error" in c else "")
            lines.append(
                f"| {name} | {e['inputs']} | {bf if e['bf16_autocast'] else 'n/a (CPU: no autocast)'} "
                f"| {cs} |"
            )
        lines.append("")
    if r.get("throughput"):
        lines += [
            "### Training steps (Trainer.train_step: bf16 autocast, AdamW, EMA)",
            "",
            "| model | mode | batch | params | first step s | steps/s | clips/s | peak MB |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for mode, rows in r["throughput"].items():
            for name, e in (rows or {}).items():
                if "steps_per_s" not in e:
                    lines.append(f"| {name} | {mode} | | | | {e['status']} | | |")
                    continue
                tag = mode if e["status"] == "ok" else f"{mode} ({e['status']})"
                lines.append(
                    f"| {name} | {tag} | {'x'.join(map(str, e['batch']))} | {e['params_m']} M "
                    f"| {e['first_step_s']} | {e['steps_per_s']} | {e['clips_per_s']} "
                    f"| {e.get('peak_mb', 'n/a')} |"
                )
        lines.append("")
    if r.get("train"):
        t = r["train"]
        lines += [
            "### What GPU minutes buy (short-clip LVDM, Moving MNIST)",
            "",
            f"Full-profile UNet ({t['params_m']} M params) on {t['clips']} clips encoded by the shipped "
            f"quick VAE in {t['encode_s']} s; {t['note']}. {t['steps']} steps of {t['planned_steps']} "
            f"planned in {t['train_s'] / 60:.1f} min, {'compiled' if t['compiled'] else 'eager'}; recipe "
            f"{t['recipe']}; loss (mean of the first / last 20 steps) {t['loss_first_last'][0]} -> "
            f"{t['loss_first_last'][1]}.",
            "",
        ]
    if r.get("samples"):
        s = r["samples"]
        lines += [
            "| model | train min | FVD [95% CI] | FVD / floor | recognisability [95% CI] | sample s |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for name, e in s["rows"].items():
            minutes = e.get("train_min", r["train"]["train_s"] / 60)
            where = "2-core CPU" if name == "quick-shipped" else d["device"]
            rec = e["recognisability"]
            lines.append(
                f"| {name} | {minutes:.1f} ({where}) | {_ci(e['fvd'])} | {e['fvd_over_floor']:.1f}x "
                f"| {rec[0]:.3f} [{rec[1]:.3f}, {rec[2]:.3f}] | {e['sample_s']} |"
            )
        lines += [
            "",
            f"{s['clips']} clips each, DDIM {s['ddim_steps']}, seed 0, against {s['clips']} held-out real "
            f"clips; floor (real vs real) {s['floor']:.1f}. The CPU row is the shipped quick LVDM (its "
            "training minutes on the 2-core CPU, as recorded in its checkpoint), sampled here.",
            "",
        ]
    if r.get("errors"):
        lines += [
            "Stages that failed:",
            "",
            *[f"- {k}: `{v.splitlines()[-1]}`" for k, v in r["errors"].items()],
            "",
        ]
    if r["skipped"]:
        lines += ["Skipped by the time guard:", "", *[f"- {s}" for s in r["skipped"]], ""]
    return "\n".join(lines)
