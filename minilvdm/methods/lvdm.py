"""Latent video diffusion (LVDM): the VAE, the space-time UNet and the diffusion process joined.

    model = LatentVideoDiffusion(LVDMConfig(), vae)
    loss = model(latents, class_label)                       # training, on cached latents
    videos = model.sample(8, steps=50, sampler="ddim", guidance=3.0, class_label=7)

The same class is the pixel-space baseline (`space='pixel'`, no VAE): the same UNet and
diffusion trained on pixels, for LVDM's claim that latent space is much cheaper at equal
quality. Class conditioning uses a learned null token: in training the label is dropped
with probability p_uncond, so one network gives eps_c and eps_u, combined by
`Diffusion.sample` as eps_u + s (eps_c - eps_u) ('cfg') or (1 + w) eps_c - w eps_u ('lvdm').
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
from torch import nn

from ..core.config import OMIT_AT_DEFAULT
from ..core.presets import CLASSES, default_eta, default_shift, preset
from ..diffusion import self_condition
from ..diffusion.conditioning import class_labels
from ..diffusion.gaussian import Diffusion, DiffusionConfig, check_guide_diffusion
from ..diffusion.schedules import shifted_timesteps
from ..diffusion.unet import SpaceTimeUNet, UNetConfig

SPACES = ("latent", "pixel")


def default_unet_config(
    channels: int,
    num_classes: int = 0,
    space: str = "latent",
    dataset: str = "mnist",
    self_condition: bool = False,
) -> UNetConfig:
    """The profile's UNet with the data set's clip context; the pixel baseline gets one more
    down-sampling level for 64x64. self_condition: as many context channels as inputs (the
    clean estimate it reads)."""
    clip_context = preset(dataset).clip_context
    cfg = UNetConfig.for_profile(
        in_channels=channels,
        num_classes=num_classes,
        clip_context=clip_context,
        context_channels=channels if self_condition else 0,
    )
    if space == "pixel":
        cfg.channel_mult = (*cfg.channel_mult, cfg.channel_mult[-1], cfg.channel_mult[-1])
        cfg.attention_resolutions = tuple(r * 4 for r in cfg.attention_resolutions)
    return cfg


@dataclass
class LVDMConfig:
    dataset: str = "mnist"
    space: str = "latent"  # 'latent' (LVDM) | 'pixel' (the baseline)
    num_classes: int = 0  # 10: condition on the first digit's class
    p_uncond: float = 0.1  # probability the label is dropped in training
    unet: UNetConfig = field(default_factory=lambda: default_unet_config(4))
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    # '' trains from scratch; 'classroom' warm-starts the UNet from the classroom LVDM
    # (`load_unconditional_weights`). For the class-conditional model it draws better digits (FVD
    # 39-48 against 53-55 at the best scales) but follows the class less at the quick budget
    # (accuracy 0.75 against 0.86 at 2,000 steps; BENCHMARKS.md `guidance`), so 06 keeps ''
    init: str = field(default="", metadata=OMIT_AT_DEFAULT)
    # self-conditioning (diffusion/self_condition.py): the UNet also reads its last clean
    # estimate, as unet.context_channels = unet.in_channels extra input channels
    self_condition: bool = field(default=False, metadata=OMIT_AT_DEFAULT)

    def validate(self) -> None:
        if self.init not in ("", "classroom") or (
            self.init and (self.dataset, self.space) != ("mnist", "latent")
        ):
            raise ValueError(
                f"init must be '' or 'classroom' (latent Moving MNIST only), got {self.init!r} "
                f"for {self.dataset!r} / {self.space!r}"
            )
        if self.space not in SPACES:
            raise ValueError(f"space must be one of {SPACES}, got {self.space!r}")
        if not 0 <= self.p_uncond <= 1:
            raise ValueError(f"p_uncond must lie in [0, 1], got {self.p_uncond}")
        want = self.unet.in_channels if self.self_condition else 0
        if self.unet.context_channels != want:
            raise ValueError(
                f"unet.context_channels must be {want} (self_condition={self.self_condition}): "
                f"got {self.unet.context_channels}"
            )
        if self.unet.num_classes != self.num_classes:
            raise ValueError(
                f"unet.num_classes ({self.unet.num_classes}) must equal num_classes ({self.num_classes})"
            )


class LatentVideoDiffusion(nn.Module):
    """A UNet + diffusion; with a VAE, samples are decoded to video.

    The VAE is frozen and kept outside the module's parameters (it is not trained, not in
    the EMA and not in the checkpoint: its own checkpoint is referenced instead)."""

    def __init__(self, cfg: LVDMConfig, vae: nn.Module | None = None):
        super().__init__()
        cfg.validate()
        if cfg.space == "latent" and vae is None:
            raise ValueError("space='latent' needs a VAE to decode samples")
        self.cfg = cfg
        self.unet = SpaceTimeUNet(cfg.unet)
        self.diffusion = Diffusion(cfg.diffusion)
        self._vae = [vae.eval().requires_grad_(False)] if vae is not None else []

    def __deepcopy__(self, memo):  # the EMA copy shares the frozen VAE instead of copying it
        clone = LatentVideoDiffusion.__new__(LatentVideoDiffusion)
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            setattr(clone, key, value if key == "_vae" else copy.deepcopy(value, memo))
        return clone

    @property
    def vae(self) -> nn.Module | None:
        return self._vae[0] if self._vae else None

    def _labels(self, class_label, batch: int, device) -> torch.Tensor | None:
        if not self.cfg.num_classes:
            if class_label is not None:
                raise ValueError("class_label given to an unconditional model (num_classes = 0)")
            return None
        if class_label is None:
            return torch.full((batch,), -1, device=device)  # the null token
        return class_labels(class_label, self.cfg.num_classes, batch, device, allow_null=True)

    def _check_guide(self, guide: LatentVideoDiffusion, guidance: float | None) -> None:
        if guidance is None:
            raise ValueError("a guide model needs a guidance scale (guidance=2.0, say)")
        if guide.cfg.unet.in_channels != self.cfg.unet.in_channels or guide.cfg.space != self.cfg.space:
            raise ValueError("the guide model must denoise the same latents (same space and channels)")
        check_guide_diffusion(self.cfg.diffusion, guide.cfg.diffusion)

    def forward(self, x0: torch.Tensor, class_label: torch.Tensor | None = None) -> torch.Tensor:
        """Training loss on clean latents (or pixels) x0 (B, C, T, H, W)."""
        label = self._labels(class_label, x0.shape[0], x0.device)
        if label is not None and self.cfg.p_uncond > 0:
            drop = torch.rand(x0.shape[0], device=x0.device) < self.cfg.p_uncond
            label = torch.where(drop, torch.full_like(label, -1), label)
        if self.cfg.self_condition:
            return self.diffusion.loss(self_condition.training_fn(self._net(label), self.diffusion), x0)
        return self.diffusion.loss(lambda x, t: self.unet(x, t, class_label=label), x0)

    def _net(self, class_label):
        """(x_t, t, clean estimate) -> prediction: the self-conditioned UNet call."""
        return lambda x, t, estimate: self.unet(x, t, class_label=class_label, context=estimate)

    def denoiser(self, class_label: torch.Tensor | None = None):
        """The (x_t, t) -> prediction function one sampled batch calls (self-conditioned models:
        a fresh one per batch, as it keeps the last estimate)."""
        if self.cfg.self_condition:
            return self_condition.SamplingFn(self._net(class_label), self.diffusion)
        return lambda x, t: self.unet(x, t, class_label=class_label)

    def sample_shape(self, n: int, frames: int, size: int) -> tuple[int, ...]:
        """Shape of what the diffusion samples for n clips of `frames` x size x size pixels."""
        if self.vae is None:
            return (n, self.cfg.unet.in_channels, frames, size, size)
        c, t, h, w = self.vae.cfg.latent_shape(frames, size, size)
        return (n, c, t, h, w)

    @torch.no_grad()
    def sample(
        self,
        n: int,
        *,
        frames: int = 16,
        size: int = 64,
        steps: int | None = 50,
        sampler: str = "ddim",
        eta: float | None = None,
        shift: float | None = None,
        guidance: float | None = None,
        guidance_form: str = "cfg",
        guidance_interval: tuple[int, int] | None = None,
        class_label=None,
        guide: LatentVideoDiffusion | None = None,
        generator: torch.Generator | None = None,
        callback=None,
        decode: bool = True,
        batch_size: int = 16,
        progress: bool = False,
    ) -> torch.Tensor:
        """n clips (n, C, T, H, W) in [-1, 1] (latents if decode=False).

        eta: DDIM's stochasticity; None: the data set's preset for this prediction (`default_eta`).
        shift: > 1 moves DDIM's `steps` towards the noisy end (`shifted_timesteps`); 1: even grid;
        None: the data set's preset for this prediction (`default_shift`) when `steps` is a count.
        guidance: None/off, or the scale s ('cfg': eps_u + s (eps_c - eps_u)) or w ('lvdm').
        With a class label and no guidance the conditional prediction alone is used.
        guidance_interval: (t_low, t_high), guide only at those timesteps (`diffusion.guided`).
        guide: autoguidance (Karras et al. 2024): a weaker model of the same latents (less
        trained, or smaller) takes the place of eps_u, D_guide + s (D - D_guide), s = `guidance`;
        it pushes samples away from what the weaker model gets wrong. It sees the class label
        when it has classes."""
        self.eval()
        eta = default_eta(self.cfg.dataset, self.cfg.diffusion.prediction) if eta is None else eta
        if shift is None:  # a grid given as a list of timesteps, or DDPM's every step, stays as given
            shift = (
                default_shift(self.cfg.dataset, self.cfg.diffusion.prediction)
                if isinstance(steps, int)
                else 1.0
            )
        if shift != 1.0:
            steps = shifted_timesteps(self.diffusion.num_steps, steps, shift)
        if guide is not None:
            self._check_guide(guide, guidance)
        device = next(self.parameters()).device
        outs = []
        for start in range(0, n, batch_size):
            b = min(batch_size, n - start)
            shape = self.sample_shape(b, frames, size)
            labels = self._labels(class_label, n, device)
            label = None if labels is None else labels[start : start + b]
            model_fn, uncond_fn = self.denoiser(label), None
            if guide is not None:
                uncond_fn = guide.denoiser(label if guide.cfg.num_classes else None)
            elif guidance is not None and label is not None:
                uncond_fn = self.denoiser(torch.full_like(label, -1))
            z = self.diffusion.sample(
                model_fn,
                shape,
                sampler=sampler,
                steps=steps,
                eta=eta,
                uncond_fn=uncond_fn,
                guidance_scale=guidance if guidance is not None else 1.0,
                guidance_form=guidance_form,
                guidance_interval=guidance_interval,
                generator=generator,
                callback=callback,
                device=device,
                progress=progress,
            )
            if decode and self.vae is not None:
                z = self.vae.decode_latents(z.to(next(self.vae.parameters()).device))
            outs.append(z.clamp(-1, 1) if decode else z)
        return torch.cat(outs).cpu()


def default_lvdm_config(
    dataset: str = "mnist", space: str = "latent", conditional: bool = False, init: str = ""
) -> LVDMConfig:
    """conditional=True: 10 classes, the first digit (Moving MNIST only: skies have no classes).
    init='classroom': warm-start from the classroom LVDM (`warm_start_init` says if it is here)."""
    if conditional and dataset != "mnist":
        raise ValueError(
            f"class conditioning needs digit classes: only dataset='mnist' has them, got {dataset!r}"
        )
    from ..vae.model import default_vae_config

    vae = default_vae_config(dataset)  # latent: the default VAE's channels; pixel: the video's
    channels = vae.latent_channels if space == "latent" else vae.in_channels
    classes = CLASSES if conditional else 0
    self_cond = preset(dataset).self_condition
    return LVDMConfig(
        dataset=dataset,
        space=space,
        num_classes=classes,
        unet=default_unet_config(channels, classes, space, dataset, self_cond),
        diffusion=DiffusionConfig(**preset(dataset).diffusion.kwargs()),
        init=init,
        self_condition=self_cond,
    )


# ----------------------------------------------------------------------------- training


def default_lvdm_train_config(space: str = "latent", dataset: str = "mnist", conditional: bool = False):
    """presets.py `lvdm_train`, for both spaces (the pixel baseline's steps are set by its cost);
    conditional=True: with `cond_train`'s fields replaced (the class-conditional model's).

    Quick skies: in so short a run at lr 1e-3 the weights still move fast, and an EMA over ~100+
    steps averages incompatible weights: measured on the quick sky LVDM (500 steps), EMA 0.99
    gave latents of std 1.2-1.5 (real: 0.99) and colour flicker, the raw weights clean skies.
    0.9 (a ~10-step window) keeps the raw model's quality."""
    from ..core.train import TrainConfig

    p = preset(dataset)
    return TrainConfig(**{**p.lvdm_train.kwargs(), **(p.cond_train.kwargs() if conditional else {})})


