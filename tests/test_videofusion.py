import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from minilvdm.diffusion import Diffusion, DiffusionConfig
from minilvdm.diffusion.schedules import shifted_timesteps
from minilvdm.diffusion.unet import SpaceTimeUNet, UNetConfig
from minilvdm.methods.videofusion import DecomposedDenoiser, base_frame, decomposed_noise, lambdas

T = 5


def tiny_unet(frame_index: bool, temporal: bool, seed: int) -> SpaceTimeUNet:
    torch.manual_seed(seed)
    cfg = UNetConfig(
        in_channels=1,
        model_channels=8,
        channel_mult=(1, 2),
        attention_resolutions=(),
        norm_groups=4,
        temporal_layers=temporal,
        frame_index_embedding=frame_index,
    )
    net = SpaceTimeUNet(cfg)
    torch.nn.init.normal_(net.conv_out.weight, std=0.1)  # the zero init would hide every effect
    return net


def make_vf(lam=0.5):
    diffusion = Diffusion(DiffusionConfig(num_steps=100))
    base = tiny_unet(frame_index=False, temporal=False, seed=0)
    residual = tiny_unet(frame_index=True, temporal=True, seed=1)
    return DecomposedDenoiser(base, residual, diffusion, lam=lam)


def test_lambdas_put_one_at_the_base_frame_and_check_input():
    lam = lambdas(6, 0.3)
    assert (
        base_frame(6) == 3
        and lam[3] == 1
        and torch.allclose(lam[[0, 1, 2, 4, 5]], torch.tensor(0.3).double())
    )
    assert lambdas(3, [0.1, 0.2, 0.9]).tolist() == pytest.approx([0.1, 1.0, 0.9])
    with pytest.raises(ValueError, match="one value per frame"):
        lambdas(4, [0.5, 0.5])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        lambdas(4, 1.5)


@pytest.mark.parametrize("lam", [0.25, 0.5, 0.9, [0.1, 0.6, 0.0, 0.3, 0.8]])
def test_noise_has_unit_variance_and_correlation_sqrt_lambda_i_lambda_j(lam):
    g = torch.Generator().manual_seed(0)
    eps, _, _ = decomposed_noise((4000, 1, T, 4, 4), lam, g)
    x = eps.permute(2, 0, 1, 3, 4).reshape(T, -1).double()  # (T, samples)
    lam_t = lambdas(T, lam)
    assert torch.allclose(x.var(dim=1), torch.ones(T, dtype=torch.float64), atol=0.03)
    corr = torch.corrcoef(x)
    expected = (lam_t[:, None] * lam_t[None, :]).sqrt()
    expected.fill_diagonal_(1.0)
    assert torch.allclose(corr, expected, atol=0.03)


def test_base_frame_noise_is_the_base_noise_alone():
    g = torch.Generator().manual_seed(1)
    eps, base, residual = decomposed_noise((2, 3, T, 4, 4), 0.5, g)
    k = base_frame(T)
    assert torch.equal(eps[:, :, k], base[:, :, 0])
    others = [i for i in range(T) if i != k]
    expected = 0.5**0.5 * base + 0.5**0.5 * residual[:, :, others]
    assert torch.allclose(eps[:, :, others], expected)


def test_lambda_zero_reduces_exactly_to_standard_diffusion():
    vf = make_vf(lam=0.0)
    g = torch.Generator().manual_seed(2)
    eps, base, residual = decomposed_noise((2, 1, T, 8, 8), 0.0, g)
    k = base_frame(T)
    others = [i for i in range(T) if i != k]
    assert torch.equal(eps[:, :, others], residual[:, :, others])  # independent per-frame noise
    z_t = torch.randn(2, 1, T, 8, 8)
    t = torch.tensor([10, 70])
    with torch.no_grad():
        eps_hat, _, _ = vf.predict(z_t, t)
        plain = vf.residual(z_t, t, frame_index=torch.arange(T))  # z'_t = z_t when lambda = 0
    assert torch.equal(eps_hat[:, :, others], plain[:, :, others])


