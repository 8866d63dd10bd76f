"""Levers for notebook 07's image-to-video track (issue 19, section 2): the image LDM's
recipe and steps, and the lift's steps on top of the chosen image model, each scored by
the digit reader on clips sampled in image mode (independent frames) or video mode.

    python -m benchmarks image_levers --profile quick   # the section (trains what is missing)

Every variant is a checkpoint like any other (reused from outputs/checkpoints); scores are
kept in benchmarks/results/ as they come, so an interrupted run resumes. The per-frame VAE is
the one `image_pipeline` finds: with MINILVDM_WEIGHTS=shipped the shipped one, so the adopted
image model and its lift are the shipped files; otherwise this machine's.
"""

from __future__ import annotations

import dataclasses

from benchmarks import load_results, store_result
from minilvdm.core.config import by_profile, config_hash, get_profile
from minilvdm.core.presets import CONSTANT_SCHEDULE, RECIPE_SCHEDULE
from minilvdm.eval import recognisability
from minilvdm.eval.metrics import bootstrap_ci
from minilvdm.methods.image_to_video import (
    JointConfig,
    clip_latents,
    default_image_train_config,
    default_video_train_config,
    i2v_config,
    i2v_data_config,
    lift,
    sample_clips,
    train_frame_vae,
    train_image_ldm,
    train_video,
)

ADOPTED = "+ min-SNR-5, cosine, EMA warm-up, 3x steps (adopted)"
# name -> (prediction, min-SNR gamma, schedule, steps as a multiple of the quick preset's 800-step base)
IMAGE_VARIANTS = {
    "eps, constant lr, plain EMA (before)": ("eps", 0.0, CONSTANT_SCHEDULE, 1),
    "+ min-SNR-5, cosine, EMA warm-up": ("eps", 5.0, RECIPE_SCHEDULE, 1),
    "eps, constant lr, plain EMA, 3x steps": ("eps", 0.0, CONSTANT_SCHEDULE, 3),
    ADOPTED: ("eps", 5.0, RECIPE_SCHEDULE, 3),
    # session 28: the LVDM's objective, and the adopted recipe for longer
    "flow (the LVDM's rectified flow), cosine, EMA warm-up, 3x steps": ("flow", 0.0, RECIPE_SCHEDULE, 3),
    "+ min-SNR-5, cosine, EMA warm-up, 6x steps": ("eps", 5.0, RECIPE_SCHEDULE, 6),
    "+ min-SNR-5, cosine, EMA warm-up, 9x steps": ("eps", 5.0, RECIPE_SCHEDULE, 9),
}
# (image variant, lift steps as a multiple of the quick preset's), in the table's order
LIFTS = (
    (ADOPTED, 1),
    (ADOPTED, 3),
    ("flow (the LVDM's rectified flow), cosine, EMA warm-up, 3x steps", 1),
    ("+ min-SNR-5, cosine, EMA warm-up, 6x steps", 1),
    ("+ min-SNR-5, cosine, EMA warm-up, 9x steps", 1),
)


def _load() -> dict:
    return load_results("image-levers")


def _store(key: str, value) -> None:
    store_result("image-levers", key, value)


def base_steps() -> int:
    """The image LDM's steps before this study (quick: 800), the unit of the step multiples."""
    return 800 if get_profile() == "quick" else default_image_train_config().steps


