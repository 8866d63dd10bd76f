"""Autoguidance for the unconditional Moving MNIST LVDM (issue 19): Karras et al. 2024,
"Guiding a diffusion model with a bad version of itself". The sampler mixes the model's
prediction D with a weaker model's D_guide of the same latents, D_guide + w (D - D_guide), as
classifier-free guidance mixes a conditional and an unconditional prediction; it pushes each
step away from the errors the weaker model makes more of.

Two pairs, each scored with 64 clips (DDIM 50, seed 0) against held-out real clips at every scale,
once at the package's eta for flow models (0) and once at eta 1; the scale best at eta 1 again
with DDIM 250 (the recipe's best sampler). Session 20 re-sampled the eta-0 sweep's best scale at
eta 1 instead, and it overshot (w = 3.5: 0.69), while notebook 05's w = 2 at eta 1 read 0.79:
the best scale depends on eta, so both sweeps are measured.
- the classroom model (10,000 steps) guided by the quick model (1,500 steps): both are shipped,
  so with MINILVDM_WEIGHTS=shipped this costs sampling only;
- the recipe's 15-minute winner (`benchmarks.recipe`'s `flow+cosine+emawarm+clipctx+selfcond`
  row) guided by its own EMA at a third of its steps: in one run that snapshot is free, so the pair costs the
  quick budget (the guide is retrained here to its step under its own name);
- the same recipe at the 3,900 steps that 15 wall-minutes buy on the 2026-12-07 machine (the
  recipe's `@3900` row; quick profile only), guided likewise: the model alone, the scale best for its
  2,625-step twin at eta 1 (w = 2) with DDIM 250 at eta 1, the setting that twin did best at, and
  (session 25) w = 2.5 and 3 there and w = 2 on the grid shifted towards the noise: all level
  (0.75-0.77), so 0.80 is out of this model's reach by sampling alone;
- the same model guided by a weaker snapshot, its EMA at step 650 (w = 2 and 3, DDIM 250, eta 1);
- and the classroom pair's two best eta-1 scales again on the package's grid (shift 3, DDIM 50);
- (session 27) guidance on an interval of timesteps only (`guidance_interval`): the classroom
  pair at w = 3 and the 15-minute model at w = 2 and 3, DDIM 50, eta 1;
- (session 29) the quick model guided by a model of half its width trained 500 steps.

    MINILVDM_WEIGHTS=shipped python -m benchmarks autoguidance --profile quick
"""

from __future__ import annotations

import time

import torch

from benchmarks import kept_result
from minilvdm.core.config import by_profile, get_profile
from minilvdm.core.presets import default_eta
from minilvdm.eval import real_clips, score
from minilvdm.eval.metrics import identity_persistence
from minilvdm.methods.classroom import classroom_lvdm
from minilvdm.methods.lvdm import default_lvdm_config, train_lvdm
from minilvdm.vae import train_vae