def test_prediction_combines_base_and_residual_as_written():
    vf = make_vf(lam=0.5)
    z_t, t = torch.randn(2, 1, T, 8, 8), torch.tensor([5, 90])
    with torch.no_grad():
        eps_hat, b_hat, r_hat = vf.predict(z_t, t)
        k = base_frame(T)
        sigma = (1 - vf.diffusion.alpha_bar[t]).sqrt().float().view(-1, 1, 1, 1, 1)
        lam = lambdas(T, 0.5).float().view(1, 1, T, 1, 1)  # 1 at the base frame
        z_res = z_t - lam.sqrt() * sigma * b_hat
        assert torch.allclose(r_hat, vf.residual(z_res, t, frame_index=torch.arange(T)), atol=1e-4)
    assert torch.allclose(eps_hat[:, :, k], b_hat[:, :, 0])
    assert torch.allclose(eps_hat[:, :, 0], 0.5**0.5 * b_hat[:, :, 0] + 0.5**0.5 * r_hat[:, :, 0], atol=1e-6)


class _Oracle(torch.nn.Module):
    """A generator that returns a fixed target (checking the input it is given, when told)."""

    def __init__(self, out, expect_input=None):
        super().__init__()
        self.out, self.expect_input = out, expect_input

    def forward(self, x, t, frame_index=None):
        if self.expect_input is not None:
            assert torch.allclose(x, self.expect_input, atol=1e-5)
        return self.out


def test_flow_form_combines_exact_generator_velocities_into_the_true_velocity(monkeypatch):
    """Given b - x^k and sqrt(1 - lambda) r - x exactly, the velocity is u = eps - x everywhere,
    the residual generator reads z'_t = sqrt(abar) x + sqrt(1 - abar) sqrt(1 - lambda) r, and the
    loss is 0."""
    import minilvdm.methods.videofusion.model as vf_model

    diffusion = Diffusion(DiffusionConfig(num_steps=100, schedule="rectified_flow", prediction="flow"))
    x0 = torch.rand(2, 1, T, 8, 8) * 2 - 1
    eps, base, residual = decomposed_noise(x0.shape, 0.5, torch.Generator().manual_seed(4))
    t, k = torch.tensor([20, 80]), base_frame(T)
    lam = lambdas(T, 0.5).float().view(1, 1, T, 1, 1)
    abar = diffusion.alpha_bar[t].float().view(-1, 1, 1, 1, 1)
    residual_velocity = (1 - lam).sqrt() * residual - x0
    z_res = abar.sqrt() * x0 + (1 - abar).sqrt() * (1 - lam).sqrt() * residual
    z_res[:, :, k] = (abar.sqrt() * x0)[:, :, k]  # lambda^k = 1: the base frame holds no residual
    vf = DecomposedDenoiser(
        _Oracle(base - x0[:, :, k : k + 1]), _Oracle(residual_velocity, z_res), diffusion, lam=0.5
    )
    u_hat, _, _ = vf.predict(diffusion.q_sample(x0, t, eps), t)
    assert torch.allclose(u_hat, eps - x0, atol=1e-5)
    monkeypatch.setattr(vf_model, "decomposed_noise", lambda shape, lam: (eps, base, residual))
    losses = vf.loss(x0, t)
    assert losses["loss"].item() < 1e-9
    with pytest.raises(ValueError, match="one of"):
        vf_model.default_videofusion_config(0.5, prediction="v")
    assert vf_model.default_videofusion_config(0.5, prediction="flow").diffusion.prediction == "flow"


