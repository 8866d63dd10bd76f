"""DDIM's stochasticity, step count and sampling weights (issue 6; `sample_eta` in presets.py is
chosen here). The quick unconditional LVDM (the one `demo` trains and ships) is sampled with
DDIM 20 and 50 (the notebooks' counts) at eta 0 (deterministic; on rectified flow exactly
Euler), 0.5 and 1 (DDPM's variance on the DDIM grid), with its EMA and its raw weights, and
with DDPM at all its steps as the reference for the weights the package samples. The
classroom LVDM (long budget, EMA) is sampled at the same DDIM counts at eta 0 and 1, on grids
shifted towards the noisy or the clean end (`shifted_timesteps`), with DDIM 250 and with DDPM.
Same sampling seed, same real clips for every row; [95% bootstrap intervals] over clips."""

from __future__ import annotations

import time

import torch

from benchmarks import kept_result
from benchmarks.recipe_report import fmt, grid_name
from minilvdm.core.config import by_profile, get_profile
from minilvdm.core.train import pick_weights, sampling_weights
from minilvdm.eval import frechet_video_distance, real_clips, score
from minilvdm.methods.classroom import classroom_lvdm
from minilvdm.methods.lvdm import default_lvdm_config, train_lvdm
from minilvdm.vae import train_vae

ETAS = (0.0, 0.5, 1.0)
DDIM_STEPS = (20, 50)
CLASSROOM_ETAS = (0.0, 1.0)
# the classroom model's samples lose their digits where the noise is high (BENCHMARKS.md
# `denoise_depth`: denoised from t0 = 599 they keep 0.88, from pure noise 0.73): DDIM 50 with
# its steps moved there (shift 3) or away (1/3), and far more steps: (sampler, steps, eta, shift)
CLASSROOM_MORE = (
    ("ddim", 50, 0.0, 3.0),
    ("ddim", 50, 0.0, 1 / 3),
    ("ddim", 50, 1.0, 3.0),
    ("ddim", 250, 1.0, 1.0),
    ("ddpm", None, 0.0, 1.0),
    # shift 3 led (0.759 against 0.729 even, 0.671 at 1/3): further towards the noise, and with more steps
    ("ddim", 50, 0.0, 6.0),
    ("ddim", 250, 0.0, 3.0),
    ("ddim", 250, 1.0, 3.0),
    ("ddim", 20, 0.0, 3.0),  # the notebooks' DDIM 20 at eta 0
)


def _sample(trainer, weights: str, n: int, steps, sampler: str, eta: float, real, shift: float = 1.0) -> dict:
    """The row's scores, kept in benchmarks/results as each row is done (an interrupted run
    resumes at the next row); a retrained model has another checkpoint name, so its own rows."""
    key = f"{trainer.ckpt_path.name}|{trainer.step}|{weights}|{sampler}|{steps}|{eta}|{n}"
    key += f"|shift{shift:.3g}" if shift != 1.0 else ""  # rows kept before the grid column keep their keys
    return kept_result(
        "samplers", key, lambda: _measure(pick_weights(trainer, weights), n, steps, sampler, eta, real, shift)
    )


def _measure(model, n: int, steps, sampler: str, eta: float, real, shift: float) -> dict:
    start = time.perf_counter()
    seed = torch.Generator().manual_seed(0)
    videos = model.sample(n, steps=steps, sampler=sampler, eta=eta, shift=shift, generator=seed)
    seconds = (time.perf_counter() - start) / n
    result = score(videos, real, dataset="mnist")
    return {"seconds": seconds, "fvd": result["fvd"][0], "rec": [float(v) for v in result["recognisability"]]}


def best_eta(rows: list[dict], steps: int) -> str:
    """The eta with the highest recognisability at `steps`, and whether its interval clears the
    others' intervals (a lead within the noise is said to be one)."""
    at = [r for r in rows if r["sampler"] == "ddim" and r["steps"] == steps]
    best = max(at, key=lambda r: r["rec"][0])
    clear = all(best["rec"][1] > r["rec"][2] for r in at if r is not best)
    return f"eta {best['eta']:g} ({'ahead, disjoint intervals' if clear else 'ahead within the intervals'})"


def eta_cell(row: dict) -> str:
    return f"{row['eta']:g}" if row["sampler"] == "ddim" else "-"  # DDPM has no eta


def best_row(rows: list[dict]) -> str:
    """The row with the highest recognisability, and whether its interval clears every other's."""
    best = max(rows, key=lambda r: r["rec"][0])
    clear = all(best["rec"][1] > r["rec"][2] for r in rows if r is not best)
    eta = f", eta {best['eta']:g}" if best["sampler"] == "ddim" else ""
    grid = grid_name(best["shift"])
    return (
        f"{best['sampler'].upper()} {best['steps']}{eta}, {grid} grid: {fmt(best['rec'])} "
        f"({'disjoint from every other row' if clear else 'within the intervals of others'})"
    )


