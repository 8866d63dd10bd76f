"""Class-conditional latent video diffusion on Moving MNIST (issue 6): condition accuracy,
quality and diversity against the guidance scale. LVDM's unconditional-guidance form
(1 + w) eps_c - w eps_u is the classifier-free form at s = 1 + w; the samples are compared
to show it. Checkpoints are reused from outputs/checkpoints (notebook 06 trains the same)."""

from __future__ import annotations

import time

import torch

from benchmarks.recipe_report import grid_name
from minilvdm.core.config import by_profile, get_profile
from minilvdm.core.presets import default_shift
from minilvdm.core.train import pick_weights, sampling_weights
from minilvdm.eval import (
    clip_diversity,
    condition_accuracy,
    frechet_video_distance,
    real_clips,
    recognisability,
)
from minilvdm.methods.lvdm import default_lvdm_config, train_lvdm
from minilvdm.vae import train_vae


def real_by_digit(digits: list[int], per_digit: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Held-out real clips grouped like the samples: `per_digit` clips whose first digit is d."""
    pool, info = real_clips("mnist", 40 * per_digit * len(digits))
    first = info["digits"][:, 0]
    picks = [torch.nonzero(first == d).flatten()[:per_digit] for d in digits]
    if any(len(p) < per_digit for p in picks):
        raise RuntimeError("not enough held-out clips of some digit; enlarge the pool")
    index = torch.cat(picks)
    return pool[index], first[index]


def quick_model(init: str, vae_trainer):
    """(what, trainer, sampled model, cfg) of notebook 06's quick model: trained from scratch (init
    '') or warm-started from the classroom LVDM ('classroom'); raw weights in ci / quick."""
    cfg = default_lvdm_config("mnist", space="latent", conditional=True, init=init)
    trainer, _ = train_lvdm(cfg, vae_trainer=vae_trainer, progress=False)
    what = "warm-started from the classroom LVDM" if init else "from scratch"
    return what, trainer, pick_weights(trainer, sampling_weights()), cfg  # short runs' EMA lags


def sweep(what: str, trainer, model, cfg, real: torch.Tensor) -> tuple[list[str], str]:
    """One model's table rows and its sentence; `real`: the held-out clips grouped like the
    samples (`real_by_digit`)."""
    scales = by_profile(
        ci=[0.0, 3.0], quick=[0.0, 1.0, 2.0, 4.0, 7.0, 10.0, 14.0], full=[0.0, 1.0, 2.0, 4.0, 7.0, 10.0, 14.0]
    )
    digits, _, steps, labels = sweep_sizes()
    rows, samples = [], {}
    for s in scales:
        t0 = time.perf_counter()
        gen = torch.Generator().manual_seed(0)
        videos = model.sample(len(labels), steps=steps, guidance=s, class_label=labels, generator=gen)
        seconds = (time.perf_counter() - t0) / len(labels)
        samples[s] = videos
        acc = condition_accuracy(videos, labels)
        fvd = frechet_video_distance(videos, real)
        div = clip_diversity(videos, groups=len(digits))
        rows.append((s, acc, recognisability(videos), fvd, div, seconds))
    best = max(rows, key=lambda r: (r[1]["accuracy"], -r[0]))[0]  # highest accuracy, then the lower scale
    check_s = scales[-1]
    gen = torch.Generator().manual_seed(0)
    lvdm_form = model.sample(
        len(labels),
        steps=steps,
        guidance=check_s - 1,
        guidance_form="lvdm",
        class_label=labels,
        generator=gen,
    )
    diff = (lvdm_form - samples[check_s]).abs().max().item()
    mark = lambda s: "**" if s == best else ""  # noqa: E731
    table = [
        f"| {what} | {s:g} | {mark(s)}{a['accuracy']:.2f}{mark(s)} | {a['prob']:.3f} | {r:.3f} | {f:.1f} "
        f"| {d:.3f} | {sec:.2f} |"
        for s, a, r, f, d, sec in rows
    ]
    sentence = (
        f"The model {what}: {trainer.step} steps, p_uncond = {cfg.p_uncond}, its "
        f"{'EMA' if model is trainer.ema.module else 'raw'} weights; highest condition accuracy at "
        f"s = {best:g}; LVDM form at w = {check_s - 1:g} vs cfg at s = {check_s:g}: max |difference| of "
        f"the samples {diff:.1e}."
    )
    return table, sentence


def sweep_sizes():
    """(digits, clips per digit, DDIM steps, labels) of every sweep."""
    digits = by_profile(ci=[3, 7], quick=list(range(10)), full=list(range(10)))
    per_digit, steps = by_profile(ci=2, quick=8, full=32), by_profile(ci=2, quick=25, full=50)
    return digits, per_digit, steps, torch.tensor(digits).repeat_interleave(per_digit)


def run() -> str:
    from minilvdm.methods.classroom import classroom_lvdm, warm_start_init

    vae_trainer = train_vae("mnist", progress=False)
    if get_profile() == "ci":  # seconds in ci; quick and full need the long-budget weights here
        classroom_lvdm(vae_trainer, train=True, progress=False)
        classroom_lvdm(vae_trainer, train=True, progress=False, conditional=True)
    digits, per_digit, steps, labels = sweep_sizes()
    real, real_labels = real_by_digit(digits, per_digit)  # generated once for every model
    inits = ["", "classroom"] if warm_start_init("mnist", vae_trainer) else [""]
    models = [quick_model(init, vae_trainer) for init in inits]
    long_budget = classroom_lvdm(vae_trainer, progress=False, conditional=True)
    if long_budget is not None:  # notebook 06's model where the classroom weights are here
        trainer, ema = long_budget
        models.append(("long budget (classroom recipe, from scratch)", trainer, ema, ema.cfg))
    tables, sentences = [], []
    for what, trainer, model, cfg in models:
        table, sentence = sweep(what, trainer, model, cfg, real)
        tables += table
        sentences.append(sentence)
    other = real_clips("mnist", len(labels), part=1)[0]
    grid = grid_name(default_shift("mnist", "flow"))  # the package's (presets.py `sample_shift`)
    real_acc = condition_accuracy(real, real_labels)
    return "\n".join(
        [
            f"### Guidance scale sweep ({len(digits)} digits x {per_digit} clips, DDIM {steps}, {grid} grid, "
            "seed 0)",
            "",
            "| model | cfg scale s (LVDM w = s - 1) | condition accuracy | P(requested digit) "
            "| recognisability | FVD | within-digit diversity | s / clip |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
            *tables,
            f"| real clips (first digit as the label) | - | {real_acc['accuracy']:.2f} "
            f"| {real_acc['prob']:.3f} | {recognisability(real):.3f} "
            f"| {frechet_video_distance(other, real):.1f} (floor) | "
            f"{clip_diversity(real, groups=len(digits)):.3f} | - |",
            "",
            "Bold: each model's highest condition accuracy. Condition accuracy = share of clips "
            "whose frame-averaged P(requested digit) from the digit reader exceeds 0.5; the label is the "
            "clip's first digit (a clip holds two). Recognisability = share of frames in which the digit "
            "reader confidently recognises a digit (top class p > 0.8, as in the `lvdm` section). "
            "FVD against the real clips of the same digits "
            f"({len(real)} vs {len(real)}: dominated by estimator bias, compare rows only). Diversity = mean "
            "pairwise clip-encoder distance among the clips of one digit. Sampling: DDIM at the package's "
            "eta and time grid (presets.py `sample_eta`, `sample_shift`). "
            + " ".join(sentences)
            + f" Profile `{get_profile()}`.",
            "",
        ]
    )
