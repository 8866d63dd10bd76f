"""The recipe study's variants (issue 19): each row's name and its overrides of the package's
short-clip Moving MNIST LVDM, and `build`, which turns a name into its configs. Kept apart from
the training and scoring (`benchmarks.recipe`) and the section's prose (`benchmarks.recipe_report`)."""

from __future__ import annotations

import dataclasses

from minilvdm.core.presets import preset
from minilvdm.diffusion.gaussian import DiffusionConfig
from minilvdm.methods.lvdm import default_data_config, default_lvdm_config, default_train_config

BASE = "v+minsnr+cosine+emawarm"
CLASSROOM = preset("mnist", "quick")  # the classroom model's budget (presets.py) is the LONG row
LONG = f"{BASE}@{CLASSROOM.classroom_train.steps}+clips{CLASSROOM.classroom_clips}"
# name -> overrides: prediction / min_snr / schedule / t_sampling (diffusion), lr_schedule /
# ema_warmup / batch_size / lr (training), clips (distinct training clips), width / attention /
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
    # the learning rate was never swept (1e-3 since the first notebook): with the cosine decay to 0
    # a short run may take a larger peak
    f"{FLOW}+clipctx+selfcond+lr2e-3": {**FLOW_RECIPE, "clip_context": True, "self_cond": True, "lr": 2e-3},
    # its second seed: lr 2e-3 tops the table by point estimate (the rule: two seeds for the best two)
    f"{FLOW}+clipctx+selfcond+lr2e-3+seed1": {
        **FLOW_RECIPE,
        "clip_context": True,
        "self_cond": True,
        "lr": 2e-3,
        "seed": 1,
    },
    # the 15-minute budget on the 2026-12-07 machine: the budget rows' steps come from a step cost
    # kept from an earlier machine (0.343 s for this UNet); this one runs the step at about 0.23 s
    # alone at 2 threads, so 15 wall-minutes here buy about 3,900 steps (its row records its wall time)
    f"{FLOW}+clipctx+selfcond@3900": {
        **FLOW_RECIPE,
        "clip_context": True,
        "self_cond": True,
        "steps": 3900,
        "ckpt_every": 100,
    },
    # capacity in depth at the same width (width 48/64 lost steps without gaining at this budget)
    f"{FLOW}+clipctx+depth2": {**FLOW_RECIPE, "clip_context": True, "res_blocks": 2},
    # the notebooks' budget: today's 1500 steps (about 7 CPU-minutes), the recipe the package adopts
    f"{BASE}@1500": {**RECIPE, "steps": 1500, "ckpt_every": 100},
    f"{FLOW}+clipctx@1500": {**FLOW_RECIPE, "clip_context": True, "steps": 1500, "ckpt_every": 100},
    # the 15-minute winner at the notebooks' budget: what the package adopts (session 20)
    f"{FLOW}+clipctx+selfcond@1500": {
        **FLOW_RECIPE,
        "clip_context": True,
        "self_cond": True,
        "steps": 1500,
        "ckpt_every": 100,
    },
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
# issue 20 allows the headline models about 2 CPU-hours; the classroom model had 10,000 steps
# (38 wall-minutes on the 2026-12-07 machine): twice the steps, its cosine decay stretched to match
LONG_SELFCOND_2X = LONG_SELFCOND.replace(f"@{CLASSROOM.classroom_train.steps}", "@20000")
VARIANTS[LONG_SELFCOND_2X] = {**VARIANTS[LONG_SELFCOND], "steps": 20_000}
# twice the steps bought no recognisability (0.707 against 0.727): is the width-32 network at
# its capacity? 1.5x the width (2.2x the parameters, 0.41 s per step against 0.23 here) at the
# classroom model's 10,000 steps, so the two differ in width alone
LONG_SELFCOND_W48 = f"{LONG_SELFCOND}+width48"
VARIANTS[LONG_SELFCOND_W48] = {**VARIANTS[LONG_SELFCOND], "width": 48}
# the recipe the package's quick Moving MNIST LVDM trains with (presets.py)
ADOPTED = f"{FLOW}+clipctx+selfcond@1500"
BASELINE_DIFFUSION = DiffusionConfig()  # schedule and t sampling of the rows that do not set them
CURVE = (1 / 3, 2 / 3, 1.0)  # fractions of the budget at which the model is scored
SAMPLER_SETTINGS = ((50, 0.0), (50, 1.0), (100, 0.0), (100, 1.0), (250, 1.0))  # (DDIM steps, eta)
LONG_SAMPLERS = ((50, 0.0), (250, 1.0))  # the classroom model's best unguided setting (denoise_depth)
# (DDIM steps, eta, grid shift): the grid shifted towards the noise lifted both short-clip models at
# eta 0 (BENCHMARKS.md `samplers`), on the widest classroom candidate too
WIDE_SAMPLERS = (*LONG_SAMPLERS, (20, 0.0, 3.0), (50, 0.0, 3.0))


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
        lr=over.get("lr", base_train.lr),
        seed=over.get("seed", base_train.seed),
    )
    data_cfg = dataclasses.replace(base_data, count=over.get("clips", base_data.count))
    return cfg, train_cfg, data_cfg


def rows_of(name: str, results: dict, current: dict) -> list[dict]:
    """The scored points of a variant's present config (`current`: {name: config hash}); a
    changed config trains and scores anew."""
    rows = (v for k, v in results.items() if k.split("|")[:2] == [name, current[name]])
    return sorted(rows, key=lambda r: r["step"])


REACH_LEVERS = tuple(
    f"{BASE}+{lever}" for lever in ("joint", "joint+seed1", "gamma1", "gamma1+seed1", "mixed0.5", "clipctx")
)
