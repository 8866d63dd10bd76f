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
from benchmarks.reach import extrapolated_minutes, log_fit, minutes_to_reach
from minilvdm.core.config import by_profile, config_hash, get_device, set_profile
from minilvdm.core.cost import loss_step_seconds, measured_once
from minilvdm.core.presets import preset
from minilvdm.core.train import pick_weights
from minilvdm.diffusion.gaussian import DiffusionConfig
from minilvdm.eval import frechet_video_distance, real_clips, recognisability, score
from minilvdm.eval.metrics import identity_persistence
from minilvdm.methods.lvdm import (
    LatentVideoDiffusion,
    default_data_config,
    default_lvdm_config,
    default_train_config,
    train_lvdm,
)
from minilvdm.vae import train_vae

BASE = "v+minsnr+cosine+emawarm"
CLASSROOM = preset("mnist", "quick")  # the classroom model's budget (presets.py) is the LONG row
LONG = f"{BASE}@{CLASSROOM.classroom_train.steps}+clips{CLASSROOM.classroom_clips}"
# name -> overrides: prediction / min_snr / schedule / t_sampling (diffusion), lr_schedule /
# ema_warmup / batch_size (training), clips (distinct training clips), width / attention /
# res_blocks / clip_context / joint (UNet), self_cond (the LVDM).
# Greedy and cumulative: later rows build on the recipe the earlier rows chose.
RECIPE = dict(prediction="v", min_snr=5.0, lr_schedule="cosine", ema_warmup=True)  # = BASE
FLOW = "flow+cosine+emawarm"
FLOW_RECIPE = dict(
    prediction="flow",
    min_snr=0.0,
    schedule="rectified_flow",
    t_sampling="logit_normal",
    lr_schedule="cosine",
    ema_warmup=True,
)
VARIANTS: dict[str, dict] = {
    "baseline": {},
    "v": dict(prediction="v"),
    "minsnr": dict(min_snr=5.0),
    "v+minsnr": dict(prediction="v", min_snr=5.0),
    "v+minsnr+cosine": dict(prediction="v", min_snr=5.0, lr_schedule="cosine"),
    BASE: RECIPE,
    # min-SNR-5 on v gives the noisiest steps almost no weight (min(SNR, 5) / (SNR + 1) -> SNR),
    # and SDEdit from real latents loses digits past t ~ 400 (the notes of session 9): without it
    "v+cosine+emawarm": dict(prediction="v", lr_schedule="cosine", ema_warmup=True),
    f"{BASE}+clips8192": {**RECIPE, "clips": 8192},
    f"{BASE}+batch32": {**RECIPE, "batch_size": 32},
    f"{BASE}+width48": {**RECIPE, "width": 48},
    f"{BASE}+attn16": {**RECIPE, "attention": (1, 2, 4)},
    # frame 0's denoising barely reads latent frames >= 4 (replacing them with another clip's
    # moves its error 0.370 -> 0.427 at t = 700, frames >= 1: -> 0.764), and the samples' digits
    # morph within a clip: one space-time attention can follow a moving digit, a temporal
    # attention at a fixed position cannot (VideoFusion / LaVie's joint alternative)
    f"{BASE}+joint": {**RECIPE, "joint": True},
    # min-SNR-5 weighs a step's x0 error by min(SNR, 5): the mid and high noise levels, where the
    # digits' identities across frames are decided, get 0.01-0.2 against 5 for the finest steps.
    # A smaller gamma moves weight there (min-SNR-5 over plain v already gained +0.09)
    f"{BASE}+gamma1": {**RECIPE, "min_snr": 1.0},
    f"{BASE}+gamma0.2": {**RECIPE, "min_snr": 0.2},
    # the samples' digits morph within a clip: noise shared across frames (PYoCo's mixed noise
    # prior, correlation 0.5) starts every frame from a common draw, in training and sampling
    f"{BASE}+mixed0.5": {**RECIPE, "noise_corr": 0.5},
    # a second training seed for the best two at the budget (this machine's rows, session 10)
    f"{BASE}+gamma1+seed1": {**RECIPE, "min_snr": 1.0, "seed": 1},
    f"{BASE}+joint+seed1": {**RECIPE, "joint": True, "seed": 1},
    # neither attention learned to read the far half of the clip in 15 minutes (denoise_depth's
    # reach table): the mid block's features pooled over (T, H, W), added to every frame's
    # embedding, hand each frame the clip's content in one hop (session 10's suggestion)
    f"{BASE}+clipctx": {**RECIPE, "clip_context": True},
    # the objective outside eps/v-DDPM that the issue names: rectified flow (velocity u = eps - x0
    # on the straight line, s evenly spaced, logit-normal t as in SD3), plain u loss; the
    # training half of BASE. Sampled with DDIM eta 0 like every row: exactly Euler on the flow
    FLOW: FLOW_RECIPE,
    f"{FLOW}+seed1": {**FLOW_RECIPE, "seed": 1},
    # the v recipe's best lever (clip context) on top of flow
    f"{FLOW}+clipctx": {**FLOW_RECIPE, "clip_context": True},
    # the samples' digits still morph within a clip (identity kept ~0.03): self-conditioning
    # (Chen et al. 2023) hands every step the network's own running estimate of the whole clip;
    # its gradient-free first pass cost 7% more per step here (2,625 steps in the budget, 2,797 without)
    f"{FLOW}+clipctx+selfcond": {**FLOW_RECIPE, "clip_context": True, "self_cond": True},
    # second training seeds for the best two at the budget (the rule)
    f"{FLOW}+clipctx+seed1": {**FLOW_RECIPE, "clip_context": True, "seed": 1},
    f"{FLOW}+clipctx+selfcond+seed1": {**FLOW_RECIPE, "clip_context": True, "self_cond": True, "seed": 1},
    # capacity in depth at the same width (width 48/64 lost steps without gaining at this budget)
    f"{FLOW}+clipctx+depth2": {**FLOW_RECIPE, "clip_context": True, "res_blocks": 2},
    # the notebooks' budget: today's 1500 steps (about 7 CPU-minutes), the recipe the package adopts
    f"{BASE}@1500": {**RECIPE, "steps": 1500, "ckpt_every": 100},
    f"{FLOW}+clipctx@1500": {**FLOW_RECIPE, "clip_context": True, "steps": 1500, "ckpt_every": 100},
    # the classroom weights' long budget (issue 20): about 44 CPU-minutes at 2 threads, 4x the clips
    LONG: {
        **RECIPE,
        "steps": CLASSROOM.classroom_train.steps,
        "ckpt_every": CLASSROOM.classroom_train.ckpt_every,
        "clips": CLASSROOM.classroom_clips,
    },
}
# the capacity lever at the long budget (the width-32 curve is flat past 15 minutes): twice the
# width, about 4x the FLOPs per step, so about a third of the long row's steps for a similar budget
LONG_WIDE = f"{LONG}+width64"
VARIANTS[LONG_WIDE] = {**VARIANTS[LONG], "width": 64, "steps": 3000, "ckpt_every": 100}
# flow at the classroom budget: does its curve keep rising where v's is flat?
LONG_FLOW = LONG.replace(BASE, FLOW)
VARIANTS[LONG_FLOW] = {**VARIANTS[LONG], **FLOW_RECIPE}
# the 15-minute winner (two seeds) at the classroom budget: its curve says what longer training buys
LONG_SELFCOND = f"{LONG_FLOW}+clipctx+selfcond"
VARIANTS[LONG_SELFCOND] = {**VARIANTS[LONG_FLOW], "clip_context": True, "self_cond": True}
ADOPTED = f"{FLOW}+clipctx@1500"  # the recipe the package's quick Moving MNIST LVDM trains with (presets.py)
BASELINE_DIFFUSION = DiffusionConfig()  # schedule and t sampling of the rows that do not set them
CURVE = (1 / 3, 2 / 3, 1.0)  # fractions of the budget at which the model is scored
RESULTS = Path(__file__).resolve().parent / "results"
EARLIER = RESULTS / "recipe-earlier.md"  # session 9's rows, whose results file was lost
SAMPLER_SETTINGS = ((50, 0.0), (50, 1.0), (100, 0.0), (100, 1.0), (250, 1.0))  # (DDIM steps, eta)


