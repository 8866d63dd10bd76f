"""Every size, step and count the pipeline uses, per profile and data set: the one place to
read or change them.

    from minilvdm.core.presets import preset
    p = preset("mnist")                  # the active profile; preset("sky", "full") for another
    p.lvdm_train.steps, p.unet.model_channels, p.eval_clips

Each profile is one function below (`ci`, `quick`, `full`); where Moving MNIST and sky differ
it says `x if sky else y` (the 'folder' data set of your own videos takes the sky sizes).
Entries are plain numbers or small frozen records of keyword arguments for the configs the
modules build (`TrainConfig(**p.lvdm_train.kwargs())`); a field left at None keeps that
config's default. This module imports nothing of the package but `config`, so every
module's `default_*` function can read it; values derived from others (latent channels,
keyframe stride, ...) are derived where the configs are built, never written here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .config import get_profile


@dataclass(frozen=True)
class Kwargs:
    """Keyword arguments for a config; None = that config's default."""

    def kwargs(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) is not None
        }


@dataclass(frozen=True)
class Train(Kwargs):  # -> train.TrainConfig
    steps: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    warmup: int | None = None
    ema_decay: float | None = None
    ckpt_every: int | None = None
    lr_schedule: str | None = None  # 'constant' | 'cosine'
    min_lr_ratio: float | None = None
    ema_warmup: bool | None = None


@dataclass(frozen=True)
class UNet(Kwargs):  # -> unet.UNetConfig
    model_channels: int | None = None
    channel_mult: tuple | None = None
    num_res_blocks: int | None = None
    attention_resolutions: tuple | None = None
    head_channels: int | None = None


@dataclass(frozen=True)
class VAE(Kwargs):  # -> vae.VAEConfig
    in_channels: int | None = None
    latent_channels: int | None = None
    time_factor: int | None = None
    base_channels: int | None = None
    block: str | None = None
    time_upsample: str | None = None  # 'nearest' | 'linear'
    patch_size: int | None = None
    recon: str | None = None


@dataclass(frozen=True)
class Diffusion(Kwargs):  # -> diffusion.DiffusionConfig
    num_steps: int | None = None
    prediction: str | None = None  # 'eps' | 'x0' | 'v' | 'flow'
    min_snr_gamma: float | None = None
    schedule: str | None = None  # 'linear' | 'scaled_linear' | 'cosine' | 'rectified_flow'
    t_sampling: str | None = None  # 'uniform' | 'logit_normal'


@dataclass(frozen=True)
class SkySet(Kwargs):  # -> data.sky.SyntheticSkyConfig: the synthetic skies written to disk
    videos: int | None = None
    clips_per_video: int | None = None
    frames_per_clip: int | None = None
    size: int | None = None


# ----------------------------------------------------------------- per data set, every profile
# The VAE's layout: Moving MNIST 1x16x64x64 -> 2x8x16x16, sky 3x16x64x64 -> 4x4x16x16 (why:
# vae.default_vae_config). The image-to-video track pins its per-frame VAE (time x1, 4 channels).
# Sky: time x4 with a repeating (nearest) time upsampling held each latent frame's 4 frames still
# and jumped at the next (reconstructions' change 0.004 inside, 0.034 across, real skies 0.012
# at every step); interpolating ('linear') gives 0.008-0.012 everywhere at the same PSNR
# (BENCHMARKS.md `sky`). Moving MNIST's time x2 decoder reconstructs evenly with 'nearest'.
VAE_LAYOUT = {
    "mnist": VAE(in_channels=1, latent_channels=2, time_factor=2, block="full"),
    "sky": VAE(in_channels=3, latent_channels=4, time_factor=4, block="full", time_upsample="linear"),
}
FRAME_VAE_LAYOUT = VAE(time_factor=1, latent_channels=4)
CLASSES = 10  # the conditional model's classes: the first digit
# The training half of the recipe study's winner (BENCHMARKS.md `recipe`): cosine decay to 0
# after the warm-up, EMA with warm-up; and what a model keeps until it is measured with it.
RECIPE_SCHEDULE = dict(lr_schedule="cosine", min_lr_ratio=0.0, ema_warmup=True)
CONSTANT_SCHEDULE = dict(lr_schedule="constant", min_lr_ratio=0.0, ema_warmup=False)

