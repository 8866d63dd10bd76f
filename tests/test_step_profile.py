"""benchmarks.step_profile's bf16 lever: the autocast loss and the gradient gap it reports."""

import torch

from benchmarks.step_profile import bf16_loss, gradient_gap
from minilvdm.methods.lvdm import LatentVideoDiffusion, default_lvdm_config
from minilvdm.vae import default_vae_config


def tiny_model():
    torch.manual_seed(0)
    model = LatentVideoDiffusion(default_lvdm_config("mnist"), vae=torch.nn.Identity())
    z = torch.randn(2, *default_vae_config("mnist").latent_shape(16, 64, 64))  # (B, c, t, h, w)
    return model, z


def test_the_gradient_gap_of_a_loss_with_itself_is_zero_because_noise_and_t_are_reseeded():
    model, z = tiny_model()
    assert gradient_gap(model, lambda: model(z), lambda: model(z)) < 1e-6  # a different t: ~1
    assert all(p.grad is None for p in model.unet.parameters())  # it leaves no gradients behind


def test_bf16_autocast_moves_the_gradients_a_little():
    model, z = tiny_model()
    gap = gradient_gap(model, lambda: model(z), bf16_loss(model, z))
    assert 0.0 < gap < 0.1  # bf16 keeps 8 bits of mantissa: about 0.4% per rounding