def budget_seconds() -> float:
    return by_profile(ci=1.0, quick=15 * 60.0, full=60 * 60.0)


def eval_clips() -> int:
    return by_profile(ci=4, quick=64, full=256)


def build(name: str):
    """(LVDMConfig, TrainConfig without its step count, VideoDataConfig) of a variant: the
    package's sizes with the baseline recipe (eps, no min-SNR, constant lr, plain EMA, as
    before this study) under the variant's overrides, so the rows stay put when the package's
    own recipe changes."""
    over = VARIANTS[name]
    cfg = default_lvdm_config("mnist")
    cfg.diffusion.prediction = over.get("prediction", "eps")
    cfg.diffusion.min_snr_gamma = over.get("min_snr", 0.0)
    cfg.diffusion.schedule = over.get("schedule", BASELINE_DIFFUSION.schedule)
    cfg.diffusion.t_sampling = over.get("t_sampling", BASELINE_DIFFUSION.t_sampling)
    cfg.diffusion.noise_correlation = over.get("noise_corr", 0.0)
    cfg.unet.model_channels = over.get("width", cfg.unet.model_channels)
    cfg.unet.attention_resolutions = over.get("attention", cfg.unet.attention_resolutions)
    cfg.unet.joint_attention = over.get("joint", cfg.unet.joint_attention)
    cfg.unet.clip_context = over.get("clip_context", False)
    cfg.unet.num_res_blocks = over.get("res_blocks", cfg.unet.num_res_blocks)
    cfg.self_condition = over.get("self_cond", False)
    cfg.unet.context_channels = cfg.unet.in_channels if cfg.self_condition else 0
    base_train, base_data = default_train_config("latent", "mnist"), default_data_config("mnist")
    train_cfg = dataclasses.replace(
        base_train,
        lr_schedule=over.get("lr_schedule", "constant"),
        ema_warmup=over.get("ema_warmup", False),
        batch_size=over.get("batch_size", base_train.batch_size),
        seed=over.get("seed", base_train.seed),
    )
    data_cfg = dataclasses.replace(base_data, count=over.get("clips", base_data.count))
    return cfg, train_cfg, data_cfg


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