# Long videos, in pixel frames: keyframe spacing and training clip length (why: long_models).
LONG_KEYFRAME_SPACING = {"mnist": 16, "sky": 8}
LONG_CLIP_FRAMES = {"mnist": 64, "sky": 32}


@dataclass(frozen=True)
class Preset:
    # data
    video_size: int  # frame side the models train at
    short_frames: int  # frames per short training clip: VAE, image-to-video track, decoder fine-tuning
    vae_crop: int  # > 0: the VAE trains on random crop x crop windows
    lvdm_clips: int  # training clips of the short-clip models (sky, folder: capped at what they hold)
    sky_synthetic: SkySet
    # VAE
    vae: VAE  # on top of VAE_LAYOUT[dataset]
    vae_train: Train
    scale_clips: int  # clips the latent scale factor is estimated on
    # short-clip LVDM (latent and pixel baseline, unconditional and conditional), VideoFusion
    unet: UNet  # UNetConfig.for_profile: every video UNet but the image-to-video track's
    clip_context: bool  # the LVDMs' UNets (short-clip, pixel, long-video): pool the clip into every frame
    # the short-clip LVDMs (latent and pixel, unconditional and conditional): self-conditioning,
    # the network also reads its own last clean estimate (BENCHMARKS.md `recipe`: at the classroom
    # budget 0.727 against 0.645 without it and clip context, disjoint intervals; 0.605 / 0.640
    # on two seeds at 15 minutes against 0.582). The long-video pairs too, their estimate before
    # their keyframe channels (BENCHMARKS.md `long_classroom`: lowest 128-frame window 0.82
    # against 0.74 for the class-conditional pair, 0.64 against 0.54 autoguided unconditional; 3 videos each)
    self_condition: bool
    diffusion: Diffusion  # LVDM; the other models take its num_steps
    # min-SNR weighting of the models that predict noise whatever `diffusion` predicts:
    # VideoFusion (its decomposition is written in noises) and the image-to-video track
    # (VideoFusion's image base starts from its image LDM)
    noise_min_snr_gamma: float
    lvdm_train: Train  # also the pixel baseline's (its steps then follow the latent model's cost)
    videofusion_train: Train  # the lambda ablation: lvdm_train with these fields replaced
    # the class-conditional short-clip LVDM (not the classroom's): lvdm_train with these replaced
    cond_train: Train
    classroom_train: Train  # the shipped long-budget short-clip LVDM: lvdm_train with these replaced
    classroom_clips: int  # its distinct training clips
    # the short-clip LVDM's autoguide (Karras et al. 2024: a weaker model of its kind), half its
    # width (`methods.autoguide`): lvdm_train with these replaced, and the scale w it samples at
    # (D_guide + w (D - D_guide)). Moving MNIST quick, 64 clips, DDIM 50, eta 1: 0.59 -> 0.77
    # recognisable at w = 2 with a 500-step guide (1.7 train-minutes; BENCHMARKS.md `autoguidance`).
    # Session scripts: a 250-step guide read 0.76, a 1,000-step one 0.67, and a 700-step guide
    # beside a 2,200-step model 0.69 (session 30): the guide must stay weak
    autoguide_train: Train
    autoguidance: float
    # image model and lift (image-to-video track, Moving MNIST only)
    frame_vae_train: Train
    frame_vae_frames: int
    i2v_unet: UNet
    i2v_clips: int
    image_train: Train
    lift_train: Train
    # the lift's sampling scale with the video UNet trained from scratch (notebook 07's comparison) as
    # its autoguide, u_scratch + w (u_lift - u_scratch); 1 = the lift alone. Moving MNIST quick, 48
    # clips, DDIM 20: 0.60 -> 0.77 recognisable at 2 (picked on other seeds: 0.65 -> 0.79; session 29)
    lift_autoguidance: float
    shift_train: Train  # LaVie's forgetting: continued training on thick digits
    shift_clips: int
    decoder_train: Train  # Video LDM's temporal decoder fine-tuning
    flicker_clips: int
    # prediction and interpolation models, long-video generation (the demo)
    long_train: Train
    long_clips: int
    classroom_long_train: Train  # the long-budget pair (Moving MNIST; not shipped): long_train + these
    classroom_long_clips: int  # its distinct training clips
    long_frames: int
    long_steps: int  # DDIM steps per model call
    long_videos: int
    # evaluation and the demo's sampling
    eval_clips: int  # held-out clips (VAE PSNR, ...)
    sample_clips: int  # clips the demo generates and scores
    sample_steps: int  # their DDIM steps
    # DDIM's eta for the package's samples (model.sample, long videos): 0 is deterministic (on
    # rectified flow exactly Euler), 1 is DDPM's variance on the DDIM grid. Moving MNIST's flow
    # models: 0 (BENCHMARKS.md `samplers`: the classroom model 0.646 at eta 0 against 0.537 at
    # eta 1 with 20 steps, disjoint intervals, 0.675 against 0.628 with 50; the quick model level,
    # 0.50 / 0.51 and 0.53 / 0.55). Skies: long time-lapses calmer at 1 (frame change 1.40x real
    # clips' against 2.85x at 0; BENCHMARKS.md `sky`, continuity table); short clips were level
    # (FVD 49.6 at 0, 46.0 at 1) with the earlier, time-repeating sky VAE
    sample_eta: float
    # the time grid DDIM takes `steps` on, for the same flow models: > 1 moves the steps towards the
    # noisy end, where denoise_depth saw the digits decided (`shifted_timesteps`, SD3's shift). Moving
    # MNIST: 3 (BENCHMARKS.md `samplers`, eta 0: the classroom model 0.668 -> 0.728 at DDIM 20, 0.729
    # -> 0.759 at 50; the quick model 0.526 -> 0.578, 0.581 -> 0.624; level at DDIM 250 or eta 1);
    # skies and the full profile: 1, the even grid (not measured there)
    sample_shift: float
    # the same for the models written in noises (eps: VideoFusion, the image LDM's lift): 1, as
    # for the v / eps LVDMs before flow (the v classroom model 0.59 at eta 0 -> 0.70 at eta 1 with
    # 100 steps, BENCHMARKS.md `denoise_depth`; the lift 0.23 -> 0.38 at 20 steps, session 12)
    noise_sample_eta: float
    drift_real_clips: int  # real clips the long videos' blocks are compared with
    cache_clips: int  # `vae --cache`: clips encoded to the latent cache
    throughput_clips: int  # `data`: clips timed per data set
    sampling_weights: str  # 'raw' or 'ema': what short runs sample with (train.sampling_weights)
    # the notebooks' own models and runs
    toy_diffusion_steps: int  # 02: the one-digit 16x16 image diffusion model
    toy_unet: UNet
    toy_train: Train
    vae_sweep_steps: int  # 01: each run of the KL-weight sweep
    notebook_long_frames: int  # 09 (mnist) and 10 (sky): the long video generated
    notebook_long_steps: int


