"""Issue 19's class-conditional target, condition accuracy >= 0.80 at the quick budget: the quick
model trained from scratch (notebook 06's model where the shipped weights are not here) at the
guidance scale its `guidance` sweep found best, on more clips than that sweep's 80, for a
narrower interval. Reuses the `guidance` section's checkpoint (outputs/checkpoints)."""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from benchmarks.guidance import quick_model, sweep_sizes
from benchmarks.recipe_report import grid_name
from minilvdm.core.config import by_profile, get_profile
from minilvdm.core.presets import default_shift
from minilvdm.eval import condition_accuracy, recognisability
from minilvdm.eval.claims import proportion
from minilvdm.vae import train_vae

SCALE = 7.0  # the `guidance` sweep's best for this model on the shifted grid (0.77 of 80; 2026-12-07)
BATCH = 40


def run() -> str:
    vae_trainer = train_vae("mnist", progress=False)
    what, trainer, model, _ = quick_model("", vae_trainer)
    per_digit = by_profile(ci=1, quick=24, full=24)
    labels = torch.arange(10).repeat_interleave(per_digit)
    steps = sweep_sizes()[2]
    hits, frames = 0.0, []
    # seeds 1, 41, ...: other noise than the sweep's (seed 0), so its 80 clips are not among these
    for start in tqdm(range(0, len(labels), BATCH), desc="batches"):
        batch = labels[start : start + BATCH]
        gen = torch.Generator().manual_seed(1 + start)
        videos = model.sample(len(batch), steps=steps, guidance=SCALE, class_label=batch, generator=gen)
        hits += condition_accuracy(videos, batch)["accuracy"] * len(batch)
        frames.append(recognisability(videos, reduce=False))
    n = len(labels)
    share, low, high = proportion(round(hits) / n, n)
    rec = torch.cat(frames).float().mean().item()
    grid = grid_name(default_shift("mnist", "flow"))
    accuracy = f"{share:.3f} [{low:.3f}, {high:.3f}]"
    return "\n".join(
        [
            f"### The quick class-conditional model at s = {SCALE:g} ({n} clips, DDIM {steps}, {grid} grid)",
            "",
            "| model | steps | cfg scale s | condition accuracy [95% Wilson] | recognisability | target |",
            "| --- | --- | --- | --- | --- | --- |",
            f"| {what} | {trainer.step} | {SCALE:g} | {accuracy} | {rec:.3f} | 0.80 |",
            "",
            f"{round(hits)} of {n} clips ({per_digit} per digit 0-9) show the requested digit: the clip's "
            "frame-averaged P(requested digit) from the digit reader exceeds 0.5, as in the `guidance` "
            f"section, whose sweep over s (80 clips, seed 0) picked s = {SCALE:g}; these clips are drawn "
            f"from other seeds. Raw weights (`train.sampling_weights`), profile `{get_profile()}`. "
            "The steps are presets.py `cond_train` (since session 29 2,000, a third more than the "
            "unconditional LVDM's, after 3,000 made notebook 06 too slow; the `guidance` sweep "
            "picked s = 7 on the 1,500-step model and again on the 2,000-step one, session 30). "
            "Earlier runs of "
            "this protocol: 1,500 steps 0.796 [0.740, 0.842] and 3,000 steps 0.904 [0.860, 0.935] "
            "(session 28), 1,999 steps 0.854 [0.804, 0.893] (a session script, session 29).",
        ]
    )