def evaluate(model, real, n: int, steps: int = 50, eta: float = 0.0) -> dict:
    videos = model.sample(n, steps=steps, eta=eta, generator=torch.Generator().manual_seed(0))
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


def _rows_of(name: str, results: dict, current: dict) -> list[dict]:
    """The scored points of a variant's present config (`current`: {name: config hash}); a
    changed config trains and scores anew."""
    rows = (v for k, v in results.items() if k.split("|")[:2] == [name, current[name]])
    return sorted(rows, key=lambda r: r["step"])


def _kept(scores: dict) -> str:  # rows scored before identity was added have none
    return f"{scores['identity_kept']:.3f}" if "identity_kept" in scores else "-"


def _fmt(triple, digits: int = 3) -> str:
    return f"{triple[0]:.{digits}f} [{triple[1]:.{digits}f}, {triple[2]:.{digits}f}]"


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
        for row in _rows_of(name, results, current):
            raw = row.get("raw")
            raw_cols = f"{_fmt(raw['recognisability'])} | {raw['fvd'][0] / floor:.2f}" if raw else "- | -"
            lines.append(
                f"| {name} | {step_seconds(name, vae):.3f} | {row['steps']} | {row['step']} "
                f"| {row['budget_min']:.1f} | {row['wall_min']:.1f} | {_fmt(row['ema']['recognisability'])} "
                f"| {row['ema']['fvd'][0] / floor:.2f} | {_kept(row['ema'])} | {raw_cols} |"
            )
    finished = {
        k: r[-1] for k in VARIANTS if (r := _rows_of(k, results, current)) and r[-1]["step"] == r[-1]["steps"]
    }
    if finished:
        lines += ["", *winner_lines(finished, results, current, floor, vae_trainer, real)]
        plot_curves(results, current, real_rec)
        lines += [
            "",
            f"![recognisability against training minutes]({figure_link(figure_path('recipe_curve.png'))})",
        ]
    long_rows = _rows_of(LONG, results, current)
    if len(long_rows) > 1:
        first, last = long_rows[0], long_rows[-1]
        lines += [
            "",
            f"The long budget (`{LONG}`, the classroom model notebook 05 loads): EMA recognisability "
            f"{_fmt(first['ema']['recognisability'])} after {first['budget_min']:.0f} budget minutes and "
            f"{_fmt(last['ema']['recognisability'])} after {last['budget_min']:.0f}: "
            + (
                "the curve is flat past the quick budget, so more steps of this network alone do not "
                "approach the 0.80 target."
                if last["ema"]["recognisability"][1] <= first["ema"]["recognisability"][2]
                else "still rising at the end of the budget."
            ),
        ]
    reach = reach_lines(finished)
    lines += ["", *reach] if reach else []
    wide_rows = _rows_of(LONG_WIDE, results, current)
    if wide_rows and long_rows:
        lines += ["", wide_sentence(wide_rows, long_rows)]
    flow = flow_lines(finished, results, current, long_rows)
    lines += ["", *flow] if flow else []
    lines += [
        "",
        "Wall minutes differ from budget minutes: variants trained two at a time on one thread each, "
        "and a variant's first step encodes its training clips (once per clip set). Raw weights are "
        "scored at the end of the budget only. Identity kept: `identity_persistence` of the two "
        f"8-frame halves (real clips {real_kept:.2f}); rows without it were scored before it was added.",
    ]
    if EARLIER.exists():
        lines += ["", "### Earlier rows", "", EARLIER.read_text().strip()]
    return "\n".join(lines)


