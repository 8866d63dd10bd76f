"""Training LVDM's long-video models: a prediction model over keyframes and an interpolation model.

Both are `ConditionalDenoiser`s trained on latents of long clips (encoded once into the
latent cache). From a latent sequence z (C, L, h, w) with keyframe stride S:

    prediction     P keyframes z[o], z[o + S], ..., z[o + (P - 1) S], the first g given
    interpolation  S + 1 consecutive frames z[o .. o + S], the first and last given

for random offsets o, so one clip gives many examples. Each model carries its config
(`LongModel.long_cfg`), so the generator keys frames at the stride it was trained at:

    generator = build_generator(predictor, interpolator, vae, LongVideoConfig(frames=1024))
    generator.generate("outputs/long/run")
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from ...core.config import LONG_BATCH_SEED_MIX, OMIT_AT_DEFAULT, seed_everything
from ...core.presets import LONG_CLIP_FRAMES, LONG_KEYFRAME_SPACING, preset
from ...core.train import TrainConfig, Trainer, checkpoint_path, pick_weights, sampling_weights
from ...diffusion.conditioning import ConditionalDenoiser, ConditionConfig
from ...diffusion.gaussian import Diffusion, DiffusionConfig
from ...diffusion.unet import SpaceTimeUNet, UNetConfig
from ..classroom import warm_start_from_classroom, warm_start_identity
from .generator import LongVideoConfig, LongVideoGenerator


@dataclass
class LongModelConfig:
    dataset: str = "mnist"
    role: str = "predict"  # 'predict' | 'interp'
    clip: int = 4  # prediction: keyframes per clip (P); interpolation uses stride + 1
    stride: int = 4  # latent frames between keyframes
    condition: ConditionConfig = field(default_factory=ConditionConfig)
    unet: UNetConfig = field(default_factory=UNetConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    # '' trains from scratch; 'classroom' warm-starts the UNet from the shipped long-budget
    # short-clip LVDM (Moving MNIST; `load_unconditional_weights`), so training adds the conditions;
    # a UNet with classes (unet.num_classes = 10, the first digit) starts from its class-conditional twin
    init: str = field(default="", metadata=OMIT_AT_DEFAULT)

    @property
    def frames(self) -> int:
        """Latent frames per training example."""
        return self.clip if self.role == "predict" else self.stride + 1

    @property
    def span(self) -> int:
        """Consecutive latent frames one example covers."""
        return (self.clip - 1) * self.stride + 1 if self.role == "predict" else self.stride + 1


# Keyframe spacing per data set, in pixel frames (presets.py LONG_KEYFRAME_SPACING); the stride
# S the models use is in latent frames (`long_stride`). Moving MNIST trains on 64-frame clips:
# P = 4 keyframes 16 pixel frames apart fit (time x2: S = 8, span 25 of 32 latent frames).
# SkyTimelapse clip folders hold 32 frames (synthetic; real ones at least that): 8 pixel frames
# (time x4: S = 2, span 7 of 8 latent frames) keep a prediction example inside one folder. Skies
# move slowly, so 8 pixel frames between keyframes still leave the interpolation model a small
# job. LONG_CLIP_FRAMES: pixel frames per training clip of the long models.


def long_stride(dataset: str = "mnist") -> int:
    """Keyframe stride S in latent frames: the data set's spacing over the default VAE's time
    factor, so the spacing in pixel frames stays put when the VAE layout changes."""
    from ...vae.model import default_vae_config  # looked up at call time: tests swap the default

    if dataset not in LONG_KEYFRAME_SPACING:
        raise ValueError(f"dataset must be one of {tuple(LONG_KEYFRAME_SPACING)}, got {dataset!r}")
    return max(1, LONG_KEYFRAME_SPACING[dataset] // default_vae_config(dataset).time_factor)


class LongModel(ConditionalDenoiser):
    """A ConditionalDenoiser that records the LongModelConfig it was built from (not in its
    weights): the stride, clip and given that sampling must reuse."""

    def __init__(self, cfg: LongModelConfig):
        super().__init__(SpaceTimeUNet(cfg.unet), Diffusion(cfg.diffusion), cfg.condition)
        self.long_cfg = cfg


def default_long_config(
    role: str,
    dataset: str = "mnist",
    perturb: bool = True,
    style: str = "lvdm",
    stride: int | None = None,
    init: str = "",
    conditional: bool = False,
    self_condition: bool | None = None,
):
    """LVDM's choices: predict with P = 4 keyframes S apart given 1 (drop 0.5); interpolate
    frames 1..S-1 between given 0 and S (drop 0.1); perturbation S_max = 250, s = 100 of 1000.
    S = `long_stride(dataset)`: 16 pixel frames for Moving MNIST, 8 for sky. stride=1 gives the
    plain autoregressive baseline's predictor (consecutive latent frames). init='classroom'
    warm-starts the UNet from the classroom LVDM (Moving MNIST only). conditional=True adds
    the first digit's class (Moving MNIST only), dropped 1 time in 10 for classifier-free guidance.
    self_condition: the UNet also reads its last clean estimate (first context channels); warm
    started, it keeps the self-conditioned classroom's estimate columns. None: the data set's
    preset (quick Moving MNIST: on; in session 21 it raised the lowest 128-frame window of
    1024-frame videos from 0.74 to 0.82 for the class-conditional pair, 0.54 to 0.64 autoguided
    unconditional; BENCHMARKS.md `long_classroom`)."""
    from ...vae.model import default_vae_config

    if role not in ("predict", "interp"):
        raise ValueError(f"role must be 'predict' or 'interp', got {role!r}")
    if init not in ("", "classroom") or (init and dataset != "mnist"):
        raise ValueError(f"init must be '' or 'classroom' (Moving MNIST only), got {init!r} for {dataset!r}")
    if conditional and dataset != "mnist":
        raise ValueError(f"conditional=True needs digit classes (dataset 'mnist'), got {dataset!r}")
    stride = long_stride(dataset) if stride is None else stride
    if stride < 1 or (role == "interp" and stride < 2):
        raise ValueError(f"stride must be >= 1 (>= 2 to interpolate), got {stride} for {role!r}")
    steps = preset(dataset).diffusion.num_steps
    self_condition = preset(dataset).self_condition if self_condition is None else self_condition
    cond = ConditionConfig(
        mode=role,
        given=1,
        p_drop=0.5 if role == "predict" else 0.1,
        perturb_max=steps // 4 if perturb else 0,
        perturb_sample=steps // 10,
        style=style,
        self_condition=self_condition,
    )
    latent = default_vae_config(dataset).latent_channels
    unet = UNetConfig.for_profile(
        in_channels=latent,
        context_channels=cond.context_channels(latent),
        scalar_embeddings=("s",),
        num_classes=10 if conditional else 0,
        clip_context=preset(dataset).clip_context,
    )
    # the data set's diffusion recipe (Moving MNIST: rectified flow): guidance mixes two
    # predictions linearly, the same mix in eps, v or flow velocity (each is affine in another given x_t)
    diffusion = DiffusionConfig(**preset(dataset).diffusion.kwargs())
    return LongModelConfig(
        dataset, role, stride=stride, condition=cond, unet=unet, diffusion=diffusion, init=init
    )


def examples(latents: torch.Tensor, cfg: LongModelConfig, offsets: torch.Tensor) -> torch.Tensor:
    """(B, C, L, h, w) latent sequences + (B,) offsets -> (B, C, frames, h, w) examples."""
    step = cfg.stride if cfg.role == "predict" else 1
    index = offsets[:, None] + step * torch.arange(cfg.frames)[None]  # (B, frames)
    gather = index[:, None, :, None, None].expand(-1, latents.shape[1], -1, *latents.shape[3:])
    return torch.gather(latents, 2, gather)


def default_long_train_config(dataset: str = "mnist") -> TrainConfig:
    """presets.py `long_train`: quick skies, as for the sky LVDM, take a short EMA window (a
    long EMA spoils such short, fast-moving runs)."""
    return TrainConfig(**preset(dataset).long_train.kwargs())


default_train_config = default_long_train_config  # the older name, which notebooks call


def long_data_config(dataset: str = "mnist", frames: int | None = None):
    from ...vae.latent_cache import VideoDataConfig, video_size

    return VideoDataConfig(
        dataset=dataset,
        split="train",
        frames=frames or LONG_CLIP_FRAMES[dataset],
        size=video_size(dataset),
        count=preset(dataset).long_clips,
    )


def long_checkpoint_path(cfg: LongModelConfig, train_cfg, data_cfg, vae_trainer, name: str | None = None):
    """Where `train_long_model` keeps this model (every config hashed into the file name)."""
    name = name or f"long-{cfg.role}-{cfg.dataset}{'-cond' if cfg.unet.num_classes else ''}"
    vae_cfg = vae_trainer.ema.module.cfg
    start = warm_start_identity(cfg.init, vae_trainer, conditional=bool(cfg.unet.num_classes))
    return checkpoint_path(name, cfg, train_cfg, data_cfg, vae_cfg, vae_trainer.ckpt_path.name, *start)


def long_cache_name(data_cfg) -> str:
    """The long models' latent cache: their own (the 64-frame clips would otherwise evict notebook
    05's short-clip cache), one per clip count (the quick pairs' 512 clips and the long-budget
    pairs' 2,048 would otherwise evict each other)."""
    return f"long-{data_cfg.dataset}-{data_cfg.split}-n{data_cfg.count}"


