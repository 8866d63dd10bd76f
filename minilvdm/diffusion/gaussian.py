"""Gaussian diffusion on tensors of any shape (images (B, C, H, W), videos (B, C, T, H, W)).

    diff = Diffusion(DiffusionConfig(schedule="scaled_linear", prediction="eps"))
    x_t = diff.q_sample(x0, t, noise)                      # forward process q(x_t | x_0)
    loss = diff.loss(lambda x, t: model(x, t), x0)         # training loss (optional min-SNR)
    x0 = diff.sample(model_fn, shape, sampler="ddim", steps=50, eta=0.0)

`model_fn(x_t, t) -> prediction` in the config's parameterisation ('eps', 'x0', 'v' or 'flow');
`t` is a (B,) long tensor. Everything a notebook needs to change goes through arguments
of the ONE sampler entry point `sample`:
    steps / spacing    the step subsequence (int, or an explicit list of timesteps)
    eta                DDIM stochasticity (0 = deterministic, 1 = DDPM's variance)
    uncond_fn, guidance_scale, guidance_form, guidance_interval
                       classifier-free guidance; see `guide` for the two forms and
                       `guided` for the interval of timesteps it acts on
    noise_fn(shape, generator)
                       where every Gaussian draw comes from (x_T and per-step noise);
                       VideoFusion passes base + residual noise here. Default torch.randn,
                       or `mixed_noise` with DiffusionConfig.noise_correlation > 0.
    callback(i, t, x, x0_pred) -> None | Tensor
                       called after every step with the new sample; returning a tensor
                       replaces the sample (e.g. to write known frames back in)
    x_T, generator, clip_x0

Equations (alpha_bar_t = prod_{s<=t} (1 - beta_s), a = alpha_bar_t, a' = alpha_bar_{t'}):
    q(x_t | x_0)  = N(sqrt(a) x_0, (1 - a) I)
    v             = sqrt(a) eps - sqrt(1 - a) x_0
    DDPM (t -> t', beta = 1 - a / a'):
        mean = sqrt(a') beta / (1 - a) x_0 + sqrt(1 - beta) (1 - a') / (1 - a) x_t
        var  = (1 - a') / (1 - a) beta
    DDIM (t -> t'):
        sigma = eta sqrt((1 - a') / (1 - a) (1 - a / a'))
        x_t'  = sqrt(a') x_0 + sqrt(1 - a' - sigma^2) eps + sigma z
The final step goes to t' = -1 with alpha_bar_{-1} = 1 (a clean sample).

Flow matching (rectified flow, Liu et al. 2023; SD3's logit-normal t, Esser et al. 2024) is the
same family seen in other coordinates. Any x_t above, times c = 1 / (sqrt(a) + sqrt(1 - a)), lies
on the straight line between data and noise:
    c x_t = (1 - s) x_0 + s eps,   s = c sqrt(1 - a)
prediction='flow' trains the network on the line's velocity u = eps - x_0 (it reads the unit-variance
x_t, as EDM's input scaling would), schedule='rectified_flow' spaces s evenly, and
t_sampling='logit_normal' draws s = sigmoid(n), n ~ N(0, 1), for training. DDIM with eta = 0 is
then exactly the Euler step of the flow ODE, x_{s'} = x_s + (s' - s) u, so the samplers need
nothing new.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import torch
from tqdm.auto import tqdm

from ..core.config import OMIT_AT_DEFAULT
from .schedules import make_betas, make_timesteps, snr

PREDICTIONS = ("eps", "x0", "v", "flow")
T_SAMPLINGS = ("uniform", "logit_normal")
SAMPLERS = ("ddpm", "ddim")
GUIDANCE_FORMS = ("cfg", "lvdm")

ModelFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Interval = tuple[int, int]  # (t_low, t_high), inclusive timesteps


@dataclass
class DiffusionConfig:
    num_steps: int = 1000
    schedule: str = "scaled_linear"  # 'linear' | 'scaled_linear' (LVDM) | 'cosine' | 'rectified_flow'
    beta_start: float = 0.0015
    beta_end: float = 0.0155
    prediction: str = "eps"  # what the network outputs: 'eps' | 'x0' | 'v' | 'flow' (u = eps - x0)
    min_snr_gamma: float = 0.0  # > 0: min-SNR loss weighting (Hang et al. 2023, gamma = 5)
    # training timesteps: 'uniform' over 0..N-1, or 'logit_normal' in the flow coordinate s (SD3)
    t_sampling: str = field(default="uniform", metadata=OMIT_AT_DEFAULT)
    # > 0: every Gaussian draw of a video shares this share of its variance across frames
    # (PYoCo's mixed noise prior, Ge et al. 2023), in training and sampling; see `mixed_noise`
    noise_correlation: float = field(default=0.0, metadata=OMIT_AT_DEFAULT)

    def validate(self) -> None:
        if self.prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {PREDICTIONS}, got {self.prediction!r}")
        if self.t_sampling not in T_SAMPLINGS:
            raise ValueError(f"t_sampling must be one of {T_SAMPLINGS}, got {self.t_sampling!r}")
        if self.min_snr_gamma < 0:
            raise ValueError(f"min_snr_gamma must be >= 0, got {self.min_snr_gamma}")
        if not 0 <= self.noise_correlation < 1:
            raise ValueError(f"noise_correlation must lie in [0, 1), got {self.noise_correlation}")


def default_noise(shape, generator: torch.Generator | None = None) -> torch.Tensor:
    """N(0, I) on the generator's device (CPU without one). The sampler moves it to the data."""
    return torch.randn(tuple(shape), generator=generator, device=generator.device if generator else None)


