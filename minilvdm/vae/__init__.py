"""The video autoencoder stage: every diffusion model lives in its latent space.

model          the 3D video VAE, its loss, training and evaluation (re-exported here)
blocks         its building blocks: per-frame norm, 3D ResBlocks, encoder/decoder stacks
finetune       Video LDM's temporal decoder fine-tuning
latent_cache   the clips the VAE reads, and the cached latents diffusion trains on

from minilvdm.vae import VideoVAE, train_vae, load_vae
"""

from .model import (
    SPACE_FACTORS,
    TIME_FACTORS,
    DiagonalGaussian,
    VAEConfig,
    VideoVAE,
    check_divisible,
    default_train_config,
    default_vae_config,
    default_vae_train_config,
    evaluate_vae,
    load_vae,
    random_crop,
    reconstruct,
    scale_estimate_clips,
    train_data_config,
    train_vae,
    vae_loss,
)

__all__ = [
    "SPACE_FACTORS",
    "TIME_FACTORS",
    "DiagonalGaussian",
    "VAEConfig",
    "VideoVAE",
    "check_divisible",
    "default_train_config",
    "default_vae_config",
    "default_vae_train_config",
    "evaluate_vae",
    "load_vae",
    "random_crop",
    "reconstruct",
    "scale_estimate_clips",
    "train_data_config",
    "train_vae",
    "vae_loss",
]