def _verdict(a, b) -> str:
    """a against b, two (value, low, high) intervals: ahead / behind / level."""
    return "ahead" if a[1] > b[2] else "behind" if a[2] < b[1] else "level (overlapping intervals)"


def wide_sentence(wide_rows: list[dict], long_rows: list[dict]) -> str:
    """The width-64 row against the width-32 long row at the nearest budget minute."""
    last = wide_rows[-1]
    near = min(long_rows, key=lambda r: abs(r["budget_min"] - last["budget_min"]))
    wide, narrow = last["ema"]["recognisability"], near["ema"]["recognisability"]
    return (
        f"Twice the width (`{LONG_WIDE}`, {last['steps']} steps): {_fmt(wide)} after "
        f"{last['budget_min']:.0f} budget minutes, {_verdict(wide, narrow)} against width 32's "
        f"{_fmt(narrow)} after {near['budget_min']:.0f}; its points: "
        + ", ".join(f"{r['ema']['recognisability'][0]:.3f} @ {r['budget_min']:.0f} min" for r in wide_rows)
        + ". Its step cost was measured while another job shared the cores."
    )


def flow_lines(finished: dict, results: dict, current: dict, long_rows: list[dict]) -> list[str]:
    """Rectified flow against the v recipe with the same training half: at the end of the
    budget, in minutes to the v recipe's final level, its second seed, and its long curve."""
    if FLOW not in finished or BASE not in finished:
        return []
    flow, base = finished[FLOW]["ema"], finished[BASE]["ema"]
    target = base["recognisability"][0]
    minutes, reached = minutes_to_reach(_rows_of(FLOW, results, current), target)
    out = [
        f"Rectified flow (`{FLOW}`: velocity target, s evenly spaced, logit-normal t, the same cosine "
        f"schedule and EMA warm-up, DDIM eta 0 = Euler) against `{BASE}` at the end of the budget: "
        f"{_fmt(flow['recognisability'])} against {_fmt(base['recognisability'])}, "
        f"{_verdict(flow['recognisability'], base['recognisability'])}; FVD {flow['fvd'][0]:.1f} "
        f"against {base['fvd'][0]:.1f}. "
        + (
            f"It reaches the v recipe's final level after {minutes:.1f} of its "
            f"{finished[BASE]['budget_min']:.0f} budget minutes."
            if reached
            else "It does not reach the v recipe's final level."
        )
    ]
    if f"{FLOW}+seed1" in finished:
        seed1 = finished[f"{FLOW}+seed1"]["ema"]
        out.append(
            f"Second training seed: {_fmt(seed1['recognisability'])}, "
            f"{_verdict(seed1['recognisability'], base['recognisability'])} against `{BASE}`."
        )
    if f"{FLOW}+clipctx" in finished:
        ctx = finished[f"{FLOW}+clipctx"]["ema"]
        out.append(
            f"With clip context (`{FLOW}+clipctx`): {_fmt(ctx['recognisability'])}, "
            f"identity kept {_kept(ctx)}, "
            f"{_verdict(ctx['recognisability'], flow['recognisability'])} against flow alone."
            + _second_seed(finished, f"{FLOW}+clipctx")
        )
    for lever, what in (("selfcond", "self-conditioning"), ("depth2", "two res blocks per level")):
        if f"{FLOW}+clipctx+{lever}" in finished and f"{FLOW}+clipctx" in finished:
            row = finished[f"{FLOW}+clipctx+{lever}"]
            ctx = finished[f"{FLOW}+clipctx"]["ema"]
            out.append(
                f"With {what} on top (`{FLOW}+clipctx+{lever}`, {row['steps']} steps in the budget): "
                f"{_fmt(row['ema']['recognisability'])}, identity kept {_kept(row['ema'])}, "
                f"{_verdict(row['ema']['recognisability'], ctx['recognisability'])} "
                "against clip context alone." + _second_seed(finished, f"{FLOW}+clipctx+{lever}")
            )
    flow_long = _rows_of(LONG_FLOW, results, current)
    if flow_long:

        def at_steps(rows):
            return ", ".join(f"{r['ema']['recognisability'][0]:.3f} @ step {r['step']}" for r in rows)

        v_points = at_steps(long_rows) or (
            "among the earlier rows below (same network, steps and clips; its budget minutes come from "
            "another day's step timing, so compare at equal steps)"
        )
        out.append(
            f"At the classroom budget (`{LONG_FLOW}`, {flow_long[-1]['budget_min']:.0f} budget minutes at "
            f"today's step cost): {at_steps(flow_long)}; the v recipe's `{LONG}`: {v_points}."
        )
    return [" ".join(out)]