default_train_config = default_lvdm_train_config  # the older name, which notebooks and benchmarks call


def default_data_config(dataset: str = "mnist", frames: int = 16, path: str = ""):
    from ..vae.latent_cache import VideoDataConfig, video_size

    count = preset(dataset).lvdm_clips  # sky, folder: capped at the clips they hold
    return VideoDataConfig(
        dataset=dataset, split="train", frames=frames, size=video_size(dataset), count=count, path=path
    )


def training_data(cfg: LVDMConfig, data_cfg, vae=None, vae_checkpoint=None, progress: bool = True):
    """(x0 (N, C, T, H, W), class labels (N,) or None): cached latents, or pixels for the baseline."""
    from ..vae.latent_cache import ClipSource, load_or_encode_latents

    if cfg.space == "latent":
        cache = load_or_encode_latents(vae, vae_checkpoint, data_cfg, progress=progress)
        x0, labels = cache["latents"], cache["labels"]
    else:
        x0, labels = ClipSource(data_cfg).clips(range(data_cfg.count))
    class_label = labels[:, 0].long() if cfg.num_classes and labels.ndim == 2 else None
    return x0.float(), class_label


def checkpoint_configs(cfg: LVDMConfig, train_cfg, data_cfg, vae_trainer=None) -> list:
    """What names an LVDM checkpoint: its configs and, in latent space, the VAE's config and
    file name (another VAE training is another latent space: another checkpoint)."""
    configs = [cfg, train_cfg, data_cfg]
    if vae_trainer is not None:
        configs += [vae_trainer.ema.module.cfg, vae_trainer.ckpt_path.name]
        from .classroom import warm_start_identity

        configs += warm_start_identity(cfg.init, vae_trainer)
    return configs