def ci(sky: bool) -> Preset:
    """Seconds per notebook: checks the wiring, results are noise."""
    return Preset(
        video_size=64,
        short_frames=4,
        vae_crop=32,  # 4x less compute per clip
        lvdm_clips=8,
        sky_synthetic=SkySet(videos=3, clips_per_video=1, frames_per_clip=32, size=64),  # 32: long models fit
        vae=VAE(base_channels=8, patch_size=2, recon="l2"),
        vae_train=Train(steps=6, batch_size=2, lr=1e-3, ema_decay=0.9, ckpt_every=1000),
        scale_clips=4,
        unet=UNet(model_channels=16, channel_mult=(1, 2), attention_resolutions=(2,), head_channels=16),
        clip_context=False,
        self_condition=not sky,  # the quick profile's wiring, checked in seconds
        diffusion=Diffusion(num_steps=100, prediction="eps", min_snr_gamma=0.0),
        noise_min_snr_gamma=0.0,
        lvdm_train=Train(
            steps=4,
            batch_size=2,
            lr=1e-3,
            warmup=0,
            ema_decay=0.9,
            ckpt_every=1000,
            **CONSTANT_SCHEDULE,
        ),
        videofusion_train=Train(steps=2),
        cond_train=Train(),
        classroom_train=Train(steps=6),
        classroom_clips=8,
        autoguide_train=Train(steps=2, ckpt_every=50),
        autoguidance=2.0,
        frame_vae_train=Train(steps=6, batch_size=2, lr=1e-3, ema_decay=0.9, ckpt_every=1000),
        frame_vae_frames=2,
        i2v_unet=UNet(model_channels=16, channel_mult=(1, 2), attention_resolutions=(2,), head_channels=16),
        i2v_clips=8,
        image_train=Train(steps=4, batch_size=4, lr=1e-3, ema_decay=0.9, ckpt_every=1000),
        lift_train=Train(steps=3, batch_size=2, lr=1e-3, ema_decay=0.9, ckpt_every=1000),
        lift_autoguidance=2.0,
        shift_train=Train(steps=2, batch_size=2, lr=1e-3, ema_decay=0.9, ckpt_every=1000),
        shift_clips=8,
        decoder_train=Train(steps=4, batch_size=2, lr=2e-4, ema_decay=0.9, ckpt_every=1000),
        flicker_clips=4,
        long_train=Train(steps=4, batch_size=2, lr=1e-3, ema_decay=0.9, ckpt_every=1000),
        long_clips=4,
        classroom_long_train=Train(steps=6),
        classroom_long_clips=4,
        long_frames=128,
        long_steps=2,
        long_videos=2,
        eval_clips=4,
        sample_clips=4,
        sample_steps=2,
        sample_eta=1.0,
        sample_shift=1.0 if sky else 3.0,  # the quick profile's wiring
        noise_sample_eta=1.0,
        drift_real_clips=16,
        cache_clips=8,
        throughput_clips=16,
        sampling_weights="raw",
        toy_diffusion_steps=50,
        toy_unet=UNet(model_channels=16, channel_mult=(1, 2), attention_resolutions=(2,), head_channels=16),
        toy_train=Train(steps=8, batch_size=8, lr=1e-3, warmup=50, ema_decay=0.9, ckpt_every=500),
        vae_sweep_steps=2,
        notebook_long_frames=512 if sky else 64,
        notebook_long_steps=2,
    )


