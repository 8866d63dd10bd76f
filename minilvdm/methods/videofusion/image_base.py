"""VideoFusion with a pretrained image model as its base generator (the paper's setting).

The base generator predicts the noise shared by all frames from one frame, the job of an
image model. VideoFusion therefore starts the base from a pretrained image diffusion model
(here notebook 07's image LDM on per-frame latents) and fine-tunes it gently, at a smaller
learning rate than the residual generator, which always starts from scratch:

    theta_base <- theta_image;   lr_base = base_lr_scale * lr,   lr_residual = lr

    cfg = image_base_config(image_trainer.ema.module.cfg)
    trainer, model = train_from_image_model(image_trainer, clips, base_lr_scale=0.1)
"""

from __future__ import annotations

import dataclasses

import torch

from .model import VideoFusionConfig

BASE_INIT_RUNS = (  # label, base starts from the image model, base lr scale (notebook 08, benchmarks)
    ("image model, fine-tuned at 0.1x lr", True, 0.1),
    ("image model, frozen (0x lr)", True, 0.0),
    ("from scratch, 1x lr", False, 1.0),
)


def image_base_config(image_cfg, lam: float = 0.5, base_lr_scale: float = 0.1) -> VideoFusionConfig:
    """VideoFusion whose base generator has the architecture of an image LDM (`LVDMConfig` with an
    image UNet: notebook 07's, on per-frame latents) and whose residual generator is a video UNet
    of the same width with a frame-index embedding."""
    if image_cfg.unet.temporal_layers:
        raise ValueError("the base generator must be an image model (unet.temporal_layers=False)")
    residual = dataclasses.replace(
        image_cfg.unet, temporal_layers=True, alpha_mixing=False, frame_index_embedding=True
    )
    return VideoFusionConfig(
        lam=lam,
        base_unet=image_cfg.unet,
        residual_unet=residual,
        diffusion=image_cfg.diffusion,
        space="frame-latent",
        base_lr_scale=base_lr_scale,
    )


def train_from_image_model(
    image_trainer,
    clips: torch.Tensor,
    lam: float = 0.5,
    base_lr_scale: float = 0.1,
    pretrained: bool = True,
    train_cfg=None,
    progress: bool = True,
    weights: str | None = None,
):
    """VideoFusion on per-frame latent clips (N, C, T, h, w) of notebook 07's VAE, its base
    generator starting from `image_trainer`'s image LDM (EMA weights, as notebook 07 samples
    them) and fine-tuned at base_lr_scale times the learning rate, as the paper does.
    pretrained=False starts the base from scratch instead: the control. Returns (trainer, model)."""
    from ...core.config import seed_everything
    from ...core.train import Trainer, checkpoint_path, epoch_indices, pick_weights, sampling_weights
    from ..image_to_video.lifting import default_video_train_config, provenance

    image = image_trainer.ema.module
    cfg = image_base_config(image.cfg, lam, base_lr_scale)
    model = cfg.build()
    if pretrained:
        model.base.load_state_dict(image.unet.state_dict())
    train_cfg = train_cfg or default_video_train_config()
    seed_everything(train_cfg.seed)
    bsz, n = train_cfg.batch_size, len(clips)

    def batch_fn(step, rank, world):
        return clips[epoch_indices(step, rank, world, bsz, n, train_cfg.seed)]

    name = f"videofusion-{'image' if pretrained else 'scratch'}base-lam{lam:g}"
    trainer = Trainer(
        model,
        lambda m, batch: m.loss(batch)["loss"],
        batch_fn,
        train_cfg,
        checkpoint_path(name, cfg, train_cfg, provenance(image_trainer.ckpt_path, clips)),
        model_config=cfg,
        progress=progress,
        param_groups=model.param_groups(cfg.base_lr_scale),
    )
    trainer.fit()
    return trainer, pick_weights(trainer, weights or sampling_weights())
