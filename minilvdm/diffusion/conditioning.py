"""Conditioning by mask, conditional latent perturbation and unconditional guidance (LVDM).

One masking routine makes every kind of training example for a clip of T latent frames:

    'uncond'   nothing given                      mask = 0 0 0 0 0
    'predict'  the first k frames given           mask = 1 0 0 0 0   (k = 1)
    'interp'   the first and last frames given    mask = 1 0 0 0 1

Condition frames reach the network in one of two interchangeable ways:
    'lvdm'      written into the noisy input where mask = 1, plus the mask as one extra
                channel:                 x_in = m * c + (1 - m) * z_t,  context = m
    'videoldm'  Video LDM's c_S = (m * z, m) concatenated on channels:
                                         x_in = z_t,  context = [m * c, m]

Conditional latent perturbation: the condition frames are not given clean but diffused
to a small level s with the forward process,

    c_s = sqrt(abar_s) z_c + sqrt(1 - abar_s) eps,     s ~ U{0 .. S_max - 1} in training,
                                                        s fixed (LVDM: 100) when sampling,

and s is given to the network as an extra embedding, so it learns to accept imperfect,
generated conditions. Guidance at sampling time (see `Diffusion.sample`):
    LVDM  eps = (1 + w) eps_c - w eps_u        Video LDM  eps = eps_u + s (eps_c - eps_u)
where the unconditional prediction drops the condition (mask = 0), as trained with
probability p_drop (LVDM: 0.5 for prediction, 0.1 for interpolation).

With `self_condition` the network also reads its own last clean estimate (diffusion/
self_condition.py) as the first context channels, before the style's condition channels:
context = [x0_hat, condition]; each prediction path (conditional, unconditional, guide) keeps its
own running estimate while sampling, as the short-clip LVDM's do.

A UNet with classes (`UNetConfig.num_classes`) also takes a class label (Moving MNIST: the first
digit), dropped to the null token with probability class_drop in training. Given a label when
sampling, the unconditional prediction keeps the frames and drops the label instead: guidance
is then classifier-free guidance on the class, and the given frames stay given on both paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from ..core.config import OMIT_AT_DEFAULT
from . import self_condition as self_cond
from .gaussian import Diffusion

MODES = ("uncond", "predict", "interp")
STYLES = ("lvdm", "videoldm")


@dataclass
class ConditionConfig:
    mode: str = "predict"  # what this model is trained for: 'predict' | 'interp' | 'uncond'
    given: int = 1  # 'predict': how many leading frames are given
    p_drop: float = 0.5  # probability a training example drops its condition (LVDM 0.5 / 0.1)
    perturb_max: int = 250  # S_max: training draws s ~ U{0 .. S_max - 1}; 0 = no perturbation
    perturb_sample: int = 100  # s used when sampling (ignored when perturb_max = 0)
    style: str = "lvdm"  # 'lvdm' | 'videoldm'
    # UNets with classes: the probability a training label becomes the null token
    class_drop: float = field(default=0.1, metadata=OMIT_AT_DEFAULT)
    # self-conditioning: the UNet's first context channels hold its last clean estimate
    self_condition: bool = field(default=False, metadata=OMIT_AT_DEFAULT)

    def validate(self, frames: int | None = None) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}, got {self.style!r}")
        if not 0 <= self.p_drop <= 1 or not 0 <= self.class_drop <= 1:
            raise ValueError(f"p_drop and class_drop must lie in [0, 1]: {self.p_drop}, {self.class_drop}")
        if self.perturb_max < 0 or self.perturb_sample < 0:
            raise ValueError("perturb_max and perturb_sample must be >= 0")
        if frames is not None and self.mode == "predict" and not 1 <= self.given < frames:
            raise ValueError(f"'predict' needs 1 <= given < frames ({frames}), got given={self.given}")

    def context_channels(self, latent_channels: int) -> int:
        """Extra input channels the UNet needs for this style (and the estimate, self-conditioned)."""
        estimate = latent_channels if self.self_condition else 0
        return estimate + (1 if self.style == "lvdm" else latent_channels + 1)


def condition_mask(mode: str, frames: int, given: int = 1) -> torch.Tensor:
    """(T,) float mask, 1 where a frame is given."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    mask = torch.zeros(frames)
    if mode == "predict":
        if not 1 <= given < frames:
            raise ValueError(f"'predict' needs 1 <= given < frames ({frames}), got {given}")
        mask[:given] = 1
    elif mode == "interp":
        if frames < 3:
            raise ValueError(f"'interp' needs at least 3 frames, got {frames}")
        mask[0] = mask[-1] = 1
    return mask


def perturb(diffusion: Diffusion, z_c: torch.Tensor, s: torch.Tensor, noise: torch.Tensor | None = None):
    """c_s ~ q(z_s | z_c): the forward process at level s (s = 0 is almost clean)."""
    noise = torch.randn_like(z_c) if noise is None else noise
    return diffusion.q_sample(z_c, s, noise)