def test_residual_loss_sends_no_gradient_into_the_base_generator():
    vf = make_vf()
    x0 = torch.rand(2, 1, T, 8, 8) * 2 - 1
    torch.manual_seed(3)
    vf.loss(x0)["residual"].backward()
    assert all(p.grad is None or p.grad.abs().max() == 0 for p in vf.base.parameters())
    assert any(p.grad is not None and p.grad.abs().max() > 0 for p in vf.residual.parameters())
    vf.zero_grad()
    torch.manual_seed(3)
    vf.loss(x0)["base"].backward()
    assert any(p.grad is not None and p.grad.abs().max() > 0 for p in vf.base.parameters())


def test_min_snr_weights_each_sample_of_both_losses_by_min_snr_over_snr():
    vf = make_vf()
    x0 = torch.rand(3, 1, T, 8, 8) * 2 - 1
    t = torch.tensor([2, 40, 95])  # SNR above, near and far below gamma = 5
    torch.manual_seed(4)
    plain = vf.loss(x0, t)
    vf.diffusion.config.min_snr_gamma = 5.0
    torch.manual_seed(4)  # the same noise draw
    weighted = vf.loss(x0, t)
    snr = vf.diffusion.snr[t]
    weight = (snr.clamp(max=5.0) / snr).float()
    assert weight[0] < 0.5 and weight[2] == 1  # the low-noise sample is down-weighted
    torch.manual_seed(4)
    eps, base, residual = decomposed_noise(x0.shape, vf.lam)
    _, b_hat, r_hat = vf.predict(vf.diffusion.q_sample(x0, t, eps), t)
    others = [i for i in range(T) if i != base_frame(T)]
    base_per = ((b_hat - base) ** 2).flatten(1).mean(1)
    residual_per = ((r_hat[:, :, others] - residual[:, :, others]) ** 2).flatten(1).mean(1)
    assert torch.allclose(weighted["base"], (weight * base_per).mean(), atol=1e-6)
    assert torch.allclose(weighted["residual"], (weight * residual_per).mean(), atol=1e-6)
    assert torch.allclose(plain["base"], base_per.mean(), atol=1e-6)  # gamma 0: the plain mean
    assert not torch.allclose(plain["loss"], weighted["loss"])


def test_fixed_base_noise_gives_the_same_base_frame_with_ddim_eta_zero():
    vf = make_vf()
    shape = (2, 1, T, 8, 8)
    base = torch.randn(2, 1, 1, 8, 8, generator=torch.Generator().manual_seed(4))
    samples = []
    for seed in (10, 11):
        g = torch.Generator().manual_seed(seed)
        samples.append(
            vf.diffusion.sample(
                vf, shape, sampler="ddim", steps=8, eta=0.0, noise_fn=vf.noise_fn(base=base), generator=g
            )
        )
    k = base_frame(T)
    assert torch.allclose(samples[0][:, :, k], samples[1][:, :, k], atol=1e-5)  # same content
    assert not torch.allclose(samples[0], samples[1], atol=1e-3)  # different motion


def test_bad_input_is_refused():
    vf = make_vf()
    with pytest.raises(ValueError, match="at least 2 frames"):
        vf.loss(torch.zeros(1, 1, 1, 8, 8))
    with pytest.raises(ValueError, match="base noise"):
        decomposed_noise((1, 1, T, 4, 4), 0.5, base=torch.zeros(1, 1, 2, 4, 4))
    with pytest.raises(ValueError, match="eps"):
        DecomposedDenoiser(vf.base, vf.residual, Diffusion(DiffusionConfig(prediction="v")))