REACH_LEVERS = tuple(
    f"{BASE}+{lever}" for lever in ("joint", "joint+seed1", "gamma1", "gamma1+seed1", "mixed0.5", "clipctx")
)


def reach_lines(finished: dict) -> list[str]:
    """The levers aimed at the samples' morphing digits (denoise_depth's temporal reach),
    each against the recipe's own row at the end of the same budget."""
    if BASE not in finished:
        return []
    base = finished[BASE]["ema"]
    out = [
        f"Levers against the morphing digits, each against `{BASE}` at the end of the budget "
        f"({_fmt(base['recognisability'])}, identity kept {_kept(base)}):"
    ]
    for name in REACH_LEVERS:
        if name in finished:
            ema = finished[name]["ema"]
            out.append(
                f"- `{name}`: {_fmt(ema['recognisability'])}, identity kept {_kept(ema)}: "
                f"{_verdict(ema['recognisability'], base['recognisability'])}"
            )
    return out if len(out) > 1 else []


def best_weights(row: dict) -> str:
    return max(("ema", "raw"), key=lambda w: row[w]["recognisability"][0])


def _second_seed(finished: dict, name: str) -> str:
    if f"{name}+seed1" not in finished:
        return ""
    first, second = finished[name]["ema"], finished[f"{name}+seed1"]["ema"]
    return (
        f" Second training seed: {_fmt(second['recognisability'])}, identity kept {_kept(second)}, "
        f"{_verdict(second['recognisability'], first['recognisability'])} against the first."
    )


def what_it_would_take(winner: str, results: dict, current: dict) -> list[str]:
    """The curves extrapolated to the targets: a least-squares line of EMA recognisability
    against ln(budget minutes) through the winner's and the classroom-budget flow curve's points."""
    out = []
    for name in (winner, LONG_FLOW, LONG_SELFCOND):
        rows = _rows_of(name, results, current)
        if len(rows) < 2:
            continue
        _, per_efold = log_fit(rows)
        reach = []
        for target in (0.80, 0.93):
            minutes = extrapolated_minutes(rows, target)
            reach.append(
                f"{target:.2f} after about {minutes:,.0f} budget minutes ({minutes / 60:,.0f} h)"
                if minutes < 1e7
                else f"{target:.2f} never"
            )
        out.append(
            f"`{name}` ({len(rows)} points, {rows[0]['budget_min']:.0f}-{rows[-1]['budget_min']:.0f} min): "
            f"{per_efold:+.3f} per e-fold of minutes, so " + " and ".join(reach)
        )
    if not out:
        return []
    return [
        "What the targets would take (issue 19's 0.80 for the quick model, issue 20's 0.93 for the "
        "classroom weights): a line of EMA recognisability (DDIM 50, eta 0) against ln(budget minutes), "
        "fitted by least squares through a curve's scored points, extrapolated. "
        + "; ".join(out)
        + ". Far past the data, so orders of magnitude only, and at this network size: a larger network "
        "or a GPU changes the curve itself (`full` profile)."
    ]


