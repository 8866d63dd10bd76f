"""From an image model to a video model: Video LDM's lift and LaVie's joint image-video training.

    vae_run = train_frame_vae()                                  # time x1: a per-frame autoencoder
    vae, vae_ckpt = vae_run.ema.module, vae_run.ckpt_path
    latents = clip_latents(vae, vae_ckpt)                        # (N, 4, T, 16, 16) latent clips
    image = train_image_ldm(latents, vae, vae_ckpt)              # the UNet without temporal layers
    # (or all three at once: vae_run, latents, image = image_pipeline())
    video = lift(image.ema.module)                               # + temporal layers, alpha = 0.5
    run = train_video(video, latents, JointConfig(), base_checkpoint=image.ckpt_path)
    clips = sample_clips(run.ema.module, 8, frames=8)            # (8, 1, 8, 64, 64) in [-1, 1]

The lift (Video LDM): after each spatial layer of the trained image UNet a temporal layer is
inserted and mixed with a learnable alpha,

    z_out = a * z_spatial + (1 - a) * temporal(z_spatial),      a in [0, 1], 0.5 at the start,

and every temporal layer starts as the identity (temporal(z) = z: zero-initialised residual
convolutions and attention outputs), so the lifted network computes exactly what the image
network computes, frame by frame, whatever a is;
only the temporal parameters (and the alphas) are trained, the spatial ones stay frozen.

Joint image-video training (LaVie): a batch holds `batch_size` clips and round(ratio *
batch_size) single frames; the frames are T = 1 inputs, so they skip every temporal layer:

    L = mean over items of || eps - eps_theta(z_t, t) ||^2      (a clip's loss: mean over its frames)

Continued training on a shifted distribution with video only makes the spatial layers
forget the original frames; adding original frames as images keeps them
(`minilvdm.methods.image_to_video.experiments.forgetting`).

Context guidance (Video LDM's prediction model, `image_to_video.context`): `ContextPredictor` is trained with
S in {0, 1, 2} leading context frames, condition c_S = (m_S * z, m_S) on channels, and
sampled with eps = eps_u + s (eps_c - eps_u) (`ConditionalDenoiser.sample`, form 'cfg').
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from torch import nn

from ...core.checkpoint import checkpoint_identity
from ...core.config import SEED_MIX, seed_everything
from ...core.presets import FRAME_VAE_LAYOUT, default_eta, default_shift, preset
from ...core.train import TrainConfig, Trainer, checkpoint_path, epoch_indices
from ...diffusion.gaussian import DiffusionConfig, check_guide_diffusion
from ...diffusion.schedules import shifted_grid
from ...diffusion.unet import UNetConfig, count_parameters, freeze_spatial, load_image_weights
from ...vae.latent_cache import VideoDataConfig, load_or_encode_latents, video_size
from ..lvdm import LatentVideoDiffusion, LVDMConfig


# ----------------------------------------------------------------------------- configs
def frame_vae_config():
    """The project's VAE with time factor x1 and 4 latent channels (pinned: this track's
    models and figures must not move when the video VAE's layout does): every frame is
    encoded and decoded on its own."""
    from ...vae.model import default_vae_config

    return dataclasses.replace(default_vae_config("mnist"), **FRAME_VAE_LAYOUT.kwargs())


def i2v_unet_config(video: bool = True, **overrides) -> UNetConfig:
    """The UNet of this track (presets.py `i2v_unet`: one level less than the video track's);
    video=False is the image network (no temporal parameters)."""
    sizes = preset("mnist").i2v_unet.kwargs()
    channels = frame_vae_config().latent_channels
    return UNetConfig(
        in_channels=channels, temporal_layers=video, alpha_mixing=video, **{**sizes, **overrides}
    )


def i2v_config(video: bool = True, prediction: str = "eps") -> LVDMConfig:
    """The image LDM's (video=False) or its video model's config. The diffusion takes the
    Moving MNIST LVDM's steps but by default predicts eps, not the LVDM's flow velocity, with the
    noise models' min-SNR weighting: VideoFusion's base generator starts from this image model, and
    its decomposition is written in noises. prediction='flow': the quick LVDM's objective (rectified
    flow, logit-normal t), for `benchmarks image_levers`."""
    p = preset("mnist")
    if prediction == "flow":  # the quick profile's table holds the flow recipe in every profile
        flow = DiffusionConfig(**preset("mnist", "quick").diffusion.kwargs())
        diffusion = dataclasses.replace(flow, num_steps=p.diffusion.num_steps)
    elif prediction == "eps":
        diffusion = DiffusionConfig(num_steps=p.diffusion.num_steps, min_snr_gamma=p.noise_min_snr_gamma)
    else:
        raise ValueError(f"prediction must be 'eps' or 'flow', got {prediction!r}")
    return LVDMConfig(unet=i2v_unet_config(video), diffusion=diffusion)


def i2v_data_config(frames: int | None = None, count: int | None = None) -> VideoDataConfig:
    """Original-distribution training clips (thin digits); short clips keep CPU runs cheap."""
    p = preset("mnist")
    frames, count = frames or p.short_frames, count or p.i2v_clips
    return VideoDataConfig(
        dataset="mnist", split="train", frames=frames, size=video_size("mnist"), count=count
    )


@dataclass
class JointConfig:
    image_ratio: float = 0.0  # single frames per clip in a batch (LaVie's joint training); 0 = video only
    freeze_spatial: bool = True  # Video LDM: train only the temporal layers
    thickness: int = 0  # stroke dilation of the training clips (> 0: the shifted distribution)

    def validate(self) -> None:
        if self.image_ratio < 0:
            raise ValueError(f"image_ratio must be >= 0 (frames per clip), got {self.image_ratio}")


@dataclass
class Provenance:
    """What a run starts from; hashed into its checkpoint name so other inputs train anew."""

    base: str = ""  # SHA-256 of the starting checkpoint (the VAE's for the image LDM)
    data: tuple = ()  # shape of the training latents


def provenance(checkpoint, data: torch.Tensor) -> Provenance:
    return Provenance(checkpoint_identity(checkpoint) if checkpoint else "", tuple(data.shape))


# ----------------------------------------------------------------------------- data
def train_frame_vae(train_cfg: TrainConfig | None = None, progress: bool = True) -> Trainer:
    """Train (or reuse) the per-frame autoencoder: short clips, as frames are independent."""
    from ...vae.model import train_data_config, train_vae

    p = preset("mnist")
    train_cfg = train_cfg or TrainConfig(**p.frame_vae_train.kwargs())
    data_cfg = train_data_config("mnist", frames=p.frame_vae_frames)
    return train_vae("mnist", frame_vae_config(), train_cfg, data_cfg, name="vae-frame", progress=progress)


@torch.no_grad()
def encode_clips(vae, videos: torch.Tensor, batch_size: int = 16) -> torch.Tensor:
    """(N, 1, T, 64, 64) videos -> scaled latents (N, 4, T, 16, 16)."""
    device = next(vae.parameters()).device
    return torch.cat(
        [
            vae.encode_latents(videos[i : i + batch_size].to(device)).cpu()
            for i in range(0, len(videos), batch_size)
        ]
    )


def thick_clips(n: int, frames: int, thickness: int, start: int = 0, split: str = "train", seed: int = 0):
    """n Moving MNIST clips with dilated strokes: the shifted distribution."""
    from ...data import MovingMNIST

    return MovingMNIST(frames=frames, split=split, seed=seed, thickness=thickness).videos(start, n)


def clip_latents(vae, vae_checkpoint, data_cfg: VideoDataConfig | None = None, progress: bool = True):
    """Cached latents of the original-distribution clips under the per-frame VAE: (N, 4, T, h, w)."""
    from ...vae.latent_cache import cache_path

    data_cfg = data_cfg or i2v_data_config()
    # not the 3D VAE's cache
    path = cache_path(data_cfg, name=f"i2v-frames{data_cfg.frames}", vae_checkpoint=vae_checkpoint)
    return load_or_encode_latents(vae, vae_checkpoint, data_cfg, path=path, progress=progress)["latents"]


# ----------------------------------------------------------------------------- the lift
def lift(image_model: LatentVideoDiffusion, cfg: LVDMConfig | None = None) -> LatentVideoDiffusion:
    """Video LDM: the image model's weights in a video UNet whose temporal layers start
    as identities (alpha = 0.5), so the new network equals the image network on every frame."""
    cfg = cfg or dataclasses.replace(
        image_model.cfg,
        unet=dataclasses.replace(image_model.cfg.unet, temporal_layers=True, alpha_mixing=True),
    )
    if not cfg.unet.alpha_mixing and cfg.unet.temporal_init != "zero":
        raise ValueError(
            "the lifted model must start as the image model: use alpha_mixing or temporal_init='zero'"
        )
    video = LatentVideoDiffusion(cfg, image_model.vae)
    load_image_weights(video.unet, image_model.unet.state_dict())
    return video


def alphas(unet: nn.Module) -> dict[str, float]:
    """The learned mixing factor a of every temporal layer, by module name."""
    return {
        name.removesuffix(".temporal_alpha"): p.item()
        for name, p in unet.named_parameters()
        if name.endswith("temporal_alpha")
    }


# ----------------------------------------------------------------------------- losses
def image_loss(model, frames: torch.Tensor) -> torch.Tensor:
    """Per-item diffusion loss of single frames (B, C, h, w): T = 1, no temporal layer runs."""
    m = getattr(model, "module", model)
    return m.diffusion.loss(
        lambda x, t: m.unet(x, t, enable_time=False), frames[:, :, None], reduction="none"
    )


def joint_loss(model, batch: dict) -> torch.Tensor:
    """LaVie: mean over the batch's items of the clips' losses (temporal layers on) and the
    single frames' losses (temporal layers skipped). Trainer loss_fn."""
    m = getattr(model, "module", model)
    losses = [m.diffusion.loss(lambda x, t: m.unet(x, t), batch["clips"], reduction="none")]
    if batch.get("images") is not None and len(batch["images"]):
        losses.append(image_loss(model, batch["images"]))
    return torch.cat(losses).mean()