def train_long_model(
    cfg: LongModelConfig,
    train_cfg=None,
    data_cfg=None,
    vae_trainer=None,
    progress=True,
    weights=None,
    name: str | None = None,
):
    """Train (resume, or reuse) a prediction or interpolation model. Returns (trainer, model in
    eval mode): the EMA or the raw weights, `weights` or `sampling_weights()`. `name`: the
    checkpoint's name before its profile and hash (default long-<role>-<dataset>)."""
    weights = weights or sampling_weights()
    from ...vae.latent_cache import cache_path, load_or_encode_latents
    from ...vae.model import train_vae

    train_cfg = train_cfg or default_train_config(cfg.dataset)
    data_cfg = data_cfg or long_data_config(cfg.dataset)
    vae_trainer = vae_trainer or train_vae(cfg.dataset, progress=progress)
    vae = vae_trainer.ema.module.eval()
    seed_everything(train_cfg.seed)
    bsz, data = train_cfg.batch_size, []  # latents encoded on the first step: reusing a model needs none

    def latents() -> torch.Tensor:  # (N, C, L, h, w)
        if not data:
            cache = cache_path(
                data_cfg,
                name=long_cache_name(data_cfg),
                vae_checkpoint=vae_trainer.ckpt_path,
            )
            with torch.random.fork_rng(devices=[]):  # the training draws stay those of an encoded-first run
                found = load_or_encode_latents(
                    vae, vae_trainer.ckpt_path, data_cfg, path=cache, progress=progress
                )
            z = found["latents"].float()
            if z.shape[2] < cfg.span:
                raise ValueError(
                    f"clips give {z.shape[2]} latent frames; the {cfg.role} model needs {cfg.span}"
                )
            first_digit = found["labels"].reshape(len(z), -1)[:, 0].long() if cfg.unet.num_classes else None
            data.append((z, first_digit))
        return data[0]

    def batch_fn(step, rank, world):
        z, labels = latents()
        n, room = len(z), z.shape[2] - cfg.span + 1
        g = torch.Generator().manual_seed(train_cfg.seed * LONG_BATCH_SEED_MIX + step * world + rank)
        idx = torch.randint(0, n, (bsz,), generator=g)
        clips = examples(z[idx], cfg, torch.randint(0, room, (bsz,), generator=g))
        return (clips, labels[idx]) if cfg.unet.num_classes else clips

    model = LongModel(cfg)
    ckpt = long_checkpoint_path(cfg, train_cfg, data_cfg, vae_trainer, name)
    if cfg.init == "classroom" and not ckpt.exists():  # a checkpoint there holds the weights
        warm_start_from_classroom(
            model.unet,
            vae_trainer,
            progress,
            conditional=bool(cfg.unet.num_classes),
            self_condition=cfg.condition.self_condition,
        )
    trainer = Trainer(
        model,
        (lambda m, b: m(*b)) if cfg.unet.num_classes else (lambda m, z: m(z)),
        batch_fn,
        train_cfg,
        ckpt,
        model_config=cfg,
        progress=progress,
    )
    trainer.fit()
    return trainer, pick_weights(trainer, weights)


