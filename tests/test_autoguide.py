import pytest
import torch

from minilvdm.core.presets import preset
from minilvdm.diffusion.gaussian import check_guide_diffusion
from minilvdm.methods.autoguide import GUIDE_WIDTH_RATIO, small_guide, small_guide_configs
from minilvdm.methods.lvdm import default_lvdm_config, default_train_config, train_lvdm


@pytest.mark.parametrize("profile", ["ci", "quick", "full"])
def test_the_guide_is_the_model_at_half_width_with_its_diffusion_and_less_training(monkeypatch, profile):
    monkeypatch.setenv("MINILVDM_PROFILE", profile)
    model_cfg, model_train = default_lvdm_config("mnist"), default_train_config("latent", "mnist")
    cfg, train_cfg, name = small_guide_configs("mnist")
    assert cfg.unet.model_channels * GUIDE_WIDTH_RATIO == model_cfg.unet.model_channels
    assert cfg.unet.head_channels == cfg.unet.model_channels  # one head per level, as wide as the net
    # everything but the width is the model's: the same latents, conditions and diffusion
    for key in ("in_channels", "channel_mult", "num_res_blocks", "attention_resolutions", "context_channels"):
        assert getattr(cfg.unet, key) == getattr(model_cfg.unet, key), key
    assert cfg.diffusion == model_cfg.diffusion and cfg.self_condition == model_cfg.self_condition
    check_guide_diffusion(model_cfg.diffusion, cfg.diffusion)  # the sampler accepts it
    assert train_cfg.steps == preset("mnist").autoguide_train.steps < model_train.steps
    assert (train_cfg.lr, train_cfg.batch_size) == (model_train.lr, model_train.batch_size)
    assert name == f"autoguide-w{cfg.unet.model_channels}"


def test_a_trained_guide_is_reused_and_steers_the_models_samples(monkeypatch):
    """ci: the guide trains once under its own name, a second call reuses it, and sampling with it
    gives the model's clips at w = 1, the guide's at w = 0 and neither at w = 2."""
    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    _, model = train_lvdm(default_lvdm_config("mnist"), progress=False)
    trainer, guide = small_guide(progress=False)
    assert trainer.step == preset("mnist").autoguide_train.steps
    assert trainer.ckpt_path.name.startswith("autoguide-w") and trainer.ckpt_path.exists()
    params = sum(p.numel() for p in guide.unet.parameters())
    assert params < sum(p.numel() for p in model.unet.parameters()) / 2

    again, _ = small_guide(progress=False)
    assert again.ckpt_path == trainer.ckpt_path and again.step == trainer.step

    def sample(m, **kw):
        return m.sample(2, steps=3, eta=1.0, decode=False, generator=torch.Generator().manual_seed(0), **kw)

    alone, guide_alone = sample(model), sample(guide)
    assert torch.allclose(sample(model, guide=guide, guidance=1.0), alone, atol=1e-5)
    assert torch.allclose(sample(model, guide=guide, guidance=0.0), guide_alone, atol=1e-5)
    guided = sample(model, guide=guide, guidance=preset("mnist").autoguidance)
    assert not torch.allclose(guided, alone, atol=1e-3) and not torch.allclose(guided, guide_alone, atol=1e-3)