def joint_batch(
    clips: torch.Tensor, images: torch.Tensor | None, ratio: float, batch_size: int, step: int, seed: int = 0
):
    """Batch `step`: batch_size clips (an epoch permutation) and round(ratio * batch_size)
    single frames drawn from `images` (M, C, h, w); a pure function of the step."""
    idx = epoch_indices(step, 0, 1, batch_size, len(clips), seed)
    n_img = round(ratio * batch_size)
    batch = {"clips": clips[idx], "images": None}
    if n_img and images is not None:
        g = torch.Generator().manual_seed(seed * SEED_MIX + step)
        batch["images"] = images[torch.randint(0, len(images), (n_img,), generator=g)]
    return batch


def frames_of(latents: torch.Tensor) -> torch.Tensor:
    """(N, C, T, h, w) clips -> (N*T, C, h, w) single frames."""
    return latents.transpose(1, 2).flatten(0, 1)


# ----------------------------------------------------------------------------- training
def default_image_train_config() -> TrainConfig:
    return TrainConfig(**preset("mnist").image_train.kwargs())


def default_video_train_config(steps: int | None = None) -> TrainConfig:
    """The lifted model's training (presets.py `lift_train`)."""
    cfg = TrainConfig(**preset("mnist").lift_train.kwargs())
    return dataclasses.replace(cfg, steps=steps) if steps else cfg