def mixed_noise(shape, generator: torch.Generator | None = None, correlation: float = 0.0) -> torch.Tensor:
    """Video noise (B, C, T, H, W) whose frames are correlated: eps^i = sqrt(c) b + sqrt(1 - c) r^i,
    b and r^i ~ N(0, I), so each eps^i ~ N(0, I) and corr(eps^i, eps^j) = c (PYoCo). The forward
    process is then q(x_t | x_0) = N(sqrt(a) x_0, (1 - a) S) with that covariance S, and DDPM
    and DDIM keep their formulas when every draw, x_T included, comes from N(0, S).
    Other shapes (images) get N(0, I)."""
    if len(shape) != 5 or correlation == 0:
        return default_noise(shape, generator)
    b, c, _, h, w = shape
    shared = default_noise((b, c, 1, h, w), generator)  # (B, C, 1, H, W): one draw for every frame
    return correlation**0.5 * shared + (1 - correlation) ** 0.5 * default_noise(shape, generator)


def check_guide_diffusion(
    config: DiffusionConfig, guide_config: DiffusionConfig, who: str = "the guide model"
) -> None:
    """Raise unless a guide's predictions mean what the model's do: the same kind of prediction on
    the same noise schedule (guidance mixes the two outputs; `who` names the guide in the error)."""
    for key in ("num_steps", "schedule", "beta_start", "beta_end", "prediction"):
        if getattr(config, key) != getattr(guide_config, key):
            raise ValueError(
                f"{who}'s diffusion {key} is {getattr(guide_config, key)!r}, this model's "
                f"{getattr(config, key)!r}: guidance mixes predictions of one schedule and one kind"
            )


def guide(pred_c: torch.Tensor, pred_u: torch.Tensor, scale: float, form: str = "cfg") -> torch.Tensor:
    """Combine conditional and unconditional predictions.

    'cfg'  (classifier-free, Video LDM context guidance): eps_u + s (eps_c - eps_u)
    'lvdm' (LVDM unconditional guidance):                (1 + w) eps_c - w eps_u
    The two coincide for s = 1 + w. Both are affine in the prediction, so they apply
    unchanged to x0 or v predictions.
    """
    if form == "cfg":
        return pred_u + scale * (pred_c - pred_u)
    if form == "lvdm":
        return (1 + scale) * pred_c - scale * pred_u
    raise ValueError(f"guidance form must be one of {GUIDANCE_FORMS}, got {form!r}")


