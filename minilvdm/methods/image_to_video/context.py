"""Video LDM's prediction model with context guidance, built on the lifted video LDM.

`ContextPredictor` is trained with S in {0, 1, ..., max_given} leading context frames; the
condition c_S = (m_S * z, m_S) enters on extra input channels (zero-initialised, so training
starts from the lifted model). Sampling with guidance scale s:

    eps = eps_u + s (eps_c - eps_u)        (`ConditionalDenoiser.sample`, form 'cfg')
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from ...core.config import seed_everything
from ...core.train import TrainConfig, Trainer, checkpoint_path, epoch_indices
from ...diffusion.conditioning import ConditionalDenoiser, ConditionConfig
from ...diffusion.unet import SpaceTimeUNet
from ..lvdm import LatentVideoDiffusion
from .lifting import default_video_train_config, provenance


class ContextPredictor(ConditionalDenoiser):
    """Video LDM's prediction model: trained with S in {0, 1, ..., max_given} leading context
    frames (S = 0 with probability p_drop, else uniform in 1..max_given), c_S = (m_S * z, m_S)
    on channels. Sampling: `sample(cond, mask, guidance=s, guidance_form='cfg')`."""

    def __init__(self, unet: nn.Module, diffusion, max_given: int = 2, p_drop: float = 1 / 3):
        super().__init__(
            unet,
            diffusion,
            ConditionConfig(
                mode="predict",
                given=max_given,
                p_drop=p_drop,
                perturb_max=0,
                perturb_sample=0,
                style="videoldm",
            ),
        )
        self.max_given = max_given

    def training_condition(self, z0: torch.Tensor, generator: torch.Generator | None = None):
        b, _, frames = z0.shape[:3]
        if not 1 <= self.max_given < frames:
            raise ValueError(f"max_given must lie in 1..frames-1 ({frames - 1}), got {self.max_given}")
        given = torch.randint(1, self.max_given + 1, (b,), generator=generator)
        given = given * (torch.rand(b, generator=generator) >= self.cfg.p_drop)  # S = 0: unconditional
        mask = (torch.arange(frames)[None] < given[:, None]).to(z0)  # (B, T): m_S = 1 on the first S frames
        s = torch.zeros(b, dtype=torch.long, device=z0.device)  # no conditional perturbation here
        return z0, mask.view(b, 1, frames, 1, 1), s


def predictor_unet(video_unet: SpaceTimeUNet) -> SpaceTimeUNet:
    """A prediction UNet (context channels C + 1, scalar 's') that starts as `video_unet`: the
    new input channels of conv_in and the 's' embedding's output start at zero."""
    c = video_unet.cfg.in_channels
    cfg = dataclasses.replace(video_unet.cfg, context_channels=c + 1, scalar_embeddings=("s",))
    unet = SpaceTimeUNet(cfg).to(next(video_unet.parameters()).device)
    state = video_unet.state_dict()
    weight = state.pop("conv_in.weight")
    unet.load_state_dict(state, strict=False)
    with torch.no_grad():
        unet.conv_in.weight.zero_()
        unet.conv_in.weight[:, :c] = weight
        nn.init.zeros_(unet.scalar_embed["s"][-1].weight)
        nn.init.zeros_(unet.scalar_embed["s"][-1].bias)
    return unet


def train_predictor(
    video_model: LatentVideoDiffusion,
    clips: torch.Tensor,
    train_cfg: TrainConfig | None = None,
    base_checkpoint=None,
    progress: bool = True,
) -> Trainer:
    """Train a ContextPredictor initialised from the lifted video model (all parameters)."""
    train_cfg = train_cfg or default_video_train_config()
    unet = predictor_unet(video_model.unet)
    model = ContextPredictor(unet, video_model.diffusion)
    seed_everything(train_cfg.seed)
    bsz = train_cfg.batch_size
    trainer = Trainer(
        model,
        lambda m, x: getattr(m, "module", m).loss(x),
        lambda step, rank, world: clips[epoch_indices(step, rank, world, bsz, len(clips), train_cfg.seed)],
        train_cfg,
        checkpoint_path("i2v-predict", unet.cfg, train_cfg, provenance(base_checkpoint, clips)),
        model_config=unet.cfg,
        progress=progress,
    )
    trainer.fit()
    trainer.ema.module.eval()
    return trainer