def model_inputs(x_t: torch.Tensor, cond: torch.Tensor, mask: torch.Tensor, style: str):
    """(x_in, context) for the UNet. mask is (B, 1, T, 1, 1) or broadcastable; cond (B, C, T, H, W)."""
    b, _, t, h, w = x_t.shape
    m = mask.to(x_t).expand(b, 1, t, h, w)
    if style == "lvdm":
        return m * cond + (1 - m) * x_t, m
    if style == "videoldm":
        return x_t, torch.cat([m * cond, m], dim=1)
    raise ValueError(f"style must be one of {STYLES}, got {style!r}")


def class_labels(class_label, num_classes: int, batch: int, device=None, allow_null: bool = False):
    """An int or a (B,) sequence of labels -> (B,) long tensor, checked against the batch and
    the classes [0, num_classes) (and -1, the UNet's null token, with allow_null)."""
    label = torch.as_tensor(class_label, device=device).long()
    if label.ndim > 1 or (label.ndim == 1 and len(label) != batch):
        raise ValueError(f"class_label must be an int or {batch} labels, got shape {tuple(label.shape)}")
    low = -1 if allow_null else 0
    if ((label < low) | (label >= num_classes)).any():
        raise ValueError(f"class labels must lie in [{low}, {num_classes}), got {label.tolist()}")
    return label.expand(batch)


