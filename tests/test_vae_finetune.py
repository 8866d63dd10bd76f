"""Video LDM decoder fine-tuning: encoder frozen, temporal layers start as identity."""

import torch
import torch.nn.functional as F

from minilvdm.core.train import TrainConfig
from minilvdm.vae import VAEConfig, VideoVAE, train_vae
from minilvdm.vae.finetune import DecoderGAN, FinetuneConfig, finetune_decoder, gan_loss, temporal_decoder_vae
from minilvdm.vae.latent_cache import VideoDataConfig


def test_temporal_layers_start_as_identity():
    torch.manual_seed(0)
    image_vae = VideoVAE(VAEConfig(time_factor=1, base_channels=8, channel_mult=(1, 2))).eval()
    video_vae = temporal_decoder_vae(image_vae).eval()
    assert any(".temporal." in n for n, _ in video_vae.decoder.named_parameters())
    z = torch.randn(1, 4, 5, 4, 4)
    torch.testing.assert_close(video_vae.decode(z), image_vae.decode(z))


def test_gan_loss_gradients_reach_the_right_players():
    torch.manual_seed(0)
    vae = temporal_decoder_vae(VideoVAE(VAEConfig(time_factor=1, base_channels=8, channel_mult=(1, 2))))
    gan = DecoderGAN(vae, FinetuneConfig(disc_channels=8, disc_layers=2))
    x = torch.rand(2, 1, 4, 16, 16) * 2 - 1
    torch.manual_seed(0)
    gan_loss(gan, x).backward()
    assert all(p.grad is None for p in gan.vae.encoder.parameters())  # frozen
    assert all(p.grad is not None for p in gan.vae.decoder.parameters())
    assert all(p.grad is not None for p in gan.disc.parameters())
    # D's gradient must come from L_D alone (L_G sees D through detached parameters).
    d_grad = [p.grad.clone() for p in gan.disc.parameters()]
    gan.zero_grad()
    torch.manual_seed(0)
    with torch.no_grad():
        x_hat = gan.vae.decode(gan.vae.encode(x).sample())
    d_loss = F.relu(1 - gan.disc(x)).mean() + F.relu(1 + gan.disc(x_hat)).mean()
    d_loss.backward()
    for got, want in zip(d_grad, [p.grad for p in gan.disc.parameters()]):
        torch.testing.assert_close(got, want, atol=1e-6, rtol=1e-4)


def test_finetune_keeps_encoder_and_runs(tmp_path):
    cfg = VAEConfig(time_factor=1, base_channels=8, channel_mult=(1, 2))
    data = VideoDataConfig("mnist", frames=4, size=48, count=10**9)
    base = train_vae("mnist", cfg, TrainConfig(steps=1, batch_size=1, ckpt_every=100), data, progress=False)
    ft = finetune_decoder(
        base.ckpt_path,
        data,
        FinetuneConfig(disc_channels=8, disc_layers=2),
        TrainConfig(steps=2, batch_size=1, ckpt_every=100),
        progress=False,
    )
    tuned = ft.ema.module.vae
    for a, b in zip(tuned.encoder.state_dict().values(), base.ema.module.encoder.state_dict().values()):
        torch.testing.assert_close(a.cpu(), b.cpu())
    assert tuned.cfg.decoder_temporal and float(tuned.scale_factor) == float(base.ema.module.scale_factor)
    again = finetune_decoder(
        base.ckpt_path,
        data,
        FinetuneConfig(disc_channels=8, disc_layers=2),
        TrainConfig(steps=2, batch_size=1, ckpt_every=100),
        progress=False,
    )
    assert again.step == 2 and again.ckpt_path == ft.ckpt_path
