"""The video models built on the VAE and diffusion stages.

    lvdm             latent video diffusion: VAE + space-time UNet + diffusion (and the pixel baseline)
    videofusion/     decomposed base/residual noise (VideoFusion)
    image_to_video/  from an image model to a video model (Video LDM's lift, LaVie's joint training)
    long_video/      LVDM's hierarchical long-video generation

Nothing is re-exported here; each method's folder re-exports its own names.
"""