def winner_lines(finished: dict, results: dict, current: dict, floor: float, vae_trainer, real) -> list[str]:
    """The winner (best EMA recognisability at the end of the budget), its minutes to the
    baseline's final level, and its sampler settings."""
    at_budget = [k for k in finished if "steps" not in VARIANTS[k]]  # fixed-step rows don't compete
    winner = max(at_budget, key=lambda k: finished[k]["ema"]["recognisability"][0])
    lines = [f"**Winner:** `{winner}` (EMA recognisability at the end of the budget)."]
    low = finished[winner]["ema"]["recognisability"][1]
    tied = [k for k in at_budget if k != winner and finished[k]["ema"]["recognisability"][2] >= low]
    if tied:
        lines.append("Within its 95% interval: " + ", ".join(f"`{k}`" for k in tied) + ".")
    if "baseline" in finished and winner != "baseline":
        target = finished["baseline"]["ema"]["recognisability"][0]
        minutes, reached = minutes_to_reach(_rows_of(winner, results, current), target)
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
    """A table of the variant's final model sampled with each (DDIM steps, eta), kept in the
    results as it is scored; the model is loaded (or trained again, where its checkpoint is
    gone) only for a missing row."""
    row, n, results = finished[name], eval_clips(), _load_results()
    weights = best_weights(row)
    model = None
    lines = [
        f"Sampler settings for `{name}` ({weights} weights, {n} clips, seed 0):",
        "",
        "| DDIM steps | eta | recognisability [95% CI] | FVD / floor |",
        "| --- | --- | --- | --- |",
    ]
    for steps, eta in settings:
        if steps > preset("mnist").diffusion.num_steps:  # ci's diffusion has 100 steps
            continue
        key = f"sampler|{name}|{row['steps']}|{weights}|{steps}|{eta}"
        if key not in results:
            if model is None:
                cfg, train_cfg, data_cfg = budgeted(name, vae_trainer.ema.module)
                trainer, _ = train_lvdm(
                    cfg, train_cfg, data_cfg, vae_trainer, name=f"recipe-{name}", progress=False
                )
                model = pick_weights(trainer, weights)
            _store(key, evaluate(model, real, n, steps=steps, eta=eta))
            results = _load_results()
        r = results[key]
        lines.append(f"| {steps} | {eta:g} | {_fmt(r['recognisability'])} | {r['fvd'][0] / floor:.2f} |")
    return lines


def plot_curves(results: dict, current: dict, real_rec: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.5))
    colors = iter(plt.get_cmap("tab20").colors)
    for name in VARIANTS:
        rows = _rows_of(name, results, current)
        if rows:
            flow = name.startswith(FLOW)  # the objective outside v, drawn bold
            ax.plot([0] + [r["budget_min"] for r in rows],
                    [0] + [r["ema"]["recognisability"][0] for r in rows], marker="o", label=name,
                    color=next(colors), lw=2.5 if flow else 1.2)  # fmt: skip
    ax.axhline(real_rec, color="k", ls="--", lw=1, label="real clips")
    ax.axhline(0.8, color="grey", ls=":", lw=1, label="target 0.80")
    ax.set(xlabel="training budget, CPU-minutes (2 threads)", ylabel="EMA recognisability (DDIM 50)",
           title="Short-clip LVDM on Moving MNIST: recipe variants", ylim=(0, 1))  # fmt: skip
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(figure_path("recipe_curve.png"), dpi=110)
    plt.close(fig)


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