def train_image_ldm(
    latents: torch.Tensor,
    vae,
    vae_checkpoint,
    train_cfg: TrainConfig | None = None,
    progress: bool = True,
    cfg: LVDMConfig | None = None,
) -> Trainer:
    """The image LDM: the UNet without temporal layers, trained on single latent frames
    (`cfg`: another image model's config, e.g. another diffusion, for a comparison)."""
    cfg, train_cfg = cfg or i2v_config(video=False), train_cfg or default_image_train_config()
    if cfg.unet.temporal_layers:
        raise ValueError("the image LDM's UNet has no temporal layers (unet.temporal_layers=False)")
    frames = frames_of(latents)
    seed_everything(train_cfg.seed)

    def batch_fn(step, rank, world):
        return frames[epoch_indices(step, rank, world, train_cfg.batch_size, len(frames), train_cfg.seed)]

    trainer = Trainer(
        LatentVideoDiffusion(cfg, vae),
        lambda model, x: image_loss(model, x).mean(),
        batch_fn,
        train_cfg,
        checkpoint_path("i2v-image", cfg, train_cfg, provenance(vae_checkpoint, latents)),
        model_config=cfg,
        progress=progress,
    )
    trainer.fit()
    trainer.ema.module.eval()
    return trainer


def image_pipeline(frames: int | None = None, progress: bool = True):
    """This track's first half, trained or reused: (frame VAE trainer, latent clips (N, 4, T, h, w)
    of `frames` frames, image LDM trainer); the VAE to use is `vae_trainer.ema.module`."""
    vae_trainer = train_frame_vae(progress=progress)
    vae, ckpt = vae_trainer.ema.module.eval(), vae_trainer.ckpt_path
    latents = clip_latents(vae, ckpt, i2v_data_config(frames), progress=progress)
    return vae_trainer, latents, train_image_ldm(latents, vae, ckpt, progress=progress)