def test_train_videofusion_two_ci_steps_then_samples_through_the_shared_sampler(monkeypatch):
    from minilvdm.core.train import TrainConfig
    from minilvdm.methods.videofusion import VideoFusionConfig, default_videofusion_config, train_videofusion
    from minilvdm.vae import default_vae_config

    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    cfg = default_videofusion_config(lam=0.5)
    tc = TrainConfig(steps=2, batch_size=2, lr=1e-3, ema_decay=0.9, ckpt_every=1000)
    trainer, model = train_videofusion(cfg, tc, progress=False)
    assert trainer.step == 2 and len(trainer.history) == 2 and isinstance(model, DecomposedDenoiser)
    shape = (2, *default_vae_config("mnist").latent_shape(16, 64, 64))  # (B, c, t, h, w)
    z = model.diffusion.sample(model, shape, sampler="ddim", steps=2, noise_fn=model.noise_fn())
    assert z.shape == shape and torch.isfinite(z).all()
    with pytest.raises(ValueError, match="image model"):
        VideoFusionConfig(base_unet=cfg.residual_unet).validate()


def test_sample_videos_decodes_clips_and_the_seed_moves_the_residuals(monkeypatch):
    from minilvdm.core.train import TrainConfig
    from minilvdm.methods.videofusion import default_videofusion_config, sample_videos, train_videofusion
    from minilvdm.vae import train_vae

    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    vae = train_vae("mnist", progress=False).ema.module.eval()
    tc = TrainConfig(steps=2, batch_size=2, lr=1e-3, ema_decay=0.9, ckpt_every=1000)
    _, model = train_videofusion(default_videofusion_config(0.5), tc, progress=False)
    c, t, h, w = vae.cfg.latent_shape(16, 64, 64)
    b_T = torch.randn(1, c, 1, h, w, generator=torch.Generator().manual_seed(3))
    videos = sample_videos(model, vae, 3, steps=2, base=b_T, batch_size=2)
    assert videos.shape == (3, 1, 16, 64, 64) and videos.abs().max() <= 1
    other = sample_videos(model, vae, 3, steps=2, base=b_T, seed=7, batch_size=2)
    assert not torch.equal(videos, other)  # residuals differ with the seed
    # by default the eta of models written in noises (presets.py noise_sample_eta), not the flow
    # LVDM's, on the even grid; the flow form keeps that eta and takes the flow LVDM's shifted grid
    import dataclasses

    from minilvdm.core import presets

    table = dataclasses.replace(
        presets.preset("mnist"), sample_eta=0.25, noise_sample_eta=0.75, sample_shift=3.0
    )
    from minilvdm.methods.videofusion import model as videofusion_model

    for module in (presets, videofusion_model):
        monkeypatch.setattr(module, "preset", lambda *a, **k: table)
    _, flow_model = train_videofusion(default_videofusion_config(0.5, prediction="flow"), tc, progress=False)
    calls = []
    for m in (model, flow_model):
        sample = m.diffusion.sample
        m.diffusion.sample = lambda *a, sample=sample, **k: (calls.append(k), sample(*a, **k))[1]
    sample_videos(model, vae, 1, steps=2)
    sample_videos(model, vae, 1, steps=2, eta=0.0)
    flow_videos = sample_videos(flow_model, vae, 1, steps=4)
    assert [k["eta"] for k in calls] == [0.75, 0.0, 0.75]
    assert calls[0]["steps"] == 2 and calls[2]["steps"] == shifted_timesteps(100, 4, 3.0)
    assert flow_videos.shape == (1, 1, 16, 64, 64) and torch.isfinite(flow_videos).all()


