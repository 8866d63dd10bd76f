"""VideoFusion: decomposed diffusion with shared base noise.

model        the decomposed noise, the base/residual denoiser, training (re-exported here)
image_base   the base generator started from a pretrained image model
"""

from .model import (
    ABLATION_LAMBDAS,
    DecomposedDenoiser,
    VideoFusionConfig,
    ablation_train_config,
    base_frame,
    decomposed_noise,
    default_videofusion_config,
    equal_compute_steps,
    equal_compute_train_config,
    held_out_losses,
    lambdas,
    sample_videos,
    train_videofusion,
)

__all__ = [
    "ABLATION_LAMBDAS",
    "DecomposedDenoiser",
    "VideoFusionConfig",
    "ablation_train_config",
    "base_frame",
    "decomposed_noise",
    "default_videofusion_config",
    "equal_compute_steps",
    "equal_compute_train_config",
    "held_out_losses",
    "lambdas",
    "sample_videos",
    "train_videofusion",
]