def image_configs(name: str):
    """(LVDMConfig, TrainConfig) of an image variant: the preset's sizes and batch."""
    prediction, gamma, schedule, times = IMAGE_VARIANTS[name]
    cfg = i2v_config(video=False, prediction=prediction)
    cfg.diffusion.min_snr_gamma = gamma
    steps, default = base_steps() * times, default_image_train_config()
    # saved every twelfth of the run, at least the preset's interval: the adopted row is then the
    # preset's own config (notebook 07's model, shipped)
    every = max(default.ckpt_every, steps // 12)
    return cfg, dataclasses.replace(default, steps=steps, ckpt_every=every, **schedule)


def lift_config(times: int):
    steps = default_video_train_config().steps * times
    return dataclasses.replace(default_video_train_config(), steps=steps, ckpt_every=max(100, steps // 10))


def score(model, enable_time: bool, n: int, ddim: int) -> list[float]:
    """Recognisability [95% CI] of n 8-frame clips (DDIM `ddim`, the preset's eta, seed 1)."""
    videos = sample_clips(model, n, 8, enable_time=enable_time, steps=ddim, seed=1)
    per_clip = recognisability(videos, reduce=False)
    return [float(v) for v in bootstrap_ci(lambda p: p.mean(), per_clip)]


def lift_sentence(lifts: list, image_scores: dict) -> str:
    """What more lift steps bought on the adopted image model, and what a better image model buys.
    lifts: (image variant, step multiple, score) in LIFTS' order."""
    first, more = lifts[0][2], lifts[1][2]
    best = max(lifts, key=lambda row: row[2][0])
    gained = more[1] > first[2]
    return (
        f"{lifts[1][1] // lifts[0][1]}x the lift's steps on the adopted image model "
        + (f"raised it from {_fmt(first)} to {_fmt(more)}." if gained else f"bought nothing ({_fmt(more)}).")
        + f" The best lift comes from `{best[0]}` (image {_fmt(image_scores[best[0]])}): {_fmt(best[2])}, "
        + ("at or above the target." if best[2][0] >= 0.70 else "below the target.")
        + (
            " Each lift stays below the image model it freezes."
            if all(score[0] < image_scores[name][0] for name, _, score in lifts)
            else ""
        )
    )


def _fmt(triple) -> str:
    return f"{triple[0]:.2f} [{triple[1]:.2f}, {triple[2]:.2f}]"


def run() -> str:
    n, ddim = by_profile(ci=4, quick=48, full=256), by_profile(ci=2, quick=20, full=50)
    vae_trainer = train_frame_vae(progress=False)
    vae, vae_ckpt = vae_trainer.ema.module.eval(), vae_trainer.ckpt_path
    latents = clip_latents(vae, vae_ckpt, i2v_data_config(8), progress=False)
    image_rows, images, image_scores = [], {}, {}
    for name in IMAGE_VARIANTS:
        cfg, train = image_configs(name)
        trainer = train_image_ldm(latents, vae, vae_ckpt, train, progress=True, cfg=cfg)
        images[name] = trainer
        key = f"image|{name}|{config_hash(cfg, train)}|{trainer.ckpt_path.name}"
        if key not in _load():
            _store(key, {"minutes": trainer.seconds / 60, "rec": score(trainer.ema.module, False, n, ddim)})
        row = _load()[key]
        image_scores[name] = row["rec"]
        image_rows.append(f"| {name} | {train.steps} | {row['minutes']:.1f} | {_fmt(row['rec'])} |")
    lift_rows, lifts = [], []
    for name, times in LIFTS:
        image, train = images[name], lift_config(times)
        run_ = train_video(
            lift(image.ema.module),
            latents,
            JointConfig(),
            train,
            base_checkpoint=image.ckpt_path,
            name="i2v-lifted",
        )
        key = f"lift|{times}|{run_.ckpt_path.name}"
        if key not in _load():
            _store(key, {"minutes": run_.seconds / 60, "rec": score(run_.ema.module, True, n, ddim)})
        row = _load()[key]
        lifts.append((name, times, row["rec"]))
        clips = f"{train.steps} x {train.batch_size} clips"
        lift_rows.append(f"| {name} | {clips} | {row['minutes']:.1f} | {_fmt(row['rec'])} |")
    return "\n".join(
        [
            f"Image LDM on single per-frame latents (batch {default_image_train_config().batch_size}), "
            f"scored on {n} clips of 8 independent frames (image mode, DDIM {ddim}, seed 1) by the digit "
            "reader: the share of frames with a confidently read digit [95% bootstrap interval over "
            "clips]; real clips about 0.97. Train minutes: the trainer's own clock, from runs on "
            "different days, alone at 2 threads or beside another job at 1: compare them roughly. "
            f"Per-frame VAE: `{vae_ckpt.name}` (with MINILVDM_WEIGHTS=shipped the shipped one, and the "
            "adopted image model and its 400-step lift are then the shipped files).",
            "",
            "| image LDM | steps | train min | recognisable [95% CI] |",
            "| --- | --- | --- | --- |",
            *image_rows,
            "",
            "The lift (temporal layers only, spatial frozen) on an image model above, scored in video mode "
            "(flow models sample with the flow LVDM's eta and shifted grid, `sample_clips`):",
            "",
            "| image model | lift steps | train min | recognisable [95% CI] |",
            "| --- | --- | --- | --- |",
            *lift_rows,
            "",
            f"Issue 19's target for the lifted model is 0.70. {lift_sentence(lifts, image_scores)} "
            "The quick notebook keeps the shorter lift (the from-scratch comparison trains as many steps, "
            f"and 07 must stay within 15 minutes) and the image model `{ADOPTED}`, and samples the lift "
            "autoguided by that from-scratch UNet (presets.py `lift_autoguidance`; its scores are in the "
            "`image_to_video` section): the sampler's lever, where these rows are the training's.",
        ]
    )