CLASSROOM_LONG_NAME = "long-{role}-mnist{cond}-long"  # checkpoint names of the long-budget pairs


def classroom_long_configs(role: str, conditional: bool = False):
    """(LongModelConfig, TrainConfig, VideoDataConfig) of a long-budget Moving MNIST pair
    (issue 20): the quick pair's recipe, warm-started from the classroom LVDM (conditional: the
    class-conditional pair, from its class-conditional twin), for `classroom_long_train` steps
    on `classroom_long_clips` clips (presets.py). Measured in BENCHMARKS.md `long_classroom`:
    the class-conditional pair keeps every 128-frame window of 1024-frame videos at 0.85 or
    more (0.05 above its quick pair's lowest window); the unconditional one, before
    self-conditioning, was no better than its quick pair. The class-conditional pair ships with
    the classroom weights (notebook 09, `minilvdm long --digit`); the unconditional one does not
    (the 40 MB budget)."""
    import dataclasses

    p = preset("mnist")
    train_cfg = dataclasses.replace(default_long_train_config("mnist"), **p.classroom_long_train.kwargs())
    data_cfg = dataclasses.replace(long_data_config("mnist"), count=p.classroom_long_clips)
    return default_long_config(role, "mnist", init="classroom", conditional=conditional), train_cfg, data_cfg