def quick(sky: bool) -> Preset:
    """Minutes on a 2-core CPU: results a person can recognise. Skies are smooth: fewer steps,
    and a short EMA window (a long one averages incompatible weights of so short a run)."""
    return Preset(
        video_size=64,
        short_frames=8,
        vae_crop=0,
        lvdm_clips=1024,
        sky_synthetic=SkySet(videos=24, clips_per_video=2, frames_per_clip=32, size=96),
        vae=VAE(base_channels=16, patch_size=2, recon="l2"),  # L2: L1 sits at the black median of digits
        vae_train=Train(  # 4500: the time-x2 Moving MNIST VAE past 26 dB
            steps=600 if sky else 4500, batch_size=4, lr=2e-3, warmup=20, ema_decay=0.99, ckpt_every=50
        ),
        scale_clips=64,
        # Moving MNIST: the recipe study's winner (BENCHMARKS.md `recipe`, `flow+cosine+emawarm+clipctx`):
        # rectified flow (velocity eps - x0, s evenly spaced, logit-normal t; sampled with DDIM,
        # whose eta-0 step is Euler's), clip context, cosine decay, EMA warm-up.
        # Skies keep eps / constant until it is measured on them.
        unet=UNet(model_channels=32, channel_mult=(1, 2, 2), attention_resolutions=(2, 4)),
        clip_context=not sky,
        self_condition=not sky,
        diffusion=(
            Diffusion(num_steps=1000, prediction="eps", min_snr_gamma=0.0)
            if sky
            else Diffusion(
                num_steps=1000,
                prediction="flow",
                min_snr_gamma=0.0,
                schedule="rectified_flow",
                t_sampling="logit_normal",
            )
        ),
        noise_min_snr_gamma=5.0,
        lvdm_train=Train(
            steps=500 if sky else 1500,  # mnist: about 7 CPU-minutes, what a notebook affords
            batch_size=8,
            lr=1e-3,
            warmup=50,
            ema_decay=0.9 if sky else 0.995,
            ckpt_every=100,
            **(CONSTANT_SCHEDULE if sky else RECIPE_SCHEDULE),
        ),
        # the lambda ablation: the LVDM's schedule (cosine decay, EMA warm-up) over 300 steps; a
        # plain EMA at 0.995 would still hold 0.995^300 = 22% of the first step's near-random
        # weights, which is what a shipped (EMA-only) copy would give where training samples raw
        videofusion_train=Train(steps=300, ckpt_every=50),
        # a third more than the LVDM's steps: the label needs them (BENCHMARKS.md `cond_accuracy`, s = 7,
        # 240 clips: condition accuracy 0.80 [0.74, 0.84] at 1500, 0.85 [0.80, 0.89] at 1999 (session
        # 29) and 0.90 [0.86, 0.94] at 3000, whose notebook 06 took 20.8 min on a slow run: over 15)
        cond_train=Train() if sky else Train(steps=2000),
        # about 45 minutes at 2 threads (81 at one thread beside its class-conditional twin)
        classroom_train=Train(steps=10_000, ckpt_every=250),
        classroom_clips=4096,
        autoguide_train=Train(steps=500, ckpt_every=100),
        autoguidance=2.0,
        frame_vae_train=Train(steps=1000, batch_size=8, lr=2e-3, warmup=20, ema_decay=0.99, ckpt_every=100),
        frame_vae_frames=2,
        i2v_unet=UNet(model_channels=32, channel_mult=(1, 2), attention_resolutions=(2,), head_channels=32),
        i2v_clips=512,
        # the recipe's training half and 3x the steps (6.7 min at one thread beside another job): frames
        # 0.37 -> 0.69 recognisable, mostly the steps (BENCHMARKS.md `image_levers`: the old recipe
        # at 2400 steps 0.65, the new one at 800 steps 0.33)
        image_train=Train(
            steps=2400, batch_size=32, lr=1e-3, warmup=50, ema_decay=0.99, ckpt_every=200, **RECIPE_SCHEDULE
        ),
        # the recipe study's training half (cosine to 0, EMA warm-up); the diffusion is the image
        # model's (eps with the LVDM's min-SNR: VideoFusion's bases in 08 start from that image LDM)
        lift_train=Train(
            steps=400,
            batch_size=4,
            lr=1e-3,
            warmup=20,
            ema_decay=0.99,
            ckpt_every=100,
            **RECIPE_SCHEDULE,
        ),
        lift_autoguidance=2.0,
        shift_train=Train(steps=200, batch_size=4, lr=5e-4, warmup=10, ema_decay=0.98, ckpt_every=100),
        shift_clips=256,
        decoder_train=Train(steps=100, batch_size=4, lr=2e-4, ema_decay=0.95, ckpt_every=50),
        flicker_clips=64,
        long_train=Train(  # Moving MNIST: the short-clip LVDM's recipe (diffusion: `diffusion` above)
            steps=300 if sky else 400,
            batch_size=8,
            lr=1e-3,
            warmup=50,
            ema_decay=0.9 if sky else 0.995,
            ckpt_every=100,
            **(CONSTANT_SCHEDULE if sky else RECIPE_SCHEDULE),
        ),
        long_clips=512,
        # 10x the quick pair's steps on 4x the clips, warm-started from the classroom LVDM: 18
        # (predict) and 36 (interp) minutes at one thread; no better than the quick pair
        # (BENCHMARKS.md `long_classroom`)
        classroom_long_train=Train(steps=4000, ckpt_every=250),
        classroom_long_clips=2048,
        long_frames=512,
        long_steps=20,
        long_videos=2,
        eval_clips=64,
        sample_clips=64,
        sample_steps=50,
        sample_eta=1.0 if sky else 0.0,  # Moving MNIST: its flow models (the field says why)
        sample_shift=1.0 if sky else 3.0,
        noise_sample_eta=1.0,
        drift_real_clips=256,
        cache_clips=512,
        throughput_clips=256,
        sampling_weights="raw",  # the EMA of so short a run still holds much of the random init
        toy_diffusion_steps=1000,
        toy_unet=UNet(model_channels=32, channel_mult=(1, 2), attention_resolutions=(2,), head_channels=16),
        toy_train=Train(steps=500, batch_size=32, lr=1e-3, warmup=50, ema_decay=0.995, ckpt_every=500),
        vae_sweep_steps=150,
        notebook_long_frames=512 if sky else 1024,
        # 09 samples two 1024-frame videos and 3 drift settings: 8 DDIM steps keep it within 3 minutes
        # with shipped weights on 2 cores (at 10: 3.8 min with 4 settings; BENCHMARKS.md `long_video`
        # samples at 10)
        notebook_long_steps=20 if sky else 8,
    )


