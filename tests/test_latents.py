"""The latent cache: encoded once, reused only for the same VAE checkpoint and data config."""

import dataclasses

import pytest
import torch

from minilvdm.core.train import save_checkpoint
from minilvdm.vae import VAEConfig, VideoVAE
from minilvdm.vae.latent_cache import ClipSource, VideoDataConfig, load_or_encode_latents


@pytest.fixture
def setup(tmp_path):
    torch.manual_seed(0)
    vae = VideoVAE(VAEConfig(base_channels=4, channel_mult=(1,), time_factor=2, space_factor=2)).eval()
    vae.scale_factor.fill_(0.5)
    ckpt = tmp_path / "vae.pt"
    save_checkpoint({"format": 1, "model": vae.state_dict()}, ckpt)
    data = VideoDataConfig("mnist", split="test", frames=4, size=32 + 8, count=3)
    return vae, ckpt, data, tmp_path / "cache.pt"


def test_encode_then_reuse(setup):
    vae, ckpt, data, path = setup
    first = load_or_encode_latents(vae, ckpt, data, path=path, progress=False)
    assert first["encoded"] and first["latents"].shape == (3, 4, 2, 20, 20)
    assert first["labels"].shape == (3, 3)
    video = ClipSource(data).videos(0, 3)
    torch.testing.assert_close(first["latents"], vae.encode_latents(video))
    again = load_or_encode_latents(vae, ckpt, data, path=path, progress=False)
    assert not again["encoded"]
    torch.testing.assert_close(again["latents"], first["latents"])
    assert again["meta"]["data"]["count"] == 3 and again["meta"]["vae"]["path"] == "vae.pt"


def test_data_config_change_reencodes(setup, capsys):
    vae, ckpt, data, path = setup
    load_or_encode_latents(vae, ckpt, data, path=path, progress=False)
    more = load_or_encode_latents(vae, ckpt, dataclasses.replace(data, count=4), path=path, progress=False)
    assert more["encoded"] and len(more["latents"]) == 4
    assert "data config differs" in capsys.readouterr().out


def test_vae_change_reencodes(setup, capsys):
    vae, ckpt, data, path = setup
    old = load_or_encode_latents(vae, ckpt, data, path=path, progress=False)
    with torch.no_grad():
        vae.encoder.conv_out.bias.add_(1.0)  # a retrained VAE at the same path
    save_checkpoint({"format": 1, "model": vae.state_dict()}, ckpt)
    new = load_or_encode_latents(vae, ckpt, data, path=path, progress=False)
    assert new["encoded"] and "VAE checkpoint differs" in capsys.readouterr().out
    assert not torch.allclose(new["latents"], old["latents"])


def test_bad_data_config():
    with pytest.raises(ValueError, match="dataset must be one of"):
        ClipSource(VideoDataConfig("cifar"))