# 3 was the worst scale of both v-era pairs (BENCHMARKS.md history), but both flow pairs peaked
# at the edge of 1-2.5 (session 19): 3 and 3.5 say whether the peak lies beyond it
SCALES = by_profile(ci=(1.0, 2.0), quick=(1.0, 1.5, 2.0, 2.5, 3.0, 3.5), full=(1.0, 1.5, 2.0, 2.5, 3.0))
STEPS = 50
SWEEP_ETAS = (0.0, 1.0)  # the package's eta for flow models, and the stochastic sampler
LONGER = by_profile(ci=4, quick=250, full=250)  # the scale best at eta 1 again, with more steps
# (w, DDIM steps, eta, time-grid shift[, sampling seed]) of the pairs that are not swept: the model alone, its
# twin's best, then (session 25) the scales the classroom pair peaked at with eta 1 (2.5-3), and
# the grid shifted towards the noise (`LatentVideoDiffusion.sample(shift=)`)
FIXED = (
    (1.0, STEPS, 0.0, 1.0),
    (1.0, LONGER, 1.0, 1.0),
    (2.0, LONGER, 1.0, 1.0),
    (2.5, LONGER, 1.0, 1.0),
    (3.0, LONGER, 1.0, 1.0),
    (2.0, LONGER, 1.0, 3.0),
)
EARLIER_GUIDE = ((2.0, LONGER, 1.0, 1.0), (3.0, LONGER, 1.0, 1.0))  # the same model, guided at 1/6
# the classroom pair's eta-1 sweep's two best scales again on the package's grid (shift 3, session 25)
SHIFTED = ((2.0, STEPS, 1.0, 3.0), (3.0, STEPS, 1.0, 3.0))
# (session 27) guidance on an interval of timesteps only (Kynkaanniemi et al. 2024; the guide is not
# called outside it), (w, steps, eta, shift, seed, (t_low, t_high)): the classroom pair's best eta-1
# scale without guidance at the noisiest or the cleanest steps, and the 15-minute model's at DDIM 50
INTERVALS = tuple((3.0, STEPS, 1.0, 1.0, 0, span) for span in ((200, 999), (400, 999), (0, 800)))
# (session 29) the quick model guided by a model of half its width trained presets.py
# `autoguide_train` steps: the scales around its best (2), and 2 on [200, 999] only; DDIM 50, eta 1
SMALL = tuple((w, STEPS, 1.0, 1.0) for w in (1.0, 1.5, 2.0, 2.5)) + ((2.0, STEPS, 1.0, 1.0, 0, (200, 999)),)
INTERVALS_15 = (
    (2.0, STEPS, 1.0, 1.0),
    (2.0, STEPS, 1.0, 1.0, 0, (200, 999)),
    (3.0, STEPS, 1.0, 1.0, 0, (200, 999)),
)


def pairs(vae_trainer) -> list[tuple[str, str, object, str, bool, tuple]]:
    """(name, guide's description, a function that returns (model, guide), the two checkpoints'
    names and steps, whether to sweep the scales, the fixed settings): EMA weights throughout. The
    recipe pairs train only when a row is not kept yet (a fresh machine has no checkpoints)."""
    from benchmarks.recipe import budget_seconds
    from benchmarks.recipe_variants import FLOW

    row = f"{FLOW}+clipctx+selfcond"

    out = []
    classroom = classroom_lvdm(vae_trainer, progress=False)
    if classroom is not None:
        quick = train_lvdm(default_lvdm_config("mnist"), vae_trainer=vae_trainer, progress=False)
        ids = _ids(classroom[0].ckpt_path, classroom[0].step, quick[0].ckpt_path, quick[0].step)
        load = lambda: (classroom[1], quick[1])  # noqa: E731  (shipped: loaded already)
        pair = (
            "classroom (10,000 steps)",
            "the quick model (1,500 steps)",
            load,
            ids,
            True,
            SHIFTED + INTERVALS,
        )
        out.append(pair)
    out.append(_recipe_pair(row, vae_trainer, f"{budget_seconds() / 60:.3g} min", ()))
    if get_profile() == "quick":  # a statement about the quick budget on one machine: not a wiring check
        today = "15 wall-minutes on the 2026-12-07 machine"
        out.append(_recipe_pair(f"{row}@3900", vae_trainer, today, FIXED + INTERVALS_15))
        # a weaker guide pushes further (Karras et al. guide with a model trained far less)
        later = EARLIER_GUIDE + INTERVALS_15[1:]
        out.append(_recipe_pair(f"{row}@3900", vae_trainer, today, later, guide_step=650))
    out.append(_small_guide_pair(vae_trainer))
    return out