def train_video(
    model: LatentVideoDiffusion,
    clips: torch.Tensor,
    joint: JointConfig,
    train_cfg: TrainConfig | None = None,
    images: torch.Tensor | None = None,
    base_checkpoint=None,
    name: str = "i2v-video",
    progress: bool = True,
) -> Trainer:
    """Train `model` on latent clips (N, C, T, h, w), plus single `images` (M, C, h, w) when
    joint.image_ratio > 0. With joint.freeze_spatial only temporal parameters move. The
    checkpoint name hashes the starting checkpoint, so another image model trains anew."""
    joint.validate()
    if joint.image_ratio > 0 and images is None:
        raise ValueError("image_ratio > 0 needs `images` (single frames) to mix into the batches")
    train_cfg = train_cfg or default_video_train_config()
    if joint.freeze_spatial:
        freeze_spatial(model.unet)
    else:  # LaVie-style fine-tuning: every parameter moves
        model.unet.requires_grad_(True)
    seed_everything(train_cfg.seed)
    bsz = train_cfg.batch_size
    trainer = Trainer(
        model,
        joint_loss,
        lambda step, rank, world: joint_batch(
            clips, images, joint.image_ratio, bsz, step * world + rank, train_cfg.seed
        ),
        train_cfg,
        checkpoint_path(name, model.cfg, train_cfg, joint, provenance(base_checkpoint, clips)),
        model_config=model.cfg,
        progress=progress,
    )
    trainer.fit()
    trainer.ema.module.eval()
    return trainer


def parameter_report(unet: nn.Module) -> str:
    c = count_parameters(unet)
    return (
        f"trained {c['trainable']:,} of {c['total']:,} parameters ({100 * c['trainable'] / c['total']:.1f}%)"
    )


# ----------------------------------------------------------------------------- sampling
@torch.no_grad()
def sample_clips(
    model: LatentVideoDiffusion,
    n: int,
    frames: int,
    *,
    enable_time: bool = True,
    steps: int = 25,
    eta: float | None = None,
    seed: int = 0,
    decoder=None,
    batch_size: int = 16,
    latents_only: bool = False,
    autoguide: LatentVideoDiffusion | None = None,
    guidance: float = 1.0,
) -> torch.Tensor:
    """n clips (n, 1, T, H, W) at Moving MNIST's frame size, in [-1, 1], by DDIM. enable_time=False
    runs the network in image mode: every frame is an independent image sample. `decoder` overrides the VAE
    (e.g. the temporally fine-tuned one). eta: DDIM's; None: Moving MNIST's preset for eps models
    (`noise_sample_eta`, 1: the lifted model's clips 0.23 -> 0.38 recognisable at DDIM 20, 48 clips,
    session 12); a flow model takes the flow LVDM's eta and shifted grid (`default_eta`, `default_shift`).
    autoguide: a weaker model of the same kind (Karras et al. 2024); each step takes
    u_guide + guidance (u - u_guide), both in the same mode (presets.py `lift_autoguidance`: the
    lift guided by the video UNet trained from scratch)."""
    prediction = model.cfg.diffusion.prediction
    if autoguide is not None:
        check_guide_diffusion(model.cfg.diffusion, autoguide.cfg.diffusion, who="the autoguide")
    guide_fn = None
    if autoguide is not None and guidance != 1:  # at 1 the guide cancels: skip its calls
        autoguide.eval()
        guide_fn = lambda x, t: autoguide.unet(x, t, enable_time=enable_time)  # noqa: E731
    eta = default_eta("mnist", prediction) if eta is None else eta
    steps = shifted_grid(model.diffusion.num_steps, steps, default_shift("mnist", prediction))
    model.eval()
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    outs = []
    for start in range(0, n, batch_size):
        b = min(batch_size, n - start)
        shape = model.sample_shape(b, frames, video_size("mnist"))
        z = model.diffusion.sample(
            lambda x, t: model.unet(x, t, enable_time=enable_time),
            shape,
            steps=steps,
            eta=eta,
            uncond_fn=guide_fn,
            guidance_scale=guidance,
            generator=g,
            device=device,
        )
        outs.append(z.cpu())
    z = torch.cat(outs)
    if latents_only:
        return z
    vae = decoder or model.vae
    return torch.cat(
        [
            vae.decode_latents(z[i : i + batch_size].to(device)).clamp(-1, 1).cpu()
            for i in range(0, n, batch_size)
        ]
    )
