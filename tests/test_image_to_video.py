"""Image model -> video model: the lift starts as the image model, frozen layers stay frozen,
mixed image/video batches train, and context frames are written and masked as specified."""

import pytest
import torch

from minilvdm.core.train import TrainConfig, Trainer
from minilvdm.data import MovingMNIST
from minilvdm.diffusion.unet import count_parameters, is_temporal
from minilvdm.methods.image_to_video import (
    JointConfig,
    alphas,
    frames_of,
    i2v_config,
    joint_batch,
    joint_loss,
    lift,
    train_video,
)
from minilvdm.methods.image_to_video.context import ContextPredictor, predictor_unet
from minilvdm.methods.lvdm import LatentVideoDiffusion
from minilvdm.vae import VAEConfig, VideoVAE


def tiny_vae():
    return VideoVAE(VAEConfig(time_factor=1, base_channels=8, channel_mult=(1, 2))).eval()


def randomize(module, scale=0.1, seed=0):
    """Move every parameter away from its init (conv_out starts at 0, which would make any
    comparison of outputs trivially true)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(torch.randn(p.shape, generator=g) * scale)
    return module


def image_and_lifted():
    torch.manual_seed(0)
    image = LatentVideoDiffusion(i2v_config(video=False), tiny_vae())
    randomize(image.unet)
    return image.eval(), lift(image).eval()


def test_lifted_model_at_init_equals_the_image_model_on_every_frame():
    image, video = image_and_lifted()
    assert not any(is_temporal(n) for n, _ in image.unet.named_parameters())
    assert all(a == 0.5 for a in alphas(video.unet).values()) and alphas(video.unet)
    x, t = torch.randn(2, 4, 5, 8, 8), torch.tensor([10, 60])
    with torch.no_grad():
        out = video.unet(x, t)
        assert torch.equal(out, image.unet(x, t))  # same frames folded into the batch: bit for bit
        for f in range(x.shape[2]):  # and frame by frame, up to float summation order
            torch.testing.assert_close(out[:, :, f], image.unet(x[:, :, f], t), atol=1e-5, rtol=1e-5)
        # not vacuous: with the temporal layers moved off the identity the output changes
        for name, p in video.unet.named_parameters():
            if is_temporal(name) and not name.endswith("temporal_alpha"):
                p.add_(0.05 * torch.randn_like(p))
        assert not torch.allclose(video.unet(x, t), out, atol=1e-4)


def test_lift_rejects_a_video_config_that_does_not_start_as_identity():
    import dataclasses

    image, _ = image_and_lifted()
    cfg = i2v_config(video=True)
    cfg = dataclasses.replace(
        cfg, unet=dataclasses.replace(cfg.unet, alpha_mixing=False, temporal_init="identity")
    )
    with pytest.raises(ValueError, match="start as the image model"):
        lift(image, cfg)


def test_temporal_training_leaves_frozen_parameters_unchanged():
    _, video = image_and_lifted()
    clips = torch.randn(4, 4, 3, 8, 8)
    before = {n: p.detach().clone() for n, p in video.unet.named_parameters()}
    cfg = TrainConfig(steps=3, batch_size=2, lr=1e-2, ema_decay=0.9, ckpt_every=1000)
    trainer = train_video(video, clips, JointConfig(), cfg, progress=False)
    counts = count_parameters(trainer.model.unet)
    assert 0 < counts["trainable"] == counts["temporal"] < counts["total"]
    moved = []
    for name, p in trainer.model.unet.named_parameters():
        if is_temporal(name):
            moved.append(not torch.equal(p, before[name]))
        else:
            assert torch.equal(p, before[name]), f"frozen {name} changed"
    assert any(moved)
    values = list(alphas(trainer.model.unet).values())
    assert all(0.0 <= a <= 1.0 for a in values)  # Video LDM: alpha in [0, 1]
    assert any(a < 1.0 for a in values)  # some alpha moved towards the temporal layers


def test_alpha_is_projected_into_the_unit_interval_and_mixes_within_it():
    """A step that pushes alpha past 1 (or below 0) lands on the bound, and the mix never
    extrapolates: with a = 1.5 set by hand it still returns the spatial input."""
    from minilvdm.diffusion.unet import TemporalLayer

    layer = TemporalLayer(alpha_mixing=True)
    x, y = torch.randn(3), torch.randn(3)
    with torch.no_grad():
        layer.temporal_alpha.fill_(1.5)
        assert torch.equal(layer.mix(x, y), x)
        layer.project_()
        assert layer.temporal_alpha.item() == 1.0
        layer.temporal_alpha.fill_(-0.2)
        assert torch.equal(layer.mix(x, y), y)
        layer.project_()
        assert layer.temporal_alpha.item() == 0.0
    # through the Trainer: gradient ascent on alpha (loss = -alpha) would leave [0, 1] at once
    model = torch.nn.Sequential(TemporalLayer(alpha_mixing=True))
    cfg = TrainConfig(steps=5, batch_size=1, lr=0.5, warmup=0, ema_decay=0.9, ckpt_every=1000)
    trainer = Trainer(model, lambda m, b: -m[0].temporal_alpha, lambda *a: {}, cfg, progress=False)
    trainer.fit()
    assert model[0].temporal_alpha.item() == 1.0


def test_joint_batch_mixes_clips_and_frames_at_the_ratio():
    clips, images = torch.randn(6, 4, 3, 8, 8), torch.randn(18, 4, 8, 8)
    batch = joint_batch(clips, images, 0.5, 4, step=0)
    assert batch["clips"].shape == (4, 4, 3, 8, 8) and batch["images"].shape == (2, 4, 8, 8)
    assert joint_batch(clips, images, 0.0, 4, step=0)["images"] is None
    assert torch.equal(joint_batch(clips, images, 0.5, 4, step=3)["images"], batch_again(clips, images))
    assert frames_of(clips).shape == (18, 4, 8, 8)
    assert torch.equal(frames_of(clips)[4], clips[1, :, 1])  # clip 1, frame 1


def batch_again(clips, images):
    return joint_batch(clips, images, 0.5, 4, step=3)["images"]


def test_single_frames_skip_the_temporal_layers():
    _, video = image_and_lifted()
    with torch.no_grad():  # poison every temporal parameter: a frame that used one would be NaN
        for name, p in video.unet.named_parameters():
            if is_temporal(name):
                p.fill_(float("nan"))
    images = torch.randn(3, 4, 8, 8)
    loss = joint_loss(video, {"clips": torch.randn(2, 4, 1, 8, 8), "images": images})
    assert torch.isfinite(loss)
    assert torch.isnan(joint_loss(video, {"clips": torch.randn(2, 4, 3, 8, 8), "images": images}))


def test_a_mixed_image_video_batch_trains_every_parameter():
    _, video = image_and_lifted()
    clips, images = torch.randn(4, 4, 3, 8, 8), torch.randn(12, 4, 8, 8)
    before = {n: p.detach().clone() for n, p in video.unet.named_parameters()}
    cfg = TrainConfig(steps=2, batch_size=2, lr=1e-2, ema_decay=0.9, ckpt_every=1000)
    joint = JointConfig(image_ratio=1.0, freeze_spatial=False, thickness=1)
    trainer = train_video(video, clips, joint, cfg, images=images, progress=False)
    assert len(trainer.history) == 2 and all(torch.isfinite(torch.tensor(v)) for _, v in trainer.history)
    assert count_parameters(trainer.model.unet)["trainable"] == count_parameters(trainer.model.unet)["total"]
    assert not torch.equal(trainer.model.unet.conv_in.weight, before["conv_in.weight"])
    with pytest.raises(ValueError, match="needs `images`"):
        train_video(video, clips, JointConfig(image_ratio=0.5), cfg, progress=False)
    with pytest.raises(ValueError, match="image_ratio"):
        JointConfig(image_ratio=-1).validate()


def predictor():
    _, video = image_and_lifted()
    return video, ContextPredictor(predictor_unet(video.unet), video.diffusion)


def test_context_masks_hold_zero_one_or_two_leading_frames():
    _, model = predictor()
    z0 = torch.randn(600, 4, 5, 2, 2)
    cond, mask, s = model.training_condition(z0, torch.Generator().manual_seed(0))
    assert mask.shape == (600, 1, 5, 1, 1) and torch.equal(cond, z0) and not s.any()
    m = mask[:, 0, :, 0, 0]
    given = m.sum(1).long()
    for row, k in zip(m, given):  # leading ones, then zeros
        assert torch.equal(row, (torch.arange(5) < k).float())
    share = torch.bincount(given, minlength=3).float() / 600
    assert given.max() <= 2 and torch.allclose(share, torch.full((3,), 1 / 3), atol=0.07)


def test_context_is_written_as_masked_frames_and_mask_on_channels():
    video, model = predictor()
    seen = {}

    def spy(x, t, *, context=None, extra_scalars=None):
        seen.update(x=x, context=context)
        return torch.zeros_like(x)

    model.unet.forward = spy
    x_t, z = torch.randn(2, 4, 5, 8, 8), torch.randn(2, 4, 5, 8, 8)
    mask = (torch.arange(5) < 2).float().view(1, 1, 5, 1, 1).expand(2, 1, 5, 1, 1)
    model.predict(x_t, torch.tensor([3, 4]), z, mask, torch.zeros(2).long())
    assert torch.equal(seen["x"], x_t)  # the noisy input is not overwritten (Video LDM style)
    ctx = seen["context"]  # c_S = (m_S * z, m_S): C + 1 channels
    assert ctx.shape == (2, 5, 5, 8, 8)
    assert torch.equal(ctx[:, :4, :2], z[:, :, :2]) and not ctx[:, :4, 2:].any()
    assert torch.equal(ctx[:, 4, :2], torch.ones(2, 2, 8, 8)) and not ctx[:, 4, 2:].any()


def test_predictor_starts_as_the_video_model_and_keeps_given_frames():
    video, model = predictor()
    x, t = torch.randn(1, 4, 4, 8, 8), torch.tensor([20])
    mask = torch.tensor([1.0, 1, 0, 0]).view(1, 1, 4, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(model.predict(x, t, x, mask, torch.zeros(1).long()), video.unet(x, t))
    cond = torch.randn(1, 4, 4, 8, 8)
    out = model.sample(cond, mask, steps=2, guidance=2.0, guidance_form="cfg")
    assert torch.equal(out[:, :, :2], cond[:, :, :2])
    # the loss counts only frames that are not given: all-given clips would give no loss
    assert torch.isfinite(model.loss(torch.randn(2, 4, 4, 8, 8)))


def test_thickness_dilates_strokes_and_zero_changes_nothing():
    plain = MovingMNIST(frames=2).videos(0, 2)
    assert torch.equal(MovingMNIST(frames=2, thickness=0).videos(0, 2), plain)
    thick = MovingMNIST(frames=2, thickness=1).videos(0, 2)
    assert ((thick + 1) / 2).sum() > 1.5 * ((plain + 1) / 2).sum()
    assert (thick >= plain).all()  # a max filter only adds ink
    with pytest.raises(ValueError, match="thickness"):
        MovingMNIST(thickness=5)


def test_sample_clips_samples_with_moving_mnists_eta_and_grid_for_the_prediction(monkeypatch):
    import dataclasses

    from minilvdm.core import presets
    from minilvdm.diffusion.schedules import shifted_timesteps
    from minilvdm.methods.image_to_video import sample_clips

    # eps: the eta of models written in noises (noise_sample_eta) on the even grid; flow: the flow
    # LVDM's eta (sample_eta) on its shifted grid (sample_shift)
    table = dataclasses.replace(
        presets.preset("mnist"), sample_eta=0.25, noise_sample_eta=0.75, sample_shift=3.0
    )
    monkeypatch.setattr(presets, "preset", lambda *a, **k: table)
    _, lifted = image_and_lifted()
    torch.manual_seed(0)
    flow_image = LatentVideoDiffusion(i2v_config(video=False, prediction="flow"), tiny_vae())
    flow_lifted = lift(flow_image).eval()
    assert flow_lifted.cfg.diffusion.prediction == "flow"
    calls = []
    for model in (lifted, flow_lifted):
        real_sample = model.diffusion.sample
        monkeypatch.setattr(
            model.diffusion,
            "sample",
            lambda *a, _real=real_sample, **kw: calls.append((kw["eta"], kw["steps"])) or _real(*a, **kw),
        )
    sample_clips(lifted, 1, 2, steps=3, latents_only=True)
    sample_clips(lifted, 1, 2, steps=3, eta=0.0, latents_only=True)
    sample_clips(flow_lifted, 1, 2, steps=3, latents_only=True)
    shifted = shifted_timesteps(flow_lifted.diffusion.num_steps, 3, 3.0)
    assert calls[:2] == [(0.75, 3), (0.0, 3)]
    assert calls[2][0] == 0.25 and list(calls[2][1]) == list(shifted)
    assert list(shifted) != list(shifted_timesteps(flow_lifted.diffusion.num_steps, 3, 1.0))
    with pytest.raises(ValueError, match="prediction"):
        i2v_config(prediction="v")


def test_sample_clips_autoguided_runs_between_the_guide_and_the_model():
    """u_guide + w (u - u_guide) at each step: w = 1 gives the model's clips, w = 0 the guide's
    (same seed), another w neither; a guide that predicts something else is refused."""
    from minilvdm.methods.image_to_video import sample_clips

    _, lifted = image_and_lifted()
    torch.manual_seed(1)
    guide = LatentVideoDiffusion(i2v_config(video=True), tiny_vae())
    randomize(guide.unet)
    guide.eval()
    run = lambda m, **k: sample_clips(m, 2, 3, steps=3, seed=4, latents_only=True, **k)  # noqa: E731
    with torch.no_grad():
        alone, guide_alone = run(lifted), run(guide)
        assert not torch.allclose(alone, guide_alone, atol=1e-3)
        torch.testing.assert_close(run(lifted, autoguide=guide, guidance=1.0), alone, atol=1e-5, rtol=0)
        torch.testing.assert_close(run(lifted, autoguide=guide, guidance=0.0), guide_alone, atol=1e-5, rtol=0)
        pushed = run(lifted, autoguide=guide, guidance=2.0)
        assert not torch.allclose(pushed, alone, atol=1e-3)
        assert not torch.allclose(pushed, guide_alone, atol=1e-3)
        flow_guide = LatentVideoDiffusion(i2v_config(video=True, prediction="flow"), tiny_vae()).eval()
        with pytest.raises(ValueError, match="autoguide"):
            run(lifted, autoguide=flow_guide, guidance=2.0)


def test_the_image_model_takes_the_noise_min_snr_and_the_recipe_but_predicts_eps(monkeypatch):
    """VideoFusion's base generator starts from this image LDM, and VideoFusion predicts noises
    (the Moving MNIST LVDM's flow velocity is not a noise)."""
    from minilvdm.core.presets import RECIPE_SCHEDULE
    from minilvdm.methods.image_to_video import default_image_train_config, i2v_config
    from minilvdm.methods.videofusion.image_base import image_base_config

    monkeypatch.setenv("MINILVDM_PROFILE", "quick")
    image = i2v_config(video=False)
    assert image.diffusion.prediction == "eps" and image.diffusion.min_snr_gamma == 5.0
    assert image.diffusion.schedule == "scaled_linear"
    assert i2v_config(video=True).diffusion == image.diffusion
    assert image_base_config(image).diffusion == image.diffusion
    train = default_image_train_config()
    assert {k: getattr(train, k) for k in RECIPE_SCHEDULE} == RECIPE_SCHEDULE
