"""Video LDM's temporal decoder fine-tuning (Blattmann et al. 2023, section 3.1.1).

An autoencoder trained on frames decodes each frame on its own, so consecutive frames
flicker. Video LDM keeps the encoder (and hence the latent space every diffusion model
was trained in) frozen, adds temporal layers to the decoder and fine-tunes the decoder
against a video-aware discriminator built from 3D convolutions:

    D loss (hinge)      L_D = E[relu(1 - D(x))] + E[relu(1 + D(x_hat))]
    decoder loss        L_G = |x - x_hat|  +  adv_weight * (-E[D(x_hat)])
    x_hat = Dec(z),  z ~ q(z | x) from the frozen encoder

For a time x1 (image) VAE the decoder gains zero-initialised (2+1)D temporal convs, so
fine-tuning starts exactly at the image decoder; a video VAE's decoder already has them.

Why no second optimizer: the Trainer minimises one scalar. We hand it
L = L_G + L_D and make each player's gradient exact: L_G sees the discriminator through
`functional_call` with *detached* parameters (no gradient reaches D from L_G), and L_D
sees a *detached* x_hat (no gradient reaches the decoder from L_D). Both players then
step together (simultaneous rather than alternating updates), with the Trainer's
checkpointing, resume, EMA and atomic saves unchanged; nothing in train.py changes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from ..core.checkpoint import checkpoint_identity
from ..core.config import FINETUNE_CLIPS_START
from ..core.train import TrainConfig, Trainer, checkpoint_path
from .latent_cache import ClipSource, VideoDataConfig
from .model import VideoVAE, load_vae, random_crop


@dataclass
class FinetuneConfig:
    adv_weight: float = 0.1
    disc_channels: int = 32
    disc_layers: int = 3
    base_checkpoint: str = ""  # SHA-256 of the VAE being fine-tuned: filled in by finetune_decoder


class VideoDiscriminator(nn.Module):
    """3D-conv patch discriminator: (B, C, T, H, W) -> logits (B, 1, T, H/2^n, W/2^n).
    Its 3-frame kernels see motion, so it can tell flickering videos from real ones."""

    def __init__(self, in_channels: int, channels: int = 32, layers: int = 3):
        super().__init__()
        mods, c = [], in_channels
        for i in range(layers):
            c_out = channels * 2 ** min(i, 3)
            mods += [nn.Conv3d(c, c_out, (3, 4, 4), stride=(1, 2, 2), padding=1), nn.LeakyReLU(0.2)]
            c = c_out
        mods.append(nn.Conv3d(c, 1, 3, padding=1))
        self.net = nn.Sequential(*mods)

    def forward(self, x):
        return self.net(x)


class DecoderGAN(nn.Module):
    """The VAE (encoder frozen) plus its discriminator: what the Trainer trains."""

    def __init__(self, vae: VideoVAE, cfg: FinetuneConfig):
        super().__init__()
        self.vae, self.cfg = vae, cfg
        self.disc = VideoDiscriminator(vae.cfg.in_channels, cfg.disc_channels, cfg.disc_layers)
        self.vae.encoder.requires_grad_(False)


def gan_loss(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """L_G + L_D with gradients kept apart (see the module docstring). Trainer loss_fn."""
    gan = getattr(model, "module", model)
    with torch.no_grad():  # the encoder is frozen: the latent space must not move
        z = gan.vae.encode(x).sample()
    x_hat = gan.vae.decode(z)
    rec = (x_hat - x).abs().mean()
    frozen = {k: v.detach() for k, v in gan.disc.named_parameters()}
    g_adv = -functional_call(gan.disc, frozen, (x_hat,)).mean()
    d_loss = F.relu(1 - gan.disc(x)).mean() + F.relu(1 + gan.disc(x_hat.detach())).mean()
    return rec + gan.cfg.adv_weight * g_adv + d_loss


def temporal_decoder_vae(vae: VideoVAE) -> VideoVAE:
    """A copy of `vae` whose decoder has temporal layers: for time x1 new zero-initialised
    (2+1)D convs (outputs unchanged at the start), otherwise the same architecture."""
    cfg = dataclasses.replace(vae.cfg, decoder_temporal=vae.cfg.time_factor == 1)
    new = VideoVAE(cfg).to(vae.scale_factor.device)
    missing, unexpected = new.load_state_dict(vae.state_dict(), strict=False)
    if unexpected or any(".temporal." not in k for k in missing):
        raise RuntimeError(f"cannot carry weights over: missing {missing}, unexpected {unexpected}")
    return new


def finetune_decoder(
    base_checkpoint,
    data_cfg: VideoDataConfig,
    cfg: FinetuneConfig | None = None,
    train_cfg: TrainConfig | None = None,
    name: str = "vae-decoder-ft",
    progress: bool = True,
) -> Trainer:
    """Fine-tune the decoder of the VAE at `base_checkpoint` on `data_cfg` clips. The
    checkpoint name hashes the base checkpoint's bytes, so a retrained VAE is fine-tuned
    anew. The result is `trainer.ema.module.vae`; its encoder equals the base encoder."""
    from ..core.presets import preset

    cfg = dataclasses.replace(cfg or FinetuneConfig(), base_checkpoint=checkpoint_identity(base_checkpoint))
    train_cfg = train_cfg or TrainConfig(**preset(data_cfg.dataset).decoder_train.kwargs())
    base = load_vae(base_checkpoint, device="cpu")
    vae = temporal_decoder_vae(base)
    source = ClipSource(data_cfg)
    bsz = train_cfg.batch_size

    def batch_fn(step, rank, world):
        start = (step * world + rank) * bsz + FINETUNE_CLIPS_START
        if source.length is not None:
            video = source.clips([(start + i) % source.length for i in range(bsz)])[0]
        else:
            video = source.videos(start, bsz)
        return random_crop(video, data_cfg.crop, seed=start)

    trainer = Trainer(
        DecoderGAN(vae, cfg),
        gan_loss,
        batch_fn,
        train_cfg,
        ckpt_path=checkpoint_path(name, vae.cfg, cfg, train_cfg, data_cfg),
        model_config=vae.cfg,
        progress=progress,
    )
    trainer.fit()
    trainer.ema.module.eval()
    return trainer