def classroom_long_pair(
    vae_trainer=None, train: bool = False, progress: bool = True, conditional: bool = False
):
    """A long-budget pair as ((trainer, EMA predictor), (trainer, EMA interpolator)), reused
    from outputs/checkpoints or, with MINILVDM_WEIGHTS=shipped, the shipped weights (the
    class-conditional pair only). None when a finished copy of either is missing and `train` is
    False (together about 50 CPU-minutes, and they need the classroom LVDM to start from)."""
    from ...core.checkpoint import load_checkpoint
    from ...vae.model import train_vae

    vae_trainer = vae_trainer or train_vae("mnist", progress=progress)
    cond = "-cond" if conditional else ""
    runs = [
        (*classroom_long_configs(role, conditional), CLASSROOM_LONG_NAME.format(role=role, cond=cond))
        for role in ("predict", "interp")
    ]
    for cfg, train_cfg, data_cfg, name in runs:
        path = long_checkpoint_path(cfg, train_cfg, data_cfg, vae_trainer, name)
        if not train and (not path.exists() or load_checkpoint(path)["step"] < train_cfg.steps):
            return None
    return tuple(
        train_long_model(cfg, train_cfg, data_cfg, vae_trainer, progress=progress, weights="ema", name=name)
        for cfg, train_cfg, data_cfg, name in runs
    )


def long_video_config(dataset: str = "mnist", **overrides) -> LongVideoConfig:
    """A LongVideoConfig whose keyframe stride matches the data set's long models, sampled
    with the data set's DDIM eta (presets.py `sample_eta`)."""
    defaults = {"stride": long_stride(dataset), "eta": preset(dataset).sample_eta}
    return LongVideoConfig(**{**defaults, **overrides})


def generate_long_videos(
    predictor,
    interpolator,
    vae,
    cfg: LongVideoConfig,
    count: int,
    out_dir,
    clip: int | None = None,
    size: int = 64,
) -> tuple[torch.Tensor, float, dict]:
    """`count` long videos with seeds cfg.seed, cfg.seed + 1, ..., each streamed to
    out_dir/<frames>f-seed<k>-<config hash>/ (a finished one is reused: give each pair of
    models its own out_dir). Returns (videos (count, C, N, H, W) in [-1, 1], generation
    seconds per video (as measured when each was made, also for reused ones), the last
    generate() result, with 'reused': how many of the videos were already on disk)."""
    import dataclasses
    import json
    import time
    from pathlib import Path

    from ...core.config import config_hash
    from .generator import load_long_video

    videos, seconds, reused, result = [], 0.0, 0, {}
    for k in range(count):
        run = dataclasses.replace(cfg, seed=cfg.seed + k)
        generator = build_generator(predictor, interpolator, vae, run, clip=clip, size=size)
        # named by the stride actually used (the generator's cfg), however `cfg` spelled it
        folder = Path(out_dir) / f"{run.frames}f-seed{run.seed}-{config_hash(generator.cfg)}"
        timing = folder / "timing.json"  # written once the video is complete
        start = time.perf_counter()
        result = generator.generate(folder, progress=False)
        if timing.is_file():
            seconds, reused = seconds + json.loads(timing.read_text())["seconds"], reused + 1
        else:
            took = time.perf_counter() - start
            timing.write_text(json.dumps({"seconds": took}))
            seconds += took
        videos.append(load_long_video(result["npy"])[0])
    return torch.stack(videos), seconds / max(count, 1), {**result, "reused": reused}


def build_generator(
    predictor,
    interpolator,
    vae,
    cfg: LongVideoConfig,
    clip: int | None = None,
    given: int | None = None,
    size: int = 64,
    guides: tuple = (None, None),
):
    """A LongVideoGenerator that decodes with the VAE (chunked, exact) and writes frames as it goes.
    The stride is the models' own (`cfg.stride=None`; another raises); clip and given default
    to the predictor's (LongModel.long_cfg), else LVDM's P = 4, g = 1."""
    long_cfg = getattr(predictor, "long_cfg", None)
    if clip is None:
        clip = long_cfg.clip if long_cfg is not None else 4
    if given is None:
        given = long_cfg.condition.given if long_cfg is not None else 1
    c, _, h, w = vae.cfg.latent_shape(vae.cfg.time_factor, size, size)
    device = next(vae.parameters()).device
    decode = lambda z: vae.decode_latents(z.to(device)).clamp(-1, 1).cpu()
    return LongVideoGenerator(
        predictor,
        decode,
        (c, h, w),
        vae.cfg.time_factor,
        cfg,
        clip=clip,
        given=given,
        interpolator=interpolator,
        radius=vae.decoder.time_radius,
        guides=guides,
    )
