"""The training recipe at a fixed CPU budget (issue 19): variants of the short-clip
unconditional Moving MNIST LVDM, each trained for the same budget of CPU time, scored at a
third, two thirds and all of it (the curve) with 95% intervals.

    python -m benchmarks recipe --profile quick          # the section (reuses what is done)
    python -m benchmarks.recipe --only baseline,v+minsnr # train and score some variants only

The budget is fixed in steps from step costs measured once with 2 threads, back to back for
every variant before any training (`budget_steps`), so every variant gets the same CPU time
whatever else shares the machine while it trains. Two `--only` runs at OMP_NUM_THREADS=1 use
both cores; each result is kept in benchmarks/results/ as it comes, so an interrupted study resumes.
The VAE is the quick Moving MNIST VAE (shipped when MINILVDM_WEIGHTS=shipped, else trained).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
from pathlib import Path

import torch

from benchmarks import figure_link, figure_path, load_results, store_result
from benchmarks.reach import minutes_to_reach
from benchmarks.recipe_report import (
    budget_rows,
    capacity_lines,
    flow_lines,
    fmt,
    grid_name,
    kept,
    lr_lines,
    pick_winner,
    plot_curves,
    reach_lines,
    todays_budget_lines,
    what_it_would_take,
    wide_sentence,
)
from benchmarks.recipe_variants import (
    ADOPTED,
    BASE,
    CURVE,
    LONG,
    LONG_SAMPLERS,
    LONG_SELFCOND_2X,
    LONG_SELFCOND_W48,
    LONG_WIDE,
    SAMPLER_SETTINGS,
    VARIANTS,
    WIDE_SAMPLERS,
    build,
    rows_of,
)
from minilvdm.core.config import by_profile, config_hash, get_device, set_profile
from minilvdm.core.cost import loss_step_seconds, measured_once
from minilvdm.core.presets import preset
from minilvdm.core.train import pick_weights
from minilvdm.eval import frechet_video_distance, real_clips, recognisability, score
from minilvdm.eval.metrics import identity_persistence
from minilvdm.methods.lvdm import LatentVideoDiffusion, train_lvdm
from minilvdm.vae import train_vae

RESULTS = Path(__file__).resolve().parent / "results"
EARLIER = RESULTS / "recipe-earlier.md"  # session 9's rows, whose results file was lost


def budget_seconds() -> float:
    return by_profile(ci=1.0, quick=15 * 60.0, full=60 * 60.0)


def eval_clips() -> int:
    return by_profile(ci=4, quick=64, full=256)


@contextlib.contextmanager
def threads(n: int):
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def step_seconds(name: str, vae) -> float:
    """Seconds of one training step of the variant with 2 threads, measured once per machine
    per UNet and batch size (the objective and schedules cost the same), after warm-up steps:
    the first steps of a process run slower, which would shrink one variant's budget."""
    cfg, train_cfg, _ = build(name)

    def measure():
        torch.manual_seed(0)
        model = LatentVideoDiffusion(cfg, vae)
        z = torch.randn(train_cfg.batch_size, *vae.cfg.latent_shape(16, 64, 64))  # (B, c, t, h, w)
        step = lambda: model(z)  # noqa: E731
        return {"step": loss_step_seconds(step, model.unet.parameters(), repeats=7, warmup=3)}

    key = _cost_key(name)
    known = _load_results().get(key)
    if known is None:  # measured once, then kept with the results: it fixes every row's steps
        with threads(2):
            known = measured_once(key.split("|")[1], measure)["step"]
        _store(key, known)
    return known


def cost_known(name: str, results: dict) -> bool:
    """The variant's budget is fixed: its own `steps`, or a step cost kept with the results."""
    return "steps" in VARIANTS[name] or _cost_key(name) in results


def _cost_key(name: str) -> str:
    """Where the variant's step cost is kept in the results: one per UNet and batch size."""
    cfg, train_cfg, _ = build(name)
    return f"step_seconds|recipe-{config_hash(cfg.unet)}-b{train_cfg.batch_size}|{get_device()}|threads=2"


