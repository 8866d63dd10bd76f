"""From an image model to a video model.

lifting       per-frame VAE, image LDM, Video LDM's lift, LaVie's joint training (re-exported here)
context       Video LDM's prediction model with context guidance
experiments   the track's experiments: LaVie's forgetting, decoder flicker, metrics
"""

from .lifting import (
    JointConfig,
    Provenance,
    alphas,
    clip_latents,
    default_image_train_config,
    default_video_train_config,
    encode_clips,
    frame_vae_config,
    frames_of,
    i2v_config,
    i2v_data_config,
    i2v_unet_config,
    image_loss,
    image_pipeline,
    joint_batch,
    joint_loss,
    lift,
    parameter_report,
    provenance,
    sample_clips,
    thick_clips,
    train_frame_vae,
    train_image_ldm,
    train_video,
)

__all__ = [
    "JointConfig",
    "Provenance",
    "alphas",
    "clip_latents",
    "default_image_train_config",
    "default_video_train_config",
    "encode_clips",
    "frame_vae_config",
    "frames_of",
    "i2v_config",
    "i2v_data_config",
    "i2v_unet_config",
    "image_loss",
    "image_pipeline",
    "joint_batch",
    "joint_loss",
    "lift",
    "parameter_report",
    "provenance",
    "sample_clips",
    "thick_clips",
    "train_frame_vae",
    "train_image_ldm",
    "train_video",
]