def test_sample_videos_autoguided_runs_between_the_guide_and_the_model(monkeypatch):
    """u_guide + w (u - u_guide): w = 1 gives the model's clips, w = 0 the guide's (the same
    decomposed noise), another w neither; a guide that predicts something else is refused."""
    import copy

    from minilvdm.core.train import TrainConfig
    from minilvdm.methods.videofusion import default_videofusion_config, sample_videos, train_videofusion
    from minilvdm.vae import train_vae

    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    vae = train_vae("mnist", progress=False).ema.module.eval()
    tc = TrainConfig(steps=2, batch_size=2, lr=1e-3, ema_decay=0.9, ckpt_every=1000)
    _, model = train_videofusion(default_videofusion_config(0.5, prediction="flow"), tc, progress=False)
    guide = copy.deepcopy(model)
    with torch.no_grad():
        g = torch.Generator().manual_seed(1)
        for p in guide.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    run = lambda m, **k: sample_videos(m, vae, 2, steps=3, seed=5, **k)  # noqa: E731
    alone, guide_alone = run(model), run(guide)
    assert not torch.allclose(alone, guide_alone, atol=1e-3)
    torch.testing.assert_close(run(model, autoguide=guide, guidance=1.0), alone, atol=1e-4, rtol=0)
    torch.testing.assert_close(run(model, autoguide=guide, guidance=0.0), guide_alone, atol=1e-4, rtol=0)
    pushed = run(model, autoguide=guide, guidance=3.0)
    assert not torch.allclose(pushed, alone, atol=1e-3) and not torch.allclose(pushed, guide_alone, atol=1e-3)
    _, eps_model = train_videofusion(default_videofusion_config(0.5), tc, progress=False)
    with pytest.raises(ValueError, match="autoguide"):
        run(model, autoguide=eps_model, guidance=2.0)


def test_equal_compute_steps_scales_by_the_measured_step_costs(monkeypatch):
    from minilvdm.methods import videofusion
    from minilvdm.methods.lvdm import default_lvdm_config
    from minilvdm.vae import VAEConfig, VideoVAE

    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    costs = iter([3.0, 1.0])  # VideoFusion step first, then the plain LVDM step
    monkeypatch.setattr("minilvdm.core.cost.loss_step_seconds", lambda fn, params: next(costs))
    vae = VideoVAE(VAEConfig(base_channels=8))
    out = videofusion.equal_compute_steps(
        300, videofusion.default_videofusion_config(0.5), default_lvdm_config("mnist"), vae, 2
    )
    assert out == {"steps": 100, "vf_s": 3.0, "plain_s": 1.0}


def test_loss_step_seconds_takes_optimizer_steps():
    from minilvdm.core.cost import loss_step_seconds

    w = torch.nn.Parameter(torch.ones(3))
    seconds = loss_step_seconds(lambda: (w**2).sum(), [w], repeats=2, warmup=1)
    assert seconds > 0 and (w < 1).all()


def test_base_lr_scale_zero_keeps_the_base_generator_fixed():
    from minilvdm.core.train import TrainConfig, Trainer

    def batches(step, rank, world):
        return torch.randn(2, 1, T, 8, 8, generator=torch.Generator().manual_seed(step))

    tc = TrainConfig(steps=2, batch_size=2, lr=1e-2, ema_decay=0.9, ckpt_every=100)
    for scale, base_moves in ((0.0, False), (1.0, True)):
        vf = make_vf()
        base0 = [p.clone() for p in vf.base.parameters()]
        res0 = [p.clone() for p in vf.residual.parameters()]
        trainer = Trainer(
            vf,
            lambda m, x: m.loss(x)["loss"],
            batches,
            tc,
            progress=False,
            param_groups=vf.param_groups(scale),
        )
        trainer.fit()
        moved = lambda ps, ps0: any(not torch.equal(p, q) for p, q in zip(ps, ps0))  # noqa: E731
        assert moved(vf.base.parameters(), base0) == base_moves
        assert moved(vf.residual.parameters(), res0)