def _small_guide_pair(vae_trainer):
    """The quick model (1,500 steps) guided by `methods.autoguide.small_guide`: a model of its
    kind at half its width (quick: 16 against 32), trained `autoguide_train` steps (Karras et
    al.'s guide: less capacity and less training); quick: 1.7 train-minutes beside the quick
    model's ~10 on the 2026-12-07 machine."""
    import functools

    from minilvdm.core.train import checkpoint_path
    from minilvdm.methods.autoguide import small_guide, small_guide_configs
    from minilvdm.methods.lvdm import checkpoint_configs, default_data_config, default_train_config

    cfg = default_lvdm_config("mnist")
    guide_cfg, guide_train, name = small_guide_configs("mnist")
    quick_train, data_cfg = default_train_config("latent", "mnist"), default_data_config("mnist")
    ids = _ids(
        checkpoint_path("lvdm-latent-mnist", *checkpoint_configs(cfg, quick_train, data_cfg, vae_trainer)),
        quick_train.steps,
        checkpoint_path(name, *checkpoint_configs(guide_cfg, guide_train, data_cfg, vae_trainer)),
        guide_train.steps,
    )

    @functools.cache
    def load():
        model = train_lvdm(cfg, vae_trainer=vae_trainer, progress=False)[1]
        return model, small_guide(vae_trainer)[1]

    width = guide_cfg.unet.model_channels
    guide_text = f"a width-{width} model of its kind trained {guide_train.steps} steps"
    return f"the quick model ({quick_train.steps:,} steps)", guide_text, load, ids, False, SMALL


def _recipe_pair(row: str, vae_trainer, budget: str, fixed: tuple, guide_step: int | None = None):
    """A recipe row's final EMA guided by its own EMA at a third of its steps, or `guide_step`
    (retrained to that step under its own name), trained when first asked for."""
    import functools

    from benchmarks.recipe import budgeted
    from benchmarks.recipe_variants import CURVE
    from minilvdm.core.train import checkpoint_path
    from minilvdm.methods.lvdm import checkpoint_configs

    cfg, train_cfg, data_cfg = budgeted(row, vae_trainer.ema.module)
    third = max(1, round(train_cfg.steps * CURVE[0]))
    until = guide_step or third
    guide_name = f"autoguide-{row}" if until == third else f"autoguide@{until}-{row}"
    configs = checkpoint_configs(cfg, train_cfg, data_cfg, vae_trainer)
    ids = _ids(
        checkpoint_path(f"recipe-{row}", *configs),
        train_cfg.steps,
        checkpoint_path(guide_name, *configs),
        until,
    )

    @functools.cache
    def load():
        model = train_lvdm(cfg, train_cfg, data_cfg, vae_trainer, name=f"recipe-{row}", progress=True)[1]
        guide_run = dict(name=guide_name, progress=True, until=until)
        return model, train_lvdm(cfg, train_cfg, data_cfg, vae_trainer, **guide_run)[1]

    name = f"recipe `{row}` ({budget}, {train_cfg.steps} steps)"
    return name, f"its EMA at step {until}", load, ids, not fixed, fixed


def _ids(path, step: int, guide_path, guide_step: int) -> str:
    return f"{path.name}@{step}+{guide_path.name}@{guide_step}"


def _scored_row(
    ids: str,
    label: str,
    load,
    w: float,
    steps: int,
    eta: float,
    n: int,
    real,
    floor,
    shift: float = 1.0,
    seed: int = 0,
    interval: tuple[int, int] | None = None,
):
    """(table row, recognisability) of one setting, kept in benchmarks/results as it is done (an
    interrupted run resumes at the next row; other weights have other checkpoint names)."""

    def compute():
        sampled = _sampled(*load(), w, steps, eta, n, shift, seed, interval)
        line, rec = _row(label, *sampled, real, floor)
        return {"line": line, "rec": rec}

    # the even grid, seed 0 and no interval keep the keys kept before each was a setting
    grid = (f"|shift{shift:g}" if shift != 1.0 else "") + (f"|seed{seed}" if seed else "")
    grid += f"|interval{interval[0]}-{interval[1]}" if interval else ""
    done = kept_result("autoguidance", f"{ids}|{w}|{steps}|{eta}|{n}{grid}", compute)
    # a row kept before the eta sweep was added has an older label: the first cell is this one's
    return f"| {label} |" + done["line"].split("|", 2)[2], done["rec"]


