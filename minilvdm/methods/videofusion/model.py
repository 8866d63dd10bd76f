"""VideoFusion (Luo et al., CVPR 2023): decomposed diffusion with shared base noise.

The noise of frame i is split into a base part b shared by every frame of a clip and a
residual part r^i of its own:

    eps^i = sqrt(lambda^i) b + sqrt(1 - lambda^i) r^i,         b, r^i ~ N(0, I)
    z_t^i = sqrt(abar_t) x^i + sqrt(1 - abar_t) eps^i

The base frame is k = floor(T / 2) with lambda^k = 1 (its noise IS the base noise); the
paper uses lambda^i = 0.5 elsewhere. Each eps^i keeps unit variance and
corr(eps^i, eps^j) = sqrt(lambda^i lambda^j) for i != j.

Two generators denoise it:
    base       an image network:       b_hat = base(z_t^k, t)
    residual   frame-index conditioned: z'_t^i = z_t^i - sqrt(lambda^i) sqrt(1 - abar_t) b_hat
                                        r_hat^i = residual(z'_t, t, frame_index=i)
    together   eps_hat^i = sqrt(lambda^i) b_hat + sqrt(1 - lambda^i) r_hat^i   (eps_hat^k = b_hat)

Training: the base loss ||b_hat - b||^2 on frame k; the residual loss ||r_hat^i - r^i||^2
on the other frames, with a stop-gradient on b_hat (the residual loss sends no gradient
into the base generator).

The same split written on the flow's velocity u = eps - x (prediction='flow', the LVDM's recipe;
not the paper's): the base generator predicts b - x^k, the residual one the velocity of
z'_t, sqrt(1 - lambda^i) r^i - x^i, which holds no base noise, and together
    u_hat^i = sqrt(lambda^i) b_hat + (sqrt(1 - lambda^i) r^i - x^i)_hat
where b_hat is read off the base generator's velocity. The residual generator then keeps the
classroom LVDM's parameterisation when it starts from it (`init='classroom'`; with
`init='classroom-both'` the base generator starts from its spatial layers too).

Sampling goes through THE sampler, `Diffusion.sample`, with this model as the `model_fn`
(predicting eps, or the velocity) and `noise_fn` drawing decomposed noise (for x_T and for every
stochastic step). Fix the base noise to keep content and vary motion:

    vf = DecomposedDenoiser(base_unet, residual_unet, diffusion, lam=0.5)
    x = diffusion.sample(vf, shape, sampler="ddim", noise_fn=vf.noise_fn(base=b))

Training on cached VAE latents of Moving MNIST, through the shared Trainer (as `train_lvdm`):

    trainer, vf = train_videofusion(default_videofusion_config(lam=0.5))

The base generator can start from a pretrained image model, fine-tuned at a smaller learning
rate (the paper's recipe): notebook 07's image LDM on its per-frame latents,

    trainer, vf = train_from_image_model(image_trainer, frame_latents, base_lr_scale=0.1)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from ...core.config import OMIT_AT_DEFAULT
from ...core.presets import preset
from ...diffusion.gaussian import Diffusion, DiffusionConfig, check_guide_diffusion
from ...diffusion.unet import SpaceTimeUNet, UNetConfig

PREDICTIONS = ("eps", "flow")  # what the decomposition is written on
INITS = ("", "classroom", "classroom-both")  # from scratch; the residual / both from the classroom


def base_frame(frames: int) -> int:
    """k = floor(T / 2), the frame whose noise is the base noise."""
    return frames // 2


def lambdas(frames: int, lam: float | Sequence[float]) -> torch.Tensor:
    """Per-frame lambda^i, shape (T,): a scalar for every non-base frame, or one value per
    frame; lambda^k = 1 at the base frame either way."""
    values = torch.as_tensor(lam, dtype=torch.float64)
    values = values.expand(frames).clone() if values.ndim == 0 else values.clone()
    if values.shape != (frames,):
        raise ValueError(
            f"lambda must be a scalar or have one value per frame ({frames}), got {tuple(values.shape)}"
        )
    if (values < 0).any() or (values > 1).any():
        raise ValueError(f"lambda must lie in [0, 1], got {values.tolist()}")
    values[base_frame(frames)] = 1.0
    return values


def decomposed_noise(
    shape: Sequence[int],
    lam: float | Sequence[float],
    generator: torch.Generator | None = None,
    base: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(eps, b, r) for a video shape (B, C, T, H, W): eps^i = sqrt(l^i) b + sqrt(1 - l^i) r^i.

    `base` (B, C, 1, H, W) fixes b (same content, new motion); otherwise it is drawn."""
    b_, c, t, h, w = shape
    device = generator.device if generator is not None else None
    if base is None:
        base = torch.randn((b_, c, 1, h, w), generator=generator, device=device)
    elif base.shape != (b_, c, 1, h, w):
        raise ValueError(f"base noise must have shape {(b_, c, 1, h, w)}, got {tuple(base.shape)}")
    residual = torch.randn((b_, c, t, h, w), generator=generator, device=device)
    lam_t = lambdas(t, lam).to(residual.device, residual.dtype).view(1, 1, t, 1, 1)
    eps = lam_t.sqrt() * base.to(residual) + (1 - lam_t).sqrt() * residual  # (B, C, T, H, W)
    return eps, base, residual