def test_base_generator_starts_from_the_image_model_of_notebook_07(monkeypatch):
    from minilvdm.core.train import TrainConfig
    from minilvdm.methods.image_to_video import image_pipeline
    from minilvdm.methods.videofusion import sample_videos
    from minilvdm.methods.videofusion.image_base import image_base_config, train_from_image_model

    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    vae_run, latents, image = image_pipeline(progress=False)  # latents (N, 4, T, 16, 16)
    vae = vae_run.ema.module
    assert image.step == image.config.steps and latents.shape[1] == vae.cfg.latent_channels
    image_state = image.ema.module.unet.state_dict()
    tc = TrainConfig(steps=1, batch_size=2, lr=1e-3, ema_decay=0.9, ckpt_every=1000)
    # lr scale 0: after a step the base is still exactly the image model
    trainer, model = train_from_image_model(image, latents, base_lr_scale=0.0, train_cfg=tc, progress=False)
    assert all(torch.equal(v, model.base.state_dict()[k]) for k, v in image_state.items())
    assert trainer.optimizer.param_groups[0]["lr"] == 0.0
    scratch, scratch_model = train_from_image_model(
        image, latents, base_lr_scale=0.0, pretrained=False, train_cfg=tc, progress=False
    )
    assert scratch.ckpt_path != trainer.ckpt_path
    assert not torch.equal(scratch_model.base.conv_in.weight, model.base.conv_in.weight)
    frames = latents.shape[2]
    videos = sample_videos(model, vae, 2, steps=2, frames=frames)
    assert videos.shape == (2, 1, frames, 64, 64) and videos.abs().max() <= 1
    cfg = image.ema.module.cfg
    with pytest.raises(ValueError, match="image model"):
        image_base_config(dataclasses.replace(cfg, unet=dataclasses.replace(cfg.unet, temporal_layers=True)))


def test_held_out_losses_average_the_seeded_losses():
    from minilvdm.methods.videofusion import held_out_losses

    vf, x = make_vf(), torch.randn(3, 1, T, 8, 8)
    first, again = held_out_losses(vf, x, draws=1), held_out_losses(vf, x, draws=1)
    torch.manual_seed(0)
    direct = vf.loss(x)
    assert first == again
    assert first["base"] == pytest.approx(direct["base"].item()) and first["residual"] == pytest.approx(
        direct["residual"].item()
    )


def test_the_ablation_ema_forgets_its_first_steps(monkeypatch):
    """Shipped files hold the EMA only: after the quick ablation's steps it must keep under 1%
    of the first step's (nearly random) weights, or a shipped copy samples unlike the trained
    model (notebook 08 samples raw weights when it trains)."""
    from minilvdm.core.train import ema_first_step_share
    from minilvdm.methods.videofusion import ablation_train_config

    monkeypatch.setenv("MINILVDM_PROFILE", "quick")
    cfg = ablation_train_config()
    assert ema_first_step_share(cfg, cfg.steps) < 0.01, (cfg.steps, cfg.ema_decay, cfg.ema_warmup)


def test_a_residual_generator_warm_started_from_the_classroom_starts_as_it(monkeypatch):
    """init='classroom': the residual UNet is the classroom LVDM's (clip context included) with
    its frame index ignored at first, and the checkpoint is another model's."""
    from minilvdm.core.train import TrainConfig
    from minilvdm.methods import classroom
    from minilvdm.methods.lvdm import default_lvdm_config
    from minilvdm.methods.videofusion import VideoFusionConfig, default_videofusion_config, train_videofusion

    monkeypatch.setenv("MINILVDM_PROFILE", "quick")  # its classroom has clip context and self-conditions
    torch.manual_seed(0)
    plain = SimpleNamespace(unet=SpaceTimeUNet(default_lvdm_config("mnist").unet).eval())  # as the EMA model
    assert plain.unet.cfg.clip_context and plain.unet.cfg.context_channels
    with torch.no_grad():
        for p in plain.unet.parameters():
            p.add_(0.1 * torch.randn_like(p))
    monkeypatch.setattr(classroom, "classroom_lvdm", lambda *a, **k: (None, plain))
    cfg = default_videofusion_config(0.5, init="classroom")
    assert cfg.residual_unet.clip_context and not default_videofusion_config(0.5).residual_unet.clip_context
    vf = cfg.build()
    fresh = classroom.warm_start_from_classroom(vf.residual, None)
    assert fresh and all(n.startswith("frame_embed.") for n in fresh)
    src = plain.unet.cfg
    z, t = torch.randn(2, src.in_channels, 4, 8, 8), torch.tensor([10, 900])
    with torch.no_grad():  # the classroom's first sampling step: no estimate yet
        want = plain.unet(z, t, context=torch.zeros(2, src.context_channels, 4, 8, 8))
        got = vf.residual.eval()(z, t, frame_index=torch.arange(4) + 2)
    assert torch.allclose(got, want, atol=1e-5)
    monkeypatch.setenv("MINILVDM_PROFILE", "ci")  # training: seconds
    plain.unet = SpaceTimeUNet(default_lvdm_config("mnist").unet)
    cfg = default_videofusion_config(0.5, init="classroom")
    tc = TrainConfig(steps=2, batch_size=2, lr=1e-3, ema_decay=0.9, ckpt_every=1000)
    monkeypatch.setattr(classroom, "classroom_checkpoint_path", lambda *a, **k: Path("classroom.pt"))
    warm, _ = train_videofusion(cfg, tc, progress=False)
    cold, _ = train_videofusion(default_videofusion_config(0.5), tc, progress=False)
    assert warm.step == 2 and warm.ckpt_path != cold.ckpt_path
    with pytest.raises(ValueError, match="init"):
        VideoFusionConfig(init="imagenet").validate()