def train_lvdm(
    cfg: LVDMConfig, train_cfg=None, data_cfg=None, vae_trainer=None, name=None, progress=True, until=None
):
    """Train (resume, or reuse) an LVDM or pixel-space model. Returns (trainer, ema_model);
    sample from `ema_model`. The VAE is trained (or reused) first when none is given.
    `until`: stop (saved) at that step, to evaluate part way; a later call goes on."""
    from ..core.config import seed_everything
    from ..core.train import Trainer, checkpoint_path, epoch_indices
    from ..vae.model import train_data_config, train_vae

    train_cfg = train_cfg or default_train_config(cfg.space, cfg.dataset, bool(cfg.num_classes))
    data_cfg = data_cfg or default_data_config(cfg.dataset)
    if cfg.num_classes and {cfg.dataset, data_cfg.dataset} != {"mnist"}:
        raise ValueError(f"num_classes > 0 needs digit classes (dataset 'mnist'), got {data_cfg.dataset!r}")
    vae, vae_ckpt = None, None
    if cfg.space == "latent":
        vae_data = train_data_config(cfg.dataset, path=data_cfg.path)  # your folder: its VAE too
        vae_trainer = vae_trainer or train_vae(cfg.dataset, data_cfg=vae_data, progress=progress)
        vae, vae_ckpt = vae_trainer.ema.module.eval(), vae_trainer.ckpt_path
    configs = checkpoint_configs(cfg, train_cfg, data_cfg, vae_trainer if cfg.space == "latent" else None)
    seed_everything(train_cfg.seed)
    data = []  # loaded (latents encoded) on the first training step: reusing a model needs none

    def batch_fn(step, rank, world):
        if not data:
            data.extend(training_data(cfg, data_cfg, vae, vae_ckpt, progress))
        x0, labels = data
        idx = epoch_indices(step, rank, world, train_cfg.batch_size, len(x0), train_cfg.seed)
        return {"x0": x0[idx], "label": None if labels is None else labels[idx]}

    def loss_fn(model, batch):
        return model(batch["x0"], batch["label"])

    name = name or f"lvdm-{cfg.space}-{cfg.dataset}{'-cond' if cfg.num_classes else ''}"
    model = LatentVideoDiffusion(cfg, vae)
    ckpt = checkpoint_path(name, *configs)
    if cfg.init == "classroom" and not ckpt.exists():  # a checkpoint there holds the weights
        from .classroom import warm_start_from_classroom

        warm_start_from_classroom(model.unet, vae_trainer, progress, self_condition=cfg.self_condition)
    trainer = Trainer(
        model,
        loss_fn,
        batch_fn,
        train_cfg,
        ckpt,
        model_config=cfg,
        progress=progress,
    )
    trainer.fit(until=until)
    return trainer, trainer.ema.module.eval()