def _sampled(
    model, guide, w: float, steps: int, eta: float, n: int, shift: float = 1.0, seed: int = 0, interval=None
) -> tuple[torch.Tensor, float]:
    """n clips at scale w (1: the model alone, no guide) and the seconds per clip."""
    t0 = time.perf_counter()
    guided = {"guide": guide, "guidance": w, "guidance_interval": interval} if w != 1.0 else {}
    generator = torch.Generator().manual_seed(seed)
    videos = model.sample(n, steps=steps, eta=eta, shift=shift, generator=generator, **guided)
    return videos, (time.perf_counter() - t0) / n


def _row(label: str, videos: torch.Tensor, seconds: float, real: torch.Tensor, floor: float):
    """(table row, recognisability)."""
    result = score(videos, real, dataset="mnist")
    rec, fvd = result["recognisability"], result["fvd"]
    kept = identity_persistence(videos, segment=videos.shape[2] // 2)[-1].item()
    line = (
        f"| {label} | {rec[0]:.3f} [{rec[1]:.3f}, {rec[2]:.3f}] | {fvd[0] / floor:.2f} | {kept:.3f} "
        f"| {seconds:.2f} |"
    )
    return line, rec[0]


def run() -> str:
    vae_trainer = train_vae("mnist")
    n = by_profile(ci=4, quick=64, full=256)
    eta = default_eta("mnist", "flow")
    real, other = real_clips("mnist", n)[0], real_clips("mnist", n, part=1)[0]
    real_scores = score(other, real, dataset="mnist")
    floor, real_rec = real_scores["fvd"][0], real_scores["recognisability"][0]
    lines = [
        f"{n} clips per row (DDIM {STEPS}, eta {eta:g}: presets.py `sample_eta`, or eta 1 where the row "
        f"says; sampling seed 0 unless the row says) against {n} held-out real clips; the scale best at "
        f"eta 1 again with DDIM {LONGER}. "
        f"FVD floor (real vs real) {floor:.1f}; real clips' recognisability {real_rec:.3f}. Scale 1 is the "
        "model alone; w > 1 samples with D_guide + w (D - D_guide), two UNet calls per step. EMA "
        "weights for both models.",
        "",
    ]
    for name, guide_text, load, ids, sweep, fixed in pairs(vae_trainer):
        lines += [
            f"### {name}, guided by {guide_text}",
            "",
            "| scale w | recognisability [95% CI] | FVD / floor | identity kept | s / clip |",
            "| --- | --- | --- | --- | --- |",
        ]
        if sweep:
            best, best_rec = 1.0, -1.0
            for sweep_eta in SWEEP_ETAS:
                for w in SCALES:
                    label = f"{w:g}" if sweep_eta == eta else f"{w:g} (eta {sweep_eta:g})"
                    line, rec = _scored_row(ids, label, load, w, STEPS, sweep_eta, n, real, floor)
                    lines.append(line)
                    if sweep_eta == 1.0 and rec > best_rec:
                        best, best_rec = w, rec
            label = f"{best:g} (DDIM {LONGER}, eta 1)"
            lines.append(_scored_row(ids, label, load, best, LONGER, 1.0, n, real, floor)[0])
        for w, steps, row_eta, shift, *extra in fixed:
            seed, interval = (extra + [0, None])[:2]
            notes = [f"DDIM {steps}, eta {row_eta:g}"] if (steps, row_eta) != (STEPS, eta) else []
            notes += [f"shift {shift:g}"] if shift != 1.0 else []
            notes += [f"sampling seed {seed}"] if seed else []
            notes += [f"guided at t in [{interval[0]}, {interval[1]}] only"] if interval else []
            label = f"{w:g}" + (f" ({', '.join(notes)})" if notes else "")
            row = _scored_row(ids, label, load, w, steps, row_eta, n, real, floor, shift, seed, interval)
            lines.append(row[0])
        lines.append("")
    lines.append(
        "Identity kept: `identity_persistence` of the two 8-frame halves (real clips about 0.92). "
        "s / clip: sampling and decoding on this machine's cores as they were shared at the time. "
        "'Guided at t in [a, b] only': the sampler mixes in the guide at timesteps a <= t <= b of the "
        "1000-step schedule and uses the model alone elsewhere (`guidance_interval`, Kynkaanniemi et "
        "al. 2024), so fewer UNet calls."
    )
    return "\n".join(lines)
