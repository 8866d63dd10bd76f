"""The 3D video VAE: shapes, chunking, posterior, scale factor, errors, training wiring."""

import dataclasses
import itertools

import pytest
import torch

from minilvdm.core.train import TrainConfig
from minilvdm.vae import DiagonalGaussian, VAEConfig, VideoVAE, load_vae, train_vae, vae_loss


def tiny(**kw) -> VAEConfig:
    return VAEConfig(**{"base_channels": 8, "channel_mult": (1, 2), **kw})


def randomize_temporal(vae):
    """Zero-initialised temporal convs would make chunking trivially exact: give them weights."""
    g = torch.Generator().manual_seed(1)
    for name, p in vae.named_parameters():
        if ".temporal." in name:
            p.data = torch.randn(p.shape, generator=g) * 0.1
    return vae


@pytest.mark.parametrize("tf,fs", list(itertools.product((1, 2, 4), (2, 4, 8))))
@pytest.mark.parametrize("block", ["factorized", "full"])
def test_shapes_every_factor(tf, fs, block):
    cfg = tiny(time_factor=tf, space_factor=fs, block=block, latent_channels=3, in_channels=2)
    vae = VideoVAE(cfg).eval()
    x = torch.rand(2, 2, 8, 16, 24) * 2 - 1
    post = vae.encode(x)
    assert post.mean.shape == (2, 3, 8 // tf, 16 // fs, 24 // fs) == (2, *cfg.latent_shape(8, 16, 24))
    assert post.sample().shape == post.mean.shape
    assert vae.decode(post.mean).shape == x.shape
    assert cfg.compression(8, 16, 24) == pytest.approx(2 * tf * fs * fs / 3)


def test_time_x1_is_a_per_frame_autoencoder():
    vae = VideoVAE(tiny(time_factor=1)).eval()
    x = torch.rand(1, 1, 6, 16, 16) * 2 - 1
    whole = vae.decode(vae.encode(x).mean)
    frame = vae.decode(vae.encode(x[:, :, 3:4]).mean)
    torch.testing.assert_close(whole[:, :, 3:4], frame, atol=1e-6, rtol=0)
    assert not any(".temporal." in n for n, _ in vae.named_parameters())


@pytest.mark.parametrize("tf,block", [(1, "factorized"), (2, "full"), (4, "factorized"), (4, "full")])
def test_chunked_equals_one_shot(tf, block):
    torch.manual_seed(0)
    vae = randomize_temporal(VideoVAE(tiny(time_factor=tf, block=block))).eval()
    vae.scale_factor.fill_(0.7)
    x = torch.rand(1, 1, 8 * tf, 8, 8) * 2 - 1
    z_full = vae.encode_latents(x)
    z_chunk = vae.encode_latents(x, chunk=2 * tf)
    torch.testing.assert_close(z_chunk, z_full, atol=1e-5, rtol=0)
    v_full = vae.decode_latents(z_full)
    for chunk in (1, 3, 5):
        torch.testing.assert_close(vae.decode_latents(z_full, chunk=chunk), v_full, atol=1e-5, rtol=0)


@pytest.mark.parametrize("tf", [2, 4])
def test_linear_time_upsampling_chunks_exactly_and_moves_between_latent_frames(tf):
    """time_upsample='linear' reads neighbouring latent frames (a wider decoder radius), chunked
    decoding stays exact, and a latent that jumps once decodes to frames that change gradually
    around the jump instead of in one step."""
    torch.manual_seed(0)
    nearest = VideoVAE(tiny(time_factor=tf)).eval()
    linear = VideoVAE(tiny(time_factor=tf, time_upsample="linear")).eval()
    linear.load_state_dict(nearest.state_dict())  # same weights: only the upsampling differs
    assert linear.decoder.time_radius > nearest.decoder.time_radius
    z = torch.randn(1, 4, 9, 2, 2)
    torch.testing.assert_close(linear.decode_latents(z, chunk=2), linear.decode_latents(z), atol=1e-5, rtol=0)

    def up(mode):  # the first upsampling stage alone on a step in time: how many frames change
        layer = [
            lv["up"]
            for lv in (linear if mode == "linear" else nearest).decoder.levels
            if lv["up"].time_step == 2
        ][0]
        layer.conv.weight.data.zero_()
        layer.conv.weight.data[:, :, 0, 1, 1] = 1.0 / layer.conv.weight.shape[1]  # mean over channels
        layer.conv.bias.data.zero_()
        x = torch.zeros(1, layer.conv.in_channels, 4, 2, 2)
        x[:, :, 2:] = 1.0  # one jump between input frames 1 and 2
        return layer(x)[0, 0, :, 0, 0].diff().abs()

    assert (up("nearest") > 0).sum() == 1  # held, then one jump
    assert (up("linear") > 0).sum() > 1 and up("linear").max() < up("nearest").max()
    with pytest.raises(ValueError, match="time_upsample"):
        VideoVAE(tiny(time_upsample="cubic"))


def test_fine_tuned_image_decoder_chunks_exactly():
    """Video LDM temporal layers in a time x1 decoder widen its radius; chunking still exact."""
    vae = randomize_temporal(VideoVAE(tiny(time_factor=1, decoder_temporal=True))).eval()
    assert vae.decoder.time_radius > 0
    z = torch.randn(1, 4, 10, 4, 4)
    torch.testing.assert_close(vae.decode_latents(z, chunk=3), vae.decode_latents(z), atol=1e-5, rtol=0)


def test_long_video_decodes_in_chunks():
    vae = VideoVAE(tiny(time_factor=4, space_factor=8)).eval()
    z = torch.randn(1, 4, 256, 1, 1)  # 1024 frames of 8x8
    video = vae.decode_latents(z, chunk=16)
    assert video.shape == (1, 1, 1024, 8, 8) and torch.isfinite(video).all()


def test_kl_zero_for_standard_normal_and_positive_otherwise():
    moments = torch.zeros(3, 8, 2, 4, 4)  # mean 0, log variance 0
    assert torch.allclose(DiagonalGaussian(moments).kl(), torch.zeros(3))
    moments[:, 0] = 1.0  # mean 1 in one channel: KL = 1/2 per element
    assert torch.allclose(DiagonalGaussian(moments).kl(), torch.full((3,), 0.5 * 32))


def test_reparameterisation_matches_moments():
    moments = torch.cat(
        [
            torch.full((1, 1, 1, 100, 100), 2.0),
            torch.full((1, 1, 1, 100, 100), 2 * torch.log(torch.tensor(3.0))),
        ],
        1,
    )
    z = DiagonalGaussian(moments).sample()
    assert abs(z.mean().item() - 2.0) < 0.1 and abs(z.std().item() - 3.0) < 0.1


def test_scale_factor_gives_unit_std():
    torch.manual_seed(0)
    vae = VideoVAE(tiny()).eval()
    x = torch.rand(6, 1, 8, 16, 16) * 2 - 1
    vae.estimate_scale_factor(x, batch_size=4)
    assert vae.encode_latents(x).std().item() == pytest.approx(1.0, abs=1e-4)
    assert float(vae.scale_estimated) == 1.0
    z = vae.encode_latents(x)
    torch.testing.assert_close(vae.decode_latents(z), vae.decode(vae.encode(x).mean), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "shape,match",
    [
        ((1, 1, 6, 16, 16), "multiple of the time factor 4"),
        ((1, 1, 8, 18, 16), "multiples of the space factor 4"),
        ((1, 2, 8, 16, 16), r"expected a video \(B, 1"),
    ],
)
def test_bad_shapes_raise_clear_errors(shape, match):
    vae = VideoVAE(tiny())
    with pytest.raises(ValueError, match=match):
        vae.encode(torch.zeros(shape))
    with pytest.raises(ValueError, match=match):
        vae.encode_latents(torch.zeros(shape))


def test_bad_configs_raise():
    for kw, match in [
        ({"time_factor": 3}, "time_factor"),
        ({"space_factor": 6}, "power of two"),
        ({"block": "conv"}, "block"),
        ({"recon": "l3"}, "recon"),
    ]:
        with pytest.raises(ValueError, match=match):
            VideoVAE(tiny(**kw))
    with pytest.raises(ValueError, match="multiple of the time factor"):
        VideoVAE(tiny()).encode_latents(torch.zeros(1, 1, 8, 16, 16), chunk=6)
    with pytest.raises(ValueError, match="multiple of the time factor 4"):
        tiny().latent_shape(10, 64, 64)


def test_loss_backpropagates_and_kl_weight_counts():
    torch.manual_seed(0)
    x = torch.rand(2, 1, 4, 16, 16) * 2 - 1
    cfg = tiny()
    vae = VideoVAE(cfg)
    torch.manual_seed(1)
    low = vae_loss(vae, x)
    low.backward()
    assert all(p.grad is not None for p in vae.parameters())
    vae.cfg = dataclasses.replace(cfg, kl_weight=1.0)
    torch.manual_seed(1)
    assert vae_loss(vae, x).item() > low.item()


def test_train_vae_reuses_checkpoint_and_stores_scale():
    cfg = tiny(time_factor=2)
    tc = TrainConfig(steps=2, batch_size=2, lr=1e-3, ckpt_every=100)
    from minilvdm.vae.latent_cache import VideoDataConfig

    data = VideoDataConfig("mnist", frames=4, size=48, count=10**9)
    first = train_vae("mnist", cfg, tc, data, progress=False)
    assert float(first.ema.module.scale_estimated) == 2 and first.ckpt_path.exists()
    again = train_vae("mnist", cfg, tc, data, progress=False)
    assert again.step == 2 and float(again.ema.module.scale_factor) == float(first.ema.module.scale_factor)
    loaded = load_vae(first.ckpt_path, device="cpu")
    assert float(loaded.scale_factor) == pytest.approx(float(first.ema.module.scale_factor))
    x = torch.rand(1, 1, 4, 48, 48) * 2 - 1
    torch.testing.assert_close(loaded.encode_latents(x), first.ema.module.cpu().encode_latents(x))


@pytest.mark.parametrize("tf,fs,patch", [(1, 2, 2), (4, 4, 2), (2, 8, 4), (4, 4, 4)])
def test_patchify_stem_shapes_and_chunking(tf, fs, patch):
    vae = VideoVAE(tiny(time_factor=tf, space_factor=fs, patch_size=patch)).eval()
    x = torch.rand(1, 1, 4 * tf, 16, 16) * 2 - 1
    z = vae.encode_latents(x)
    assert z.shape == (1, 4, 4, 16 // fs, 16 // fs) and vae.decode_latents(z).shape == x.shape
    torch.testing.assert_close(vae.decode_latents(z, chunk=1), vae.decode_latents(z), atol=1e-5, rtol=0)


def test_patchify_round_trip_and_bad_patch():
    from minilvdm.vae.blocks import patchify, unpatchify

    x = torch.randn(2, 3, 4, 8, 8)
    torch.testing.assert_close(unpatchify(patchify(x, 2), 2), x, atol=0, rtol=0)
    with pytest.raises(ValueError, match="patch_size"):
        VideoVAE(tiny(space_factor=2, patch_size=4))