class DecomposedDenoiser(nn.Module):
    """Base (image) + residual (frame-indexed video) generators acting as one predictor of eps (or,
    with a 'flow' diffusion, of the velocity).

    base      called as base(z, t) on the base frame z (B, C, 1, H, W); an image model
              (temporal layers are skipped for one frame)
    residual  called as residual(z', t, frame_index=(T,)) on all frames
    """

    def __init__(self, base: nn.Module, residual: nn.Module, diffusion: Diffusion, lam: float = 0.5):
        super().__init__()
        if diffusion.config.prediction not in PREDICTIONS:
            raise ValueError(
                "VideoFusion's decomposition is written on noises ('eps', the paper's) or on the flow's "
                f"velocity ('flow'): DiffusionConfig(prediction=) must be one of {PREDICTIONS}, got "
                f"{diffusion.config.prediction!r}"
            )
        self.base, self.residual, self.diffusion, self.lam = base, residual, diffusion, lam
        self.flow = diffusion.config.prediction == "flow"

    def _lam(self, frames: int, like: torch.Tensor) -> torch.Tensor:
        return lambdas(frames, self.lam).to(like.device, like.dtype).view(1, 1, frames, 1, 1)

    def _sigma(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """sqrt(1 - abar_t), shaped to broadcast against (B, C, T, H, W)."""
        abar = self.diffusion.alpha_bar.to(like.device)[t.long()].to(like.dtype)
        return (1 - abar).sqrt().view(-1, 1, 1, 1, 1)

    def predict(self, z_t: torch.Tensor, t: torch.Tensor, detach_base: bool = False):
        """(pred, base_out, residual_out) for noisy videos z_t (B, C, T, H, W): pred in the
        diffusion's parameterisation (eps_hat, or with 'flow' the velocity u_hat), and what the two
        generators output (eps: b_hat and r_hat; flow: b - x^k and sqrt(1 - lambda) r - x)."""
        frames = z_t.shape[2]
        k = base_frame(frames)
        t = torch.as_tensor(t, device=z_t.device).long().expand(z_t.shape[0])
        z_k = z_t[:, :, k : k + 1]  # (B, C, 1, H, W)
        base_out = self.base(z_k, t)
        b_hat = self.diffusion.to_eps_x0(base_out, z_k, t)[0] if self.flow else base_out
        lam = self._lam(frames, z_t)
        b_used = b_hat.detach() if detach_base else b_hat
        z_res = z_t - lam.sqrt() * self._sigma(t, z_t) * b_used  # remove the base part
        index = torch.arange(frames, device=z_t.device)
        residual_out = self.residual(z_res, t, frame_index=index)  # (B, C, T, H, W)
        if self.flow:  # u^i = eps^i - x^i = sqrt(lambda) b + (sqrt(1 - lambda) r^i - x^i)
            pred = lam.sqrt() * b_used + residual_out
            pred[:, :, k] = (base_out.detach() if detach_base else base_out)[:, :, 0]
        else:
            pred = lam.sqrt() * b_used + (1 - lam).sqrt() * residual_out
            pred[:, :, k] = b_used[:, :, 0]  # lambda^k = 1: the base frame is the base noise
        return pred, base_out, residual_out

    def param_groups(self, base_lr_scale: float = 1.0) -> list[dict]:
        """Trainer param_groups: the base generator at base_lr_scale times the learning rate
        (the paper fine-tunes a pretrained image model gently), the residual generator at 1."""
        return [
            {"params": list(self.base.parameters()), "lr_scale": base_lr_scale},
            {"params": list(self.residual.parameters()), "lr_scale": 1.0},
        ]

    def forward(self, z_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """eps_hat: the `model_fn` that `Diffusion.sample` calls."""
        return self.predict(z_t, t)[0]

    def loss(self, x0: torch.Tensor, t: torch.Tensor | None = None) -> dict:
        """{'loss', 'base', 'residual'}: base loss on frame k, residual loss on the others with a
        stop-gradient on b_hat; each sample weighted by the diffusion's min-SNR weight. With 'flow'
        the targets are the two generators' velocities (`predict`)."""
        b, _, frames, _, _ = x0.shape
        if frames < 2:
            raise ValueError("VideoFusion needs at least 2 frames (a base frame and a residual frame)")
        t = self.diffusion.sample_t(b, x0.device) if t is None else t
        eps, base, residual = decomposed_noise(x0.shape, self.lam)
        eps, base, residual = eps.to(x0), base.to(x0), residual.to(x0)
        z_t = self.diffusion.q_sample(x0, t, eps)
        _, b_hat, r_hat = self.predict(z_t, t, detach_base=True)
        k = base_frame(frames)
        others = [i for i in range(frames) if i != k]
        if self.flow:  # the generators' velocities: b - x^k, and sqrt(1 - lambda) r^i - x^i
            base = base - x0[:, :, k : k + 1]
            residual = (1 - self._lam(frames, x0)).sqrt() * residual - x0
        # per sample, weighted by min-SNR (diffusion.min_snr_gamma; 1 when off) for the prediction
        # type, as an LVDM's (eps: min(SNR_t, gamma) / SNR_t; the flow form takes none)
        weight = self.diffusion.loss_weight(t).to(x0)  # (B,)
        per_sample = lambda err: (err**2).flatten(1).mean(1)  # noqa: E731
        base_loss = (weight * per_sample(b_hat - base)).mean()
        residual_loss = (weight * per_sample(r_hat[:, :, others] - residual[:, :, others])).mean()
        return {"loss": base_loss + residual_loss, "base": base_loss, "residual": residual_loss}

    def noise_fn(self, base: torch.Tensor | None = None):
        """A `noise_fn(shape, generator)` for `Diffusion.sample`: decomposed noise for x_T and
        every stochastic step. `base` fixes b_T (then only x_T uses it; later steps draw fresh b)."""
        calls = {"n": 0}

        def draw(shape, generator=None):
            fixed = base if calls["n"] == 0 else None
            calls["n"] += 1
            return decomposed_noise(shape, self.lam, generator, base=fixed)[0]

        return draw


# ----------------------------------------------------------------------------- training


@dataclass
class VideoFusionConfig:
    """lam for every non-base frame; an image UNet for the base, a frame-indexed video UNet for
    the residual; an eps-prediction diffusion (the paper's), or 'flow' (`predict`). The base
    trains at base_lr_scale times the learning rate. space: 'latent' (the 3D VAE's latents,
    `train_videofusion`) or 'frame-latent' (the per-frame VAE of notebook 07, whose image LDM
    can be the base: `train_from_image_model`)."""

    lam: float = 0.5
    dataset: str = "mnist"
    base_unet: UNetConfig = field(default_factory=lambda: UNetConfig(temporal_layers=False))
    residual_unet: UNetConfig = field(default_factory=lambda: UNetConfig(frame_index_embedding=True))
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    space: str = "latent"  # trained on cached VAE latents, like the LVDM
    num_classes: int = 0  # unconditional
    base_lr_scale: float = 1.0
    # '' trains from scratch; 'classroom' starts the residual generator from the classroom LVDM's
    # UNet (`warm_start_from_classroom`; its frame-index embedding starts at 0), 'classroom-both'
    # also the base from its spatial layers (`warm_start_image_from_classroom`). That model
    # predicts velocities on the rectified-flow schedule: with eps, fine-tuning turns it to noises
    init: str = field(default="", metadata=OMIT_AT_DEFAULT)

    def validate(self) -> None:
        lambdas(2, self.lam)  # raises for lambda outside [0, 1]
        if self.base_unet.temporal_layers:
            raise ValueError("the base generator is an image model: base_unet.temporal_layers must be False")
        if not self.residual_unet.frame_index_embedding:
            raise ValueError("the residual generator needs residual_unet.frame_index_embedding=True")
        if self.space not in ("latent", "frame-latent") or self.num_classes:
            raise ValueError("VideoFusion here is an unconditional model on latents or frame latents")
        if self.base_lr_scale < 0:
            raise ValueError(f"base_lr_scale must be >= 0, got {self.base_lr_scale}")
        if self.diffusion.prediction not in PREDICTIONS:
            kind = self.diffusion.prediction
            raise ValueError(f"diffusion.prediction must be one of {PREDICTIONS}, got {kind!r}")
        warm_here = (self.dataset, self.space) == ("mnist", "latent")
        if self.init not in INITS or (self.init and not warm_here):
            raise ValueError(
                f"init must be one of {INITS} (latent Moving MNIST only), got {self.init!r} "
                f"for {self.dataset!r} / {self.space!r}"
            )

    def build(self) -> DecomposedDenoiser:
        self.validate()
        base, residual = SpaceTimeUNet(self.base_unet), SpaceTimeUNet(self.residual_unet)
        return DecomposedDenoiser(base, residual, Diffusion(self.diffusion), self.lam)


def default_videofusion_config(
    lam: float = 0.5, init: str = "", prediction: str = "eps"
) -> VideoFusionConfig:
    """The profile's UNet sizes on the default Moving MNIST VAE's latent channels, as for the
    LVDM, predicting eps (the paper's decomposition, on noises) with the noise models' min-SNR
    weighting (presets.py `noise_min_snr_gamma`). Without the LVDM's clip context: its recipe was
    measured on the LVDM only. init='classroom' ('classroom-both'): the residual generator (and
    the base) starts from the classroom LVDM, so it takes that UNet's clip context too.
    prediction='flow': the split written on velocities, with the LVDM's diffusion (rectified
    flow, logit-normal t)."""
    from ...vae.model import default_vae_config

    if prediction not in PREDICTIONS:
        raise ValueError(f"prediction must be one of {PREDICTIONS}, got {prediction!r}")
    latent = default_vae_config("mnist").latent_channels
    p = preset("mnist")
    residual = UNetConfig.for_profile(in_channels=latent, frame_index_embedding=True)
    if init:
        residual.clip_context = p.clip_context
    if prediction == "flow":  # the flow LVDM's diffusion (the ci profile's LVDM predicts eps)
        kwargs = dict(schedule="rectified_flow", t_sampling="logit_normal", min_snr_gamma=0.0)
        diffusion = DiffusionConfig(num_steps=p.diffusion.num_steps, prediction="flow", **kwargs)
    else:
        diffusion = DiffusionConfig(num_steps=p.diffusion.num_steps, min_snr_gamma=p.noise_min_snr_gamma)
    return VideoFusionConfig(
        lam=lam,
        base_unet=UNetConfig.for_profile(in_channels=latent, temporal_layers=False),
        residual_unet=residual,
        diffusion=diffusion,
        init=init,
    )


def train_videofusion(
    cfg: VideoFusionConfig,
    train_cfg=None,
    vae_trainer=None,
    progress: bool = True,
    weights: str | None = None,
):
    """Train (resume, or reuse) a VideoFusion model on cached VAE latents of Moving MNIST, as
    `train_lvdm` does. Returns (trainer, model): the EMA or raw weights (`weights`, default
    `train.sampling_weights()`: raw for the short ci/quick runs); the VAE is `vae_trainer`'s."""
    from ...core.config import seed_everything
    from ...core.train import Trainer, checkpoint_path, epoch_indices, pick_weights, sampling_weights
    from ...vae.model import train_vae
    from ..lvdm import default_data_config, default_train_config, training_data

    cfg.validate()
    if cfg.space != "latent":
        raise ValueError("train_videofusion trains on the 3D VAE's latents; see train_from_image_model")
    train_cfg = train_cfg or default_train_config()
    data_cfg = default_data_config(cfg.dataset)
    vae_trainer = vae_trainer or train_vae(cfg.dataset, progress=progress)
    vae = vae_trainer.ema.module.eval()
    x0, _ = training_data(cfg, data_cfg, vae, vae_trainer.ckpt_path, progress)  # (N, C, T, h, w)
    seed_everything(train_cfg.seed)
    bsz, n = train_cfg.batch_size, len(x0)

    def batch_fn(step, rank, world):
        return x0[epoch_indices(step, rank, world, bsz, n, train_cfg.seed)]

    def loss_fn(model, batch):
        return model.loss(batch)["loss"]

    from ..classroom import warm_start_from_classroom, warm_start_identity, warm_start_image_from_classroom

    name = f"videofusion-{cfg.dataset}-lam{cfg.lam:g}"
    start = warm_start_identity(cfg.init, vae_trainer)  # another classroom file: another model
    ckpt = checkpoint_path(name, cfg, train_cfg, data_cfg, vae.cfg, vae_trainer.ckpt_path.name, *start)
    model = cfg.build()
    if cfg.init and not ckpt.exists():  # a checkpoint there holds the weights
        warm_start_from_classroom(model.residual, vae_trainer, progress)
        if cfg.init == "classroom-both":
            warm_start_image_from_classroom(model.base, vae_trainer, progress)
    trainer = Trainer(
        model,
        loss_fn,
        batch_fn,
        train_cfg,
        ckpt,
        model_config=cfg,
        progress=progress,
        param_groups=model.param_groups(cfg.base_lr_scale),
    )
    trainer.fit()
    return trainer, pick_weights(trainer, weights or sampling_weights())


# ----------------------------------------------------------------------------- sampling, comparison
ABLATION_LAMBDAS = (0.0, 0.25, 0.5, 0.75, 0.9)


def ablation_train_config():
    """Equal steps for every lambda of the ablation (notebook 08 and benchmarks/videofusion
    share it, so either reuses the other's checkpoints): presets.py `videofusion_train` over
    the LVDM's training."""
    from ..lvdm import default_train_config

    return dataclasses.replace(default_train_config(), **preset("mnist").videofusion_train.kwargs())


@torch.no_grad()
def sample_videos(
    model: DecomposedDenoiser,
    vae,
    n: int,
    steps: int = 50,
    seed: int = 0,
    base=None,
    batch_size: int = 16,
    frames: int = 16,
    eta: float | None = None,
    autoguide: DecomposedDenoiser | None = None,
    guidance: float = 1.0,
) -> torch.Tensor:
    """n decoded clips (n, C, frames, H, W) in [-1, 1] (Moving MNIST's frame size): DDIM through
    the one sampler with decomposed noise; `base` (1, c, 1, h, w) fixes b_T for every clip.
    autoguide: a weaker model of the same form (Karras et al. 2024): each step takes
    u_guide + guidance (u - u_guide) (both generators from the classroom, guided by the split
    trained from scratch at 3: 0.70 recognisable against 0.60 alone, 64 clips, session 28).
    eta: DDIM's, by default Moving MNIST's for models written in noises (presets.py
    `noise_sample_eta`, 1), for the split on velocities too (both generators from the classroom,
    64 clips: 0.60 recognisable at eta 1 against 0.53 at the plain flow LVDM's eta 0, session 27);
    velocities take the flow LVDM's shifted time grid (`default_shift`). eta > 0: each stochastic
    step's noise is decomposed too (a fresh base per step), so only eta = 0 keeps a clip a
    function of b_T."""
    from ...core.presets import default_shift
    from ...diffusion.schedules import shifted_grid
    from ...vae.latent_cache import video_size

    eta = preset("mnist").noise_sample_eta if eta is None else eta
    prediction = model.diffusion.config.prediction
    if autoguide is not None:
        check_guide_diffusion(model.diffusion.config, autoguide.diffusion.config, who="the autoguide")
    steps = shifted_grid(model.diffusion.num_steps, steps, default_shift("mnist", prediction))
    size = video_size("mnist")
    shape = vae.cfg.latent_shape(frames, size, size)
    out = []
    for start in range(0, n, batch_size):
        b = min(batch_size, n - start)
        z = model.diffusion.sample(
            model,
            (b, *shape),
            sampler="ddim",
            steps=steps,
            eta=eta,
            uncond_fn=autoguide,
            guidance_scale=guidance,
            noise_fn=model.noise_fn(base=None if base is None else base.expand(b, -1, -1, -1, -1)),
            generator=torch.Generator().manual_seed(seed + start),
        )
        out.append(vae.decode_latents(z).clamp(-1, 1))
    return torch.cat(out)


def equal_compute_steps(plain_steps: int, cfg: VideoFusionConfig, lvdm_cfg, vae, batch_size: int) -> dict:
    """How many VideoFusion steps cost what `plain_steps` steps of the plain LVDM cost: both
    step costs measured back to back (so the machine's load cancels out), once per machine
    (`cost.measured_once`), so a rerun trains the same steps and reuses that checkpoint."""
    from ...core.config import config_hash
    from ...core.cost import loss_step_seconds, measured_once
    from ...vae.latent_cache import video_size
    from ..lvdm import LatentVideoDiffusion

    size = video_size(cfg.dataset)

    def measure():
        torch.manual_seed(0)
        x0 = torch.randn(batch_size, *vae.cfg.latent_shape(16, size, size))
        vf, plain = cfg.build(), LatentVideoDiffusion(lvdm_cfg, vae)
        vf_s = loss_step_seconds(lambda: vf.loss(x0)["loss"], vf.parameters())
        return {"vf_s": vf_s, "plain_s": loss_step_seconds(lambda: plain(x0), plain.unet.parameters())}

    # keyed by what sets the cost (the networks, the latents, the batch), not by loss settings
    # such as min-SNR, so a change of objective keeps the step count and its comparison
    nets = config_hash(cfg.base_unet, cfg.residual_unet, lvdm_cfg.unet, vae.cfg)
    cost = measured_once(f"videofusion-vs-lvdm-nets-{nets}-b{batch_size}", measure)
    return {"steps": max(2, round(plain_steps * cost["plain_s"] / cost["vf_s"])), **cost}


def equal_compute_train_config(cfg: VideoFusionConfig, plain_cfg, plain_trainer, vae) -> tuple:
    """(train config, costs): the plain LVDM's (`plain_trainer`, config `plain_cfg`) training
    config with the VideoFusion step count that costs what its steps cost (`equal_compute_steps`);
    notebook 08's model and benchmarks/videofusion's comparison share it, hence the checkpoint."""
    cost = equal_compute_steps(plain_trainer.step, cfg, plain_cfg, vae, plain_trainer.config.batch_size)
    steps = cost["steps"]
    return dataclasses.replace(plain_trainer.config, steps=steps, ckpt_every=max(10, steps // 10)), cost


@torch.no_grad()
def held_out_losses(model: DecomposedDenoiser, latents: torch.Tensor, draws: int = 4) -> dict:
    """{'base', 'residual'}: the two losses averaged over `latents` (N, C, T, h, w) and `draws`
    seeded noise and timestep draws, so runs are compared on the same noise."""
    torch.manual_seed(0)
    out = {"base": 0.0, "residual": 0.0}
    for _ in range(draws):
        for i in range(0, len(latents), 16):
            batch = latents[i : i + 16]
            loss = model.loss(batch)
            for key in out:
                out[key] += loss[key].item() * len(batch) / (draws * len(latents))
    return out