def train_pixel_baseline(latent_trainer, progress: bool = True):
    """LVDM's baseline at equal compute: the same UNet recipe and diffusion on pixels, trained
    for the CPU time the latent model's steps cost,

        pixel steps = latent steps x (latent step cost / pixel step cost),

    both step costs timed back to back once per machine (`cost.measured_once`), so a rerun
    reuses the checkpoint. Returns (trainer, EMA model, {'latent': s/step, 'pixel': s/step})."""
    import dataclasses

    from ..core.config import config_hash
    from ..core.cost import loss_step_seconds, measured_once
    from ..vae.latent_cache import video_size

    latent = latent_trainer.ema.module
    cfg, batch = latent.cfg, latent_trainer.config.batch_size
    pixel_cfg = default_lvdm_config(cfg.dataset, space="pixel", conditional=bool(cfg.num_classes))
    size = video_size(cfg.dataset)

    def measure():
        torch.manual_seed(0)
        lat, pix = LatentVideoDiffusion(cfg, latent.vae), LatentVideoDiffusion(pixel_cfg)
        z = torch.randn(batch, *latent.vae.cfg.latent_shape(16, size, size))  # (B, c, t, h, w)
        x = torch.rand(batch, pixel_cfg.unet.in_channels, 16, size, size) * 2 - 1  # (B, C, T, H, W)
        return {
            "latent": loss_step_seconds(lambda: lat(z), lat.unet.parameters()),
            "pixel": loss_step_seconds(lambda: pix(x), pix.unet.parameters()),
        }

    costs = measured_once(f"lvdm-latent-vs-pixel-{config_hash(cfg, pixel_cfg)}-b{batch}", measure)
    steps = max(2, round(latent_trainer.step * costs["latent"] / costs["pixel"]))
    train_cfg = dataclasses.replace(
        default_train_config("pixel", cfg.dataset), steps=steps, ckpt_every=max(10, steps // 10)
    )
    trainer, model = train_lvdm(pixel_cfg, train_cfg, name="lvdm-pixel-equal-time", progress=progress)
    return trainer, model, costs
