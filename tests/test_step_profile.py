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


def test_the_speed_probe_times_one_training_step_of_the_profiles_lvdm_batch(monkeypatch):
    """notebook_memory's host-speed column: a step of the profile's LVDM on one training batch."""
    from benchmarks.step_profile import lvdm_and_latents, lvdm_step_seconds
    from minilvdm.methods.lvdm import default_train_config

    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    model, z = lvdm_and_latents()
    batch = default_train_config("latent", "mnist").batch_size
    assert z.shape == (batch, *default_vae_config("mnist").latent_shape(16, 64, 64))
    assert model.cfg == default_lvdm_config("mnist") and isinstance(model.vae, torch.nn.Identity)
    before = [p.detach().clone() for p in model.unet.parameters()]
    assert 0.0 < lvdm_step_seconds(repeats=1) < 60.0
    # it times its own copy: nothing the caller holds is trained
    assert all(torch.equal(a, b) for a, b in zip(before, model.unet.parameters()))