def run() -> str:
    n = by_profile(ci=4, quick=64, full=256)
    vae_trainer = train_vae("mnist", progress=False)
    trainer, _ = train_lvdm(default_lvdm_config("mnist"), vae_trainer=vae_trainer, progress=False)
    real = real_clips("mnist", n)[0]
    floor = frechet_video_distance(real_clips("mnist", n, part=1)[0], real)
    sampled = sampling_weights()
    runs = [(w, "ddim", s, eta, 1.0) for w in ("ema", "raw") for s in DDIM_STEPS for eta in ETAS]
    runs.append((sampled, "ddpm", None, 0.0, 1.0))
    # the shift that paid on the classroom model at eta 0, on the weights the package samples
    runs += [(sampled, "ddim", s, 0.0, 3.0) for s in DDIM_STEPS]
    rows = []
    for weights, sampler, steps, eta, shift in runs:
        out = _sample(trainer, weights, n, steps, sampler, eta, real, shift)
        steps = steps or trainer.model.diffusion.num_steps
        rows.append(
            {"weights": weights, "sampler": sampler, "steps": steps, "eta": eta, "shift": shift, **out}
        )
    ref = next(r for r in rows if r["sampler"] == "ddpm")
    own = [r for r in rows if r["weights"] == sampled and r["shift"] == 1.0]
    table = []
    for r in rows:
        same = r["weights"] == ref["weights"]
        speed_up = f"{ref['seconds'] / r['seconds']:.1f}x" if same else "-"
        fvd_change = f"{100 * (r['fvd'] - ref['fvd']) / ref['fvd']:+.0f}%" if same else "-"
        table.append(
            f"| {r['weights']} | {r['sampler']} | {r['steps']} | {eta_cell(r)} | {grid_name(r['shift'])} "
            f"| {r['seconds']:.2f} | {speed_up} | {r['fvd']:.1f} | {fvd_change} | {fmt(r['rec'])} |"
        )
    classroom = classroom_lvdm(vae_trainer, progress=False)
    class_rows = []
    if classroom is not None:
        for steps in DDIM_STEPS:
            for eta in CLASSROOM_ETAS:
                out = _sample(classroom[0], "ema", n, steps, "ddim", eta, real)
                class_rows.append({"sampler": "ddim", "steps": steps, "eta": eta, "shift": 1.0, **out})
        for sampler, steps, eta, shift in CLASSROOM_MORE:
            if steps and steps > classroom[0].model.diffusion.num_steps:  # ci's diffusion has 100 steps
                continue
            out = _sample(classroom[0], "ema", n, steps, sampler, eta, real, shift)
            steps = steps or classroom[0].model.diffusion.num_steps
            class_rows.append({"sampler": sampler, "steps": steps, "eta": eta, "shift": shift, **out})
    lines = [
        f"### The quick LVDM: DDIM by steps, eta and weights ({n} clips, seed 0; FVD floor {floor:.1f})",
        "",
        "| weights | sampler | steps | eta | time grid | s / clip | speed-up vs DDPM | FVD | FVD vs DDPM "
        "| recognisable [95% CI] |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *table,
        "",
        f"Model: the quick LVDM ({trainer.step} steps, `lvdm.default_train_config`, prediction "
        f"`{trainer.model.cfg.diffusion.prediction}`); the package samples its `{sampled}` weights "
        "(presets.py `sampling_weights`), so DDPM runs on those and the speed-up and FVD columns compare "
        "them with it. Best eta by recognisability (even grid): "
        + "; ".join(f"DDIM {s}: {best_eta(own, s)}" for s in DDIM_STEPS)
        + ".",
        "",
    ]
    if class_rows:
        even = [r for r in class_rows if r["shift"] == 1.0]
        lines += [
            f"### The classroom LVDM (EMA, {classroom[0].step} steps): by sampler, steps, eta and time grid",
            "",
            "| sampler | steps | eta | time grid | s / clip | FVD | recognisable [95% CI] |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *(
                f"| {r['sampler']} | {r['steps']} | {eta_cell(r)} | {grid_name(r['shift'])} "
                f"| {r['seconds']:.2f} | {r['fvd']:.1f} | {fmt(r['rec'])} |"
                for r in class_rows
            ),
            "",
            "Best eta by recognisability (even grid): "
            + "; ".join(f"DDIM {s}: {best_eta(even, s)}" for s in DDIM_STEPS)
            + ". Time grid: `shifted_timesteps`, u = (t + 1) / N -> shift u / (1 + (shift - 1) u); "
            "shift 3 puts 38 of DDIM 50's steps above t = 500 (even: 25), shift 1/3 puts 13 there. "
            f"Best row: {best_row(class_rows)}.",
            "",
        ]
    lines.append(
        "eta scales the noise DDIM adds per step, sigma = eta sqrt((1 - a') / (1 - a) (1 - a / a')). "
        f"Timings: wall-clock at {torch.get_num_threads()} torch threads, when each row was measured (a row "
        f"kept from an earlier run keeps its time). Profile `{get_profile()}`."
    )
    return "\n".join(lines + [""])
