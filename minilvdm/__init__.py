"""minilvdm: a compact, tested reference implementation of latent video diffusion.

Data flows one way: data -> VAE -> UNet + diffusion -> long video -> evaluation.
The folders follow it: data/, vae/, diffusion/ (UNet and process), methods/ (LVDM and what
builds on it, long video included), eval/; core/ holds what every stage shares.
Tensors are videos (B, C, T, H, W) with values in [-1, 1].
"""

from .core.config import by_profile, describe, get_device, get_profile, seed_everything, set_profile

__version__ = "0.1.0"
__all__ = ["by_profile", "describe", "get_device", "get_profile", "seed_everything", "set_profile"]