def guided(
    model_fn: ModelFn, uncond_fn: ModelFn, scale: float, form: str = "cfg", interval: Interval | None = None
) -> ModelFn:
    """A model_fn that returns `guide(model_fn(x, t), uncond_fn(x, t), scale, form)`.

    interval (t_low, t_high): guide only at timesteps t_low <= t <= t_high and use model_fn alone
    elsewhere, skipping uncond_fn's call (Kynkaanniemi et al. 2024: guidance at the noisiest
    levels mostly costs diversity, at the cleanest it does little)."""
    if interval is not None:
        low, high = interval
        if not 0 <= low <= high:
            raise ValueError(f"a guidance interval needs 0 <= t_low <= t_high, got {interval}")

    def fn(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if interval is not None and not interval[0] <= int(t[0]) <= interval[1]:
            return model_fn(x, t)
        return guide(model_fn(x, t), uncond_fn(x, t), scale, form)

    return fn


class Diffusion:
    def __init__(self, config: DiffusionConfig | None = None):
        self.config = config = config or DiffusionConfig()
        config.validate()
        self.num_steps = config.num_steps
        self.betas = make_betas(config.schedule, config.num_steps, config.beta_start, config.beta_end)
        self.alphas = 1 - self.betas
        self.alpha_bar = torch.cumprod(self.alphas, 0)  # (N,) float64
        self.snr = snr(self.alpha_bar)
        # the flow coordinate of each step: c x_t = (1 - s) x_0 + s eps, increasing in t
        self.flow_scale = 1 / (self.alpha_bar.sqrt() + (1 - self.alpha_bar).sqrt())  # c, (N,)
        self.flow_s = self.flow_scale * (1 - self.alpha_bar).sqrt()  # s, (N,)
        # where loss and sample draw their noise when not given a noise_fn
        self.noise_fn = partial(mixed_noise, correlation=config.noise_correlation)

    # ------------------------------------------------------------------ helpers
    def _at(self, values: torch.Tensor, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """values[t] shaped (B, 1, 1, ...) to broadcast against x. t = -1 reads alpha_bar_{-1} = 1."""
        t = torch.as_tensor(t, device=x.device).long()
        if t.ndim == 0:
            t = t.expand(x.shape[0])
        out = values.to(x.device)[t.clamp(min=0)]
        if values is self.alpha_bar:
            out = torch.where(t < 0, torch.ones_like(out), out)
        return out.to(x.dtype).view(-1, *([1] * (x.ndim - 1)))

    def sample_t(self, batch: int, device=None, generator: torch.Generator | None = None) -> torch.Tensor:
        """Training timesteps, shape (B,): t ~ U{0 .. N-1}, or with t_sampling='logit_normal'
        the step whose flow coordinate s_t is the first at or above sigmoid(n), n ~ N(0, 1)."""
        if self.config.t_sampling == "uniform":
            return torch.randint(0, self.num_steps, (batch,), generator=generator, device=device)
        s = torch.sigmoid(torch.randn(batch, generator=generator, dtype=torch.float64))
        t = torch.searchsorted(self.flow_s, s).clamp(max=self.num_steps - 1)
        return t.to(device)

    # ------------------------------------------------------------------ forward process
    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps."""
        a = self._at(self.alpha_bar, t, x0)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def q_posterior(self, x0: torch.Tensor, x_t: torch.Tensor, t, t_prev=None):
        """Mean and variance of q(x_{t'} | x_t, x_0), t' = t_prev (default t - 1): DDPM's step."""
        t = torch.as_tensor(t, device=x_t.device).long()
        t_prev = t - 1 if t_prev is None else torch.as_tensor(t_prev, device=x_t.device).long()
        a, a_prev = self._at(self.alpha_bar, t, x_t), self._at(self.alpha_bar, t_prev, x_t)
        beta = 1 - a / a_prev  # the effective beta of the jump t -> t'
        mean = a_prev.sqrt() * beta / (1 - a) * x0 + (1 - beta).sqrt() * (1 - a_prev) / (1 - a) * x_t
        var = ((1 - a_prev) / (1 - a) * beta).clamp(min=1e-20)
        return mean, var

    # ------------------------------------------------------------------ parameterisations
    def eps_to_x0(self, x_t, t, eps):
        a = self._at(self.alpha_bar, t, x_t)
        return (x_t - (1 - a).sqrt() * eps) / a.sqrt()

    def x0_to_eps(self, x_t, t, x0):
        a = self._at(self.alpha_bar, t, x_t)
        return (x_t - a.sqrt() * x0) / (1 - a).sqrt()

    def v_from(self, x0, eps, t):
        """v = sqrt(alpha_bar) eps - sqrt(1 - alpha_bar) x_0."""
        a = self._at(self.alpha_bar, t, x0)
        return a.sqrt() * eps - (1 - a).sqrt() * x0

    def v_to_x0(self, x_t, t, v):
        a = self._at(self.alpha_bar, t, x_t)
        return a.sqrt() * x_t - (1 - a).sqrt() * v

    def v_to_eps(self, x_t, t, v):
        a = self._at(self.alpha_bar, t, x_t)
        return (1 - a).sqrt() * x_t + a.sqrt() * v

    def target(self, x0, noise, t) -> torch.Tensor:
        """What the network should output, in the config's parameterisation."""
        kind = self.config.prediction
        if kind == "flow":
            return noise - x0  # u = d/ds [(1 - s) x_0 + s eps]
        return noise if kind == "eps" else x0 if kind == "x0" else self.v_from(x0, noise, t)

    def to_eps_x0(self, pred, x_t, t, clip_x0: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """A prediction in any parameterisation -> (eps, x0). With clip_x0, x0 is clamped to
        [-1, 1] and eps re-derived from it so the pair stays consistent."""
        kind = self.config.prediction
        if kind == "eps":
            eps, x0 = pred, self.eps_to_x0(x_t, t, pred)
        elif kind == "x0":
            eps, x0 = self.x0_to_eps(x_t, t, pred), pred
        elif kind == "v":
            eps, x0 = self.v_to_eps(x_t, t, pred), self.v_to_x0(x_t, t, pred)
        else:  # flow: on the line c x_t = (1 - s) x_0 + s eps with velocity u = eps - x_0
            c, s = self._at(self.flow_scale, t, x_t), self._at(self.flow_s, t, x_t)
            x0, eps = c * x_t - s * pred, c * x_t + (1 - s) * pred
        if clip_x0:
            x0 = x0.clamp(-1, 1)
            eps = self.x0_to_eps(x_t, t, x0)
        return eps, x0

    split = to_eps_x0  # the older name

    # ------------------------------------------------------------------ training
    def loss_weight(self, t: torch.Tensor) -> torch.Tensor:
        """Per-sample min-SNR weight (1 when disabled), expressed for the prediction type:
        eps: min(SNR, g) / SNR;  x0: min(SNR, g);  v: min(SNR, g) / (SNR + 1);
        flow: min(SNR, g) s^2 (the x0 error is s times the velocity's)."""
        gamma = self.config.min_snr_gamma
        s = self.snr.to(t.device)[t]
        if gamma <= 0:
            return torch.ones_like(s, dtype=torch.float32)
        clipped = s.clamp(max=gamma)
        kind = self.config.prediction
        if kind == "flow":
            return (clipped * self.flow_s.to(t.device)[t] ** 2).float()
        w = clipped / s if kind == "eps" else clipped if kind == "x0" else clipped / (s + 1)
        return w.float()

    def loss(
        self,
        model_fn: Callable,
        x0: torch.Tensor,
        *,
        t: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
        noise_fn: Callable | None = None,
        mask: torch.Tensor | None = None,
        reduction: str = "mean",
        **cond,
    ) -> torch.Tensor:
        """E_t,eps || model_fn(x_t, t, **cond) - target ||^2, averaged per sample (over `mask`
        where given: 1 = counts, broadcastable to x0), weighted by `loss_weight`, then over
        the batch (reduction='mean') or returned per sample ('none')."""
        b = x0.shape[0]
        t = self.sample_t(b, x0.device) if t is None else t
        if noise is None:
            noise = (noise_fn or self.noise_fn)(x0.shape, None).to(x0)
        x_t = self.q_sample(x0, t, noise)
        pred = model_fn(x_t, t, **cond)
        if pred.shape != x0.shape:
            raise ValueError(
                f"model output shape {tuple(pred.shape)} must equal the data shape {tuple(x0.shape)}"
            )
        err = (pred.float() - self.target(x0, noise, t).float()) ** 2
        if mask is not None:
            mask = mask.float().expand_as(err)
            per_sample = (err * mask).flatten(1).sum(1) / mask.flatten(1).sum(1).clamp(min=1)
        else:
            per_sample = err.flatten(1).mean(1)
        per_sample = per_sample * self.loss_weight(t)
        if reduction == "none":
            return per_sample
        if reduction != "mean":
            raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")
        return per_sample.mean()

    # ------------------------------------------------------------------ one reverse step
    def ddpm_step(self, pred, x_t, t, t_prev, noise, clip_x0: bool = False):
        """Ancestral step t -> t_prev: x_{t'} = mean + sqrt(var) z (no noise when t' = -1)."""
        eps, x0 = self.to_eps_x0(pred, x_t, t, clip_x0)
        mean, var = self.q_posterior(x0, x_t, t, t_prev)
        return mean + var.sqrt() * noise, x0

    def ddim_step(self, pred, x_t, t, t_prev, noise, eta: float = 0.0, clip_x0: bool = False):
        """DDIM step t -> t_prev (any t' < t): x_{t'} = sqrt(a') x0 + sqrt(1 - a' - s^2) eps + s z."""
        eps, x0 = self.to_eps_x0(pred, x_t, t, clip_x0)
        a, a_prev = self._at(self.alpha_bar, t, x_t), self._at(self.alpha_bar, t_prev, x_t)
        sigma = eta * ((1 - a_prev) / (1 - a) * (1 - a / a_prev)).clamp(min=0).sqrt()
        x_prev = a_prev.sqrt() * x0 + (1 - a_prev - sigma**2).clamp(min=0).sqrt() * eps
        return x_prev + sigma * noise, x0

    # ------------------------------------------------------------------ the sampler
    @torch.no_grad()
    def sample(
        self,
        model_fn: ModelFn,
        shape: Sequence[int],
        *,
        sampler: str = "ddim",
        steps: int | Sequence[int] | None = None,
        spacing: str = "trailing",
        eta: float = 0.0,
        uncond_fn: ModelFn | None = None,
        guidance_scale: float = 1.0,
        guidance_form: str = "cfg",
        guidance_interval: Interval | None = None,
        noise_fn: Callable | None = None,
        callback: Callable | None = None,
        generator: torch.Generator | None = None,
        x_T: torch.Tensor | None = None,
        clip_x0: bool = False,
        device=None,
        progress: bool = False,
    ) -> torch.Tensor:
        """Generate samples of `shape` (returns x_0). See the module docstring for arguments;
        `progress` shows a bar over the denoising steps."""
        if sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
        if eta < 0:
            raise ValueError(f"eta must be >= 0, got {eta}")
        noise_fn = noise_fn or self.noise_fn
        if uncond_fn is not None:
            model_fn = guided(model_fn, uncond_fn, guidance_scale, guidance_form, guidance_interval)
        x = x_T if x_T is not None else noise_fn(tuple(shape), generator)
        x = x.to(device or x.device, torch.float32)
        timesteps = make_timesteps(self.num_steps, steps, spacing)
        for i, t_now in enumerate(tqdm(timesteps, desc=sampler, disable=not progress, leave=False)):
            t_next = timesteps[i + 1] if i + 1 < len(timesteps) else -1
            t = torch.full((x.shape[0],), t_now, device=x.device, dtype=torch.long)
            t_prev = torch.full_like(t, t_next)
            pred = model_fn(x, t).float()
            stochastic = (sampler == "ddpm" or eta > 0) and t_next >= 0  # the last step adds no noise
            noise = noise_fn(x.shape, generator).to(x) if stochastic else torch.zeros_like(x)
            if sampler == "ddpm":
                x, x0 = self.ddpm_step(pred, x, t, t_prev, noise, clip_x0)
            else:
                x, x0 = self.ddim_step(pred, x, t, t_prev, noise, eta, clip_x0)
            if callback is not None:
                replaced = callback(i, t_now, x, x0)
                if isinstance(replaced, torch.Tensor):
                    x = replaced
        return x