def test_a_base_generator_warm_started_from_the_classroom_is_its_network_on_one_frame(monkeypatch):
    """init='classroom-both': the base image UNet holds the classroom's spatial layers, so on one
    frame (where temporal layers and clip context do not run) it computes what the classroom does
    with no estimate; temporal weights stay behind, and other mismatches raise."""
    from minilvdm.methods import classroom
    from minilvdm.methods.lvdm import default_lvdm_config
    from minilvdm.methods.videofusion import VideoFusionConfig, default_videofusion_config

    monkeypatch.setenv("MINILVDM_PROFILE", "quick")
    torch.manual_seed(0)
    plain = SimpleNamespace(unet=SpaceTimeUNet(default_lvdm_config("mnist").unet).eval())
    with torch.no_grad():
        for p in plain.unet.parameters():
            p.add_(0.1 * torch.randn_like(p))
    monkeypatch.setattr(classroom, "classroom_lvdm", lambda *a, **k: (None, plain))
    vf = default_videofusion_config(0.5, init="classroom-both", prediction="flow").build()
    classroom.warm_start_image_from_classroom(vf.base, None)
    src = plain.unet.cfg
    z, t = torch.randn(2, src.in_channels, 1, 8, 8), torch.tensor([10, 900])
    with torch.no_grad():
        want = plain.unet(z, t, context=torch.zeros(2, src.context_channels, 1, 8, 8))
        assert torch.allclose(vf.base.eval()(z, t), want, atol=1e-5)
    with pytest.raises(RuntimeError):  # a video UNet has temporal weights the copy leaves out
        classroom.warm_start_image_from_classroom(vf.residual, None)
    VideoFusionConfig(init="classroom-both").validate()
    from minilvdm.core.train import TrainConfig
    from minilvdm.methods.videofusion import train_videofusion

    monkeypatch.setenv("MINILVDM_PROFILE", "ci")  # training: seconds
    plain.unet = SpaceTimeUNet(default_lvdm_config("mnist").unet)
    monkeypatch.setattr(classroom, "classroom_checkpoint_path", lambda *a, **k: Path("classroom.pt"))
    copied = []
    monkeypatch.setattr(classroom, "warm_start_image_from_classroom", lambda unet, *a: copied.append(unet))
    tc = TrainConfig(steps=2, batch_size=2, lr=1e-3, ema_decay=0.9, ckpt_every=1000)
    both, _ = train_videofusion(default_videofusion_config(0.5, init="classroom-both"), tc, progress=False)
    assert len(copied) == 1 and copied[0].cfg.temporal_layers is False and both.step == 2