def full(sky: bool) -> Preset:
    """One GPU. Skies train at 128x128 (LVDM and VideoFusion report SkyTimelapse at 256x256)."""
    return Preset(
        video_size=128 if sky else 64,
        short_frames=16,
        vae_crop=0,
        lvdm_clips=20_000,
        sky_synthetic=SkySet(videos=200, clips_per_video=4, frames_per_clip=64, size=160),
        vae=VAE(base_channels=64, patch_size=1, recon="l1"),
        vae_train=Train(steps=100_000, batch_size=16, lr=2e-4, warmup=1000, ckpt_every=2000),
        scale_clips=512,
        unet=UNet(model_channels=128, channel_mult=(1, 2, 4, 4), num_res_blocks=2, head_channels=64),
        clip_context=False,
        self_condition=False,
        diffusion=Diffusion(num_steps=1000, prediction="eps", min_snr_gamma=0.0),
        noise_min_snr_gamma=0.0,
        lvdm_train=Train(
            steps=100_000,
            batch_size=32,
            lr=2e-4,
            warmup=1000,
            ema_decay=0.999,
            ckpt_every=2000,
            lr_schedule="constant",
            min_lr_ratio=0.0,
            ema_warmup=False,
        ),
        videofusion_train=Train(steps=20_000),
        cond_train=Train(),
        classroom_train=Train(steps=300_000),
        classroom_clips=20_000,
        autoguide_train=Train(steps=20_000, ckpt_every=4000),
        autoguidance=2.0,  # the quick profile's, not measured at this scale
        frame_vae_train=Train(steps=50_000, batch_size=16, lr=2e-4, warmup=1000, ckpt_every=2000),
        frame_vae_frames=4,
        i2v_unet=UNet(model_channels=128, channel_mult=(1, 2, 4), num_res_blocks=2, head_channels=64),
        i2v_clips=10_000,
        image_train=Train(steps=100_000, batch_size=128, lr=2e-4, warmup=1000, ckpt_every=2000),
        lift_train=Train(steps=50_000, batch_size=16, lr=2e-4, warmup=1000, ckpt_every=2000),
        lift_autoguidance=2.0,  # the quick profile's, not measured at this scale
        shift_train=Train(steps=5000, batch_size=16, lr=1e-4, warmup=100, ckpt_every=1000),
        shift_clips=4096,
        decoder_train=Train(steps=20_000, batch_size=16, lr=1e-4, ckpt_every=1000),
        flicker_clips=256,
        long_train=Train(steps=100_000, batch_size=32, lr=2e-4, warmup=1000, ckpt_every=2000),
        long_clips=10_000,
        classroom_long_train=Train(steps=300_000),
        classroom_long_clips=20_000,
        long_frames=1024,
        long_steps=50,
        long_videos=8,
        eval_clips=512,
        sample_clips=256,
        sample_steps=50,
        sample_eta=1.0,
        sample_shift=1.0,
        noise_sample_eta=1.0,
        drift_real_clips=1024,
        cache_clips=8192,
        throughput_clips=2048,
        sampling_weights="ema",
        toy_diffusion_steps=1000,
        toy_unet=UNet(model_channels=64, channel_mult=(1, 2), attention_resolutions=(2,), head_channels=16),
        toy_train=Train(steps=8000, batch_size=64, lr=1e-3, warmup=50, ema_decay=0.999, ckpt_every=500),
        vae_sweep_steps=5000,
        notebook_long_frames=1024 if sky else 2048,
        notebook_long_steps=50,
    )


