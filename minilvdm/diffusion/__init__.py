"""The diffusion stage: the process and the network that denoises.

gaussian       Gaussian diffusion: forward process, loss, the one sampler (re-exported here)
schedules      noise schedules and sampling step subsequences
unet           the factorized space-time UNet
attention      spatial, temporal and joint self-attention
conditioning   conditioning by mask, latent perturbation and guidance (LVDM)
self_condition self-conditioning: the denoiser reads its own last clean estimate

from minilvdm.diffusion import Diffusion, DiffusionConfig
from minilvdm.diffusion.unet import SpaceTimeUNet, UNetConfig
"""

from .gaussian import (
    GUIDANCE_FORMS,
    PREDICTIONS,
    SAMPLERS,
    Diffusion,
    DiffusionConfig,
    ModelFn,
    default_noise,
    guide,
    guided,
)

__all__ = [
    "GUIDANCE_FORMS",
    "PREDICTIONS",
    "SAMPLERS",
    "Diffusion",
    "DiffusionConfig",
    "ModelFn",
    "default_noise",
    "guide",
    "guided",
]