class ConditionalDenoiser(nn.Module):
    """A UNet + diffusion trained on masked examples; one model per mode (LVDM trains a
    prediction model and an interpolation model).

    The UNet needs `context_channels = cfg.context_channels(C)` and
    `scalar_embeddings = ('s',)`.
        loss = model.loss(z0)                                     # (B, C, T, h, w) latents
        z = model.sample(cond, mask, steps=50, guidance=0.1, guidance_form='lvdm')
    """

    def __init__(self, unet: nn.Module, diffusion: Diffusion, cfg: ConditionConfig):
        super().__init__()
        cfg.validate()
        ucfg = getattr(unet, "cfg", None)
        if ucfg is not None:
            want = cfg.context_channels(ucfg.in_channels)
            if ucfg.context_channels != want or "s" not in ucfg.scalar_embeddings:
                raise ValueError(
                    f"the UNet needs context_channels={want} and 's' in scalar_embeddings for "
                    f"style {cfg.style!r}; it has {ucfg.context_channels} and {ucfg.scalar_embeddings}"
                )
        if cfg.perturb_max > diffusion.num_steps or cfg.perturb_sample >= diffusion.num_steps:
            raise ValueError(
                f"perturbation levels must lie below the {diffusion.num_steps} diffusion steps: "
                f"perturb_max={cfg.perturb_max}, perturb_sample={cfg.perturb_sample}"
            )
        self.unet, self.diffusion, self.cfg = unet, diffusion, cfg
        self.num_classes = getattr(ucfg, "num_classes", 0)

    def _labels(self, class_label, batch: int, device) -> torch.Tensor | None:
        """(B,) long labels, or None; an int or a (B,) sequence. Refused without classes."""
        if class_label is None:
            return None
        if not self.num_classes:
            raise ValueError("class_label given to a model without classes (UNetConfig.num_classes = 0)")
        return class_labels(class_label, self.num_classes, batch, device)

    def training_condition(self, z0: torch.Tensor, generator: torch.Generator | None = None):
        """(cond, mask, s) for a batch: the mode's mask, dropped with p_drop, perturbed to s."""
        b, _, frames = z0.shape[:3]
        cfg = self.cfg
        cfg.validate(frames)
        mask = condition_mask(cfg.mode, frames, cfg.given).to(z0.device)
        mask = mask.view(1, 1, frames, 1, 1).repeat(b, 1, 1, 1, 1)
        keep = (torch.rand(b, generator=generator) >= cfg.p_drop).to(z0)
        mask = mask * keep.view(b, 1, 1, 1, 1)  # dropped examples become unconditional
        if cfg.perturb_max > 0:
            s = torch.randint(0, cfg.perturb_max, (b,), generator=generator).to(z0.device)
            cond = perturb(self.diffusion, z0, s)
        else:
            s, cond = torch.zeros(b, dtype=torch.long, device=z0.device), z0
        return cond, mask, s

    def predict(self, x_t, t, cond, mask, s, class_label=None, estimate=None):
        """The network's prediction for noisy x_t given condition frames (mask = 1) and, with
        classes, a (B,) label (-1 or None: the null token). estimate: the clean estimate a
        self-conditioned model reads (None: zeros, nothing estimated yet)."""
        x_in, context = model_inputs(x_t, cond, mask, self.cfg.style)
        if self.cfg.self_condition:
            context = torch.cat([torch.zeros_like(x_t) if estimate is None else estimate, context], dim=1)
        elif estimate is not None:
            raise ValueError("estimate given to a model without self-conditioning")
        extra = {} if class_label is None else {"class_label": class_label}  # class-free UNets take none
        return self.unet(x_in, t, context=context, extra_scalars={"s": s}, **extra)

    def loss(self, z0: torch.Tensor, generator: torch.Generator | None = None, class_label=None):
        """Diffusion loss on the frames that are not given (given frames are known); labels are
        dropped to the null token with probability class_drop."""
        cond, mask, s = self.training_condition(z0, generator)
        label = self._labels(class_label, z0.shape[0], z0.device)
        if label is not None and self.cfg.class_drop > 0:
            drop = torch.rand(z0.shape[0], generator=generator).to(z0.device) < self.cfg.class_drop
            label = torch.where(drop, torch.full_like(label, -1), label)
        loss_mask = (1 - mask).expand_as(z0)
        if self.cfg.self_condition:  # half the batch first estimates, without a gradient
            model_fn = self_cond.training_fn(self._net(cond, mask, s, label), self.diffusion)
        else:
            model_fn = self._path(cond, mask, s, label)
        return self.diffusion.loss(model_fn, z0, mask=loss_mask)

    def _net(self, cond, mask, s, label):
        """(x_t, t, clean estimate) -> prediction under fixed conditions."""
        return lambda x_t, t, estimate: self.predict(x_t, t, cond, mask, s, label, estimate)

    def _path(self, cond, mask, s, label):
        """(x_t, t) -> prediction for one sampled batch under fixed conditions; self-conditioned
        models get a fresh path per batch, which keeps its own last estimate."""
        if self.cfg.self_condition:
            return self_cond.SamplingFn(self._net(cond, mask, s, label), self.diffusion)
        return lambda x_t, t: self.predict(x_t, t, cond, mask, s, label)

    def forward(self, z0: torch.Tensor, class_label=None) -> torch.Tensor:
        return self.loss(z0, class_label=class_label)

    @torch.no_grad()
    def sample(
        self,
        cond: torch.Tensor,
        mask: torch.Tensor,
        *,
        steps: int | None = 50,
        sampler: str = "ddim",
        eta: float = 0.0,
        guidance: float = 0.0,
        guidance_form: str = "lvdm",
        perturb_level: int | None = None,
        guide: ConditionalDenoiser | None = None,
        generator: torch.Generator | None = None,
        callback=None,
        class_label=None,
    ) -> torch.Tensor:
        """Latent clips (B, C, T, h, w) consistent with the given frames.

        cond: the given frames (values elsewhere ignored); mask (B or 1, 1, T, 1, 1).
        guidance: LVDM's w (form 'lvdm') or the classifier-free s (form 'cfg'); 0 = off.
        guide: autoguidance (Karras et al. 2024): a weaker model of the same task (same
        conditions) replaces the unconditional prediction, on every call, also the first one
        with nothing given. class_label (an int or (B,) ints; models with classes): the
        unconditional prediction keeps the frames and drops the label, so guidance is
        classifier-free guidance on the class. The given frames (mask = 1) are returned
        exactly as given."""
        b = cond.shape[0]
        mask = mask.to(cond).expand(b, 1, *cond.shape[2:3], 1, 1)
        level = self.cfg.perturb_sample if perturb_level is None else perturb_level
        if self.cfg.perturb_max == 0:
            level = 0
        if not 0 <= level < self.diffusion.num_steps:
            raise ValueError(f"perturb_level must lie in [0, {self.diffusion.num_steps}), got {level}")
        s = torch.full((b,), level, dtype=torch.long, device=cond.device)
        noisy_cond = perturb(self.diffusion, cond, s, torch.randn(cond.shape, generator=generator).to(cond))
        if level == 0:
            noisy_cond = cond  # no perturbation at all: the clean frames
        label = self._labels(class_label, b, cond.device)
        model_fn = self._path(noisy_cond, mask, s, label)
        off = guidance == (0.0 if guidance_form == "lvdm" else 1.0)
        uncond_fn = None
        if guide is not None:
            if guide.cfg.style != self.cfg.style or guide.cfg.mode != self.cfg.mode:
                raise ValueError(
                    f"the guide must do this model's task: mode {self.cfg.mode!r}, style "
                    f"{self.cfg.style!r}; it has {guide.cfg.mode!r}, {guide.cfg.style!r}"
                )
            if not off:
                guide_label = label if guide.num_classes else None
                uncond_fn = guide._path(noisy_cond, mask, s, guide_label)
        elif not off and label is not None:  # the unconditional path drops the label, keeps the frames
            null = torch.full_like(label, -1)
            uncond_fn = self._path(noisy_cond, mask, s, null)
        elif not off and mask.any():  # the unconditional path drops the condition
            empty = torch.zeros_like(mask)
            uncond_fn = self._path(noisy_cond, empty, s, None)
        z = self.diffusion.sample(
            model_fn,
            cond.shape,
            sampler=sampler,
            steps=steps,
            eta=eta,
            uncond_fn=uncond_fn,
            guidance_scale=guidance,
            guidance_form=guidance_form,
            generator=generator,
            callback=callback,
            device=cond.device,
        )
        return torch.where(mask.bool().expand_as(z), cond, z)