PRESETS = {"ci": ci, "quick": quick, "full": full}


def preset(dataset: str = "mnist", profile: str | None = None) -> Preset:
    """The table for `dataset` ('mnist', 'sky', or 'folder', which takes the sky sizes) under
    `profile` (default: the active one)."""
    return PRESETS[profile or get_profile()](sky=dataset != "mnist")


def default_eta(dataset: str = "mnist", prediction: str = "flow", profile: str | None = None) -> float:
    """DDIM's eta a model of `dataset` samples with unless told: `sample_eta` for flow models,
    `noise_sample_eta` for those that predict noise (eps) or v."""
    p = preset(dataset, profile)
    return p.sample_eta if prediction == "flow" else p.noise_sample_eta


def default_shift(dataset: str = "mnist", prediction: str = "flow", profile: str | None = None) -> float:
    """The time-grid shift a model of `dataset` samples with unless told: `sample_shift` for flow
    models, 1 (the even grid) for those that predict noise (eps) or v."""
    return preset(dataset, profile).sample_shift if prediction == "flow" else 1.0


def vae_layout(dataset: str = "mnist") -> VAE:
    """VAE_LAYOUT of a data set ('folder': sky's)."""
    return VAE_LAYOUT["mnist" if dataset == "mnist" else "sky"]