def budget_steps(name: str, vae) -> int:
    return max(3, round(budget_seconds() / step_seconds(name, vae)))


def budgeted(name: str, vae):
    """build(name) with the step count of the budget, or the variant's own `steps` (this names
    the variant's checkpoint)."""
    cfg, train_cfg, data_cfg = build(name)
    over = VARIANTS[name]
    total = over.get("steps") or budget_steps(name, vae)
    every = over.get("ckpt_every") or max(10, total // 20)
    return cfg, dataclasses.replace(train_cfg, steps=total, ckpt_every=every), data_cfg


def _load_results() -> dict:
    return load_results("recipe")


def _store(key: str, value) -> None:
    store_result("recipe", key, value)


def _triple(ci) -> list[float]:
    return [float(v) for v in ci]


def evaluate(model, real, n: int, steps: int = 50, eta: float = 0.0, shift: float = 1.0) -> dict:
    videos = model.sample(n, steps=steps, eta=eta, shift=shift, generator=torch.Generator().manual_seed(0))
    result = score(videos, real, dataset="mnist")
    kept = identity_persistence(videos, segment=videos.shape[2] // 2)[-1].item()  # 2nd half vs 1st
    return {
        "fvd": _triple(result["fvd"]),
        "recognisability": _triple(result["recognisability"]),
        "identity_kept": kept,
    }


def train_and_score(name: str, vae_trainer, real, progress: bool = True) -> None:
    """Train the variant in stages (CURVE) and store the EMA and raw scores at each stage."""
    cfg, train_cfg, data_cfg = budgeted(name, vae_trainer.ema.module)
    total = train_cfg.steps
    n, done = eval_clips(), _load_results()
    for fraction in CURVE:
        until = max(1, round(total * fraction))
        key = f"{name}|{config_hash(cfg, train_cfg, data_cfg)}|{until}"
        if key in done:
            continue
        trainer, _ = train_lvdm(
            cfg, train_cfg, data_cfg, vae_trainer, name=f"recipe-{name}", progress=progress, until=until
        )
        row = {"step": trainer.step, "steps": total, "wall_min": trainer.seconds / 60}
        row["budget_min"] = trainer.step * step_seconds(name, vae_trainer.ema.module) / 60
        for weights in ("ema", "raw") if fraction == CURVE[-1] else ("ema",):  # raw: at the end only
            row[weights] = evaluate(pick_weights(trainer, weights), real, n)
        _store(key, row)
        print(f"{name} step {trainer.step}: {json.dumps(row)}", flush=True)


def run() -> str:
    vae_trainer = train_vae("mnist")
    vae = vae_trainer.ema.module
    n = eval_clips()
    real, other = real_clips("mnist", n)[0], real_clips("mnist", n, part=1)[0]
    floor = frechet_video_distance(other, real, dataset="mnist")
    real_rec = recognisability(other)
    real_kept = identity_persistence(other, segment=other.shape[2] // 2)[-1].item()
    results = _load_results()
    # a variant whose step cost was never measured here has no rows: measuring it now (with
    # the cores perhaps busy) would only fix a budget for a run that has not happened
    current = {
        name: config_hash(*budgeted(name, vae)) if cost_known(name, results) else "" for name in VARIANTS
    }
    lines = [
        f"Budget: {budget_seconds() / 60:.0f} CPU-minutes of training per variant (2 threads), fixed in "
        f"steps from each variant's measured step cost; {n} clips per score (DDIM 50, eta 0, seed 0) "
        f"against {n} held-out real clips; FVD floor (real vs real) {floor:.1f}; real clips' "
        f"recognisability {real_rec:.3f}. Rows are greedy and cumulative: `{BASE}` = v-prediction, "
        "min-SNR-5, cosine decay to 0 after a 50-step warm-up, EMA 0.995 with warm-up. Only the rows "
        "trained so far are listed (`python -m benchmarks.recipe --only NAME` trains one).",
        "",
        "| variant | s / step | steps (budget) | scored at step | budget min | wall min here "
        "| EMA recognisability [95% CI] | EMA FVD / floor | EMA identity kept "
        "| raw recognisability [95% CI] | raw FVD / floor |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in VARIANTS:
        for row in rows_of(name, results, current):
            raw = row.get("raw")
            raw_cols = f"{fmt(raw['recognisability'])} | {raw['fvd'][0] / floor:.2f}" if raw else "- | -"
            lines.append(
                f"| {name} | {step_seconds(name, vae):.3f} | {row['steps']} | {row['step']} "
                f"| {row['budget_min']:.1f} | {row['wall_min']:.1f} | {fmt(row['ema']['recognisability'])} "
                f"| {row['ema']['fvd'][0] / floor:.2f} | {kept(row['ema'])} | {raw_cols} |"
            )
    finished = {
        k: r[-1] for k in VARIANTS if (r := rows_of(k, results, current)) and r[-1]["step"] == r[-1]["steps"]
    }
    if finished:
        lines += ["", *winner_lines(finished, results, current, floor, vae_trainer, real)]
        plot_curves(results, current, real_rec)
        lines += [
            "",
            f"![recognisability against training minutes]({figure_link(figure_path('recipe_curve.png'))})",
        ]
    long_rows = rows_of(LONG, results, current)
    if len(long_rows) > 1:
        first, last = long_rows[0], long_rows[-1]
        lines += [
            "",
            f"The long budget (`{LONG}`, the classroom model notebook 05 loads): EMA recognisability "
            f"{fmt(first['ema']['recognisability'])} after {first['budget_min']:.0f} budget minutes and "
            f"{fmt(last['ema']['recognisability'])} after {last['budget_min']:.0f}: "
            + (
                "the curve is flat past the quick budget, so more steps of this network alone do not "
                "approach the 0.80 target."
                if last["ema"]["recognisability"][1] <= first["ema"]["recognisability"][2]
                else "still rising at the end of the budget."
            ),
        ]
    reach = reach_lines(finished)
    lines += ["", *reach] if reach else []
    wide_rows = rows_of(LONG_WIDE, results, current)
    if wide_rows and long_rows:
        lines += ["", wide_sentence(wide_rows, long_rows)]
    flow = flow_lines(finished, results, current, long_rows)
    lines += ["", *flow] if flow else []
    lr = lr_lines(finished)
    lines += ["", *lr] if lr else []
    today = todays_budget_lines(finished)
    lines += ["", *today] if today else []
    capacity = capacity_lines(results, current)
    lines += ["", *capacity] if capacity else []
    for name, settings in ((LONG_SELFCOND_2X, LONG_SAMPLERS), (LONG_SELFCOND_W48, WIDE_SAMPLERS)):
        if name in finished:  # long curves, with the classroom model's best sampler
            lines += ["", *sampler_lines(name, settings, finished, vae_trainer, real, floor)]
    lines += [
        "",
        "Wall minutes differ from budget minutes, which use the step cost kept with the results (the "
        "s / step column, measured once per UNet and batch): most variants trained two at a time on one "
        "thread each, slower than that; those trained alone at 2 threads on the 2026-12-07 machine "
        "(`+lr2e-3`, `@20000`, `@3900`) faster (about 0.23 s per step; `+width48`, alone too, about "
        "0.41 against its kept 0.39). A variant's first step encodes its "
        "training clips (once per clip set). Raw weights are "
        "scored at the end of the budget only. Identity kept: `identity_persistence` of the two "
        f"8-frame halves (real clips {real_kept:.2f}); rows without it were scored before it was added.",
    ]
    if EARLIER.exists():
        lines += ["", "### Earlier rows", "", EARLIER.read_text().strip()]
    return "\n".join(lines)


def best_weights(row: dict) -> str:
    return max(("ema", "raw"), key=lambda w: row[w]["recognisability"][0])


def winner_lines(finished: dict, results: dict, current: dict, floor: float, vae_trainer, real) -> list[str]:
    """The winner (best EMA recognisability at the end of the budget), its minutes to the
    baseline's final level, and its sampler settings."""
    at_budget = budget_rows(finished)
    winner = pick_winner(finished)
    lines = [
        f"**Winner:** `{winner}` (EMA recognisability at the end of the budget, the mean of its two "
        "training seeds where a row has a second)."
    ]
    low = finished[winner]["ema"]["recognisability"][1]
    tied = [k for k in at_budget if k != winner and finished[k]["ema"]["recognisability"][2] >= low]
    if tied:
        lines.append("Within its 95% interval: " + ", ".join(f"`{k}`" for k in tied) + ".")
    if "baseline" in finished and winner != "baseline":
        target = finished["baseline"]["ema"]["recognisability"][0]
        minutes, reached = minutes_to_reach(rows_of(winner, results, current), target)
        base_minutes = finished["baseline"]["budget_min"]
        lines.append(
            f"Quality per CPU-minute: the winner reaches the baseline's final EMA recognisability "
            f"({target:.3f}) after {minutes:.1f} budget minutes against the baseline's {base_minutes:.1f}: "
            f"{base_minutes / minutes:.1f}x fewer minutes (linear between the scored points)."
            if reached
            else f"The winner does not reach the baseline's final level ({target:.3f})."
        )
    lines += ["", *what_it_would_take(winner, results, current)]
    swept = ADOPTED if ADOPTED in finished else winner  # the sampler sweep: what the package ships
    lines += ["", *sampler_lines(swept, SAMPLER_SETTINGS, finished, vae_trainer, real, floor)]
    return lines


def sampler_lines(name: str, settings, finished: dict, vae_trainer, real, floor: float) -> list[str]:
    """A table of the variant's final model sampled with each (DDIM steps, eta[, grid shift]),
    kept in the results as it is scored; the model is loaded (or trained again, where its
    checkpoint is gone) only for a missing row."""
    row, n, results = finished[name], eval_clips(), _load_results()
    weights = best_weights(row)
    model = None
    lines = [
        f"Sampler settings for `{name}` ({weights} weights, {n} clips, seed 0):",
        "",
        "| DDIM steps | eta | time grid | recognisability [95% CI] | FVD / floor |",
        "| --- | --- | --- | --- | --- |",
    ]
    for steps, eta, *shifted in settings:
        if steps > preset("mnist").diffusion.num_steps:  # ci's diffusion has 100 steps
            continue
        shift = shifted[0] if shifted else 1.0
        key = f"sampler|{name}|{row['steps']}|{weights}|{steps}|{eta}" + (
            f"|shift{shift:g}" if shifted else ""
        )
        if key not in results:
            if model is None:
                cfg, train_cfg, data_cfg = budgeted(name, vae_trainer.ema.module)
                trainer, _ = train_lvdm(
                    cfg, train_cfg, data_cfg, vae_trainer, name=f"recipe-{name}", progress=False
                )
                model = pick_weights(trainer, weights)
            _store(key, evaluate(model, real, n, steps=steps, eta=eta, shift=shift))
            results = _load_results()
        r = results[key]
        scores = f"{fmt(r['recognisability'])} | {r['fvd'][0] / floor:.2f}"
        lines.append(f"| {steps} | {eta:g} | {grid_name(shift)} | {scores} |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recipe", description=__doc__.splitlines()[0])
    parser.add_argument("--only", required=True, help="comma-separated variant names: " + ", ".join(VARIANTS))
    parser.add_argument("--profile", default="quick", choices=("ci", "quick", "full"))
    args = parser.parse_args(argv)
    names = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in names if s not in VARIANTS]
    if unknown:
        parser.error(f"--only: unknown variants {unknown}; choose from {list(VARIANTS)}")
    set_profile(args.profile)
    vae_trainer = train_vae("mnist")
    real = real_clips("mnist", eval_clips())[0]
    for name in names:
        train_and_score(name, vae_trainer, real)
    return 0


if __name__ == "__main__":
    sys.exit(main())
