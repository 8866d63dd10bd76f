"""Diffusion core: schedules, forward process, parameterisations, samplers, guidance.

The schedule, forward process, DDPM posterior and DDIM step are compared value for value
with diffusers' DDPMScheduler / DDIMScheduler (a well-kept reference implementation).
"""

import math

import pytest
import torch
from diffusers import DDIMScheduler, DDPMScheduler

from minilvdm.diffusion import Diffusion, DiffusionConfig, guide, guided
from minilvdm.diffusion.schedules import make_betas, make_timesteps, shifted_timesteps

DIFFUSERS_NAME = {"linear": "linear", "scaled_linear": "scaled_linear", "cosine": "squaredcos_cap_v2"}
DIFFUSERS_PRED = {"eps": "epsilon", "x0": "sample", "v": "v_prediction"}
SCHEDULES = [("scaled_linear", 0.0015, 0.0155), ("linear", 1e-4, 0.02), ("cosine", 0.0, 0.0)]
ATOL = 1e-5


def make_pair(schedule, b0, b1, prediction="eps", n=1000, cls=DDPMScheduler, **kw):
    ours = Diffusion(
        DiffusionConfig(num_steps=n, schedule=schedule, beta_start=b0, beta_end=b1, prediction=prediction)
    )
    theirs = cls(
        num_train_timesteps=n,
        beta_start=b0,
        beta_end=b1,
        beta_schedule=DIFFUSERS_NAME[schedule],
        prediction_type=DIFFUSERS_PRED[prediction],
        **kw,
    )
    return ours, theirs


@pytest.mark.parametrize("schedule,b0,b1", SCHEDULES)
def test_schedule_matches_diffusers(schedule, b0, b1):
    ours, theirs = make_pair(schedule, b0, b1)
    assert torch.allclose(ours.betas.float(), theirs.betas, atol=1e-7)
    assert torch.allclose(ours.alpha_bar.float(), theirs.alphas_cumprod, atol=ATOL)


def test_lvdm_schedule_endpoints():
    betas = make_betas("scaled_linear", 1000, 0.0015, 0.0155)
    assert math.isclose(betas[0].item(), 0.0015) and math.isclose(betas[-1].item(), 0.0155)
    assert (betas[1:] > betas[:-1]).all()
    with pytest.raises(ValueError, match="schedule"):
        make_betas("quadratic", 10)


@pytest.mark.parametrize("schedule,b0,b1", SCHEDULES)
def test_q_sample_matches_diffusers(schedule, b0, b1):
    ours, theirs = make_pair(schedule, b0, b1)
    g = torch.Generator().manual_seed(1)
    x0, noise = torch.randn(6, 3, 4, 5, 5, generator=g), torch.randn(6, 3, 4, 5, 5, generator=g)
    t = torch.randint(0, 1000, (6,), generator=g)
    assert torch.allclose(ours.q_sample(x0, t, noise), theirs.add_noise(x0, noise, t), atol=ATOL)
    assert torch.allclose(ours.v_from(x0, noise, t), theirs.get_velocity(x0, noise, t), atol=ATOL)


@pytest.mark.parametrize("prediction", ["eps", "x0", "v", "flow"])
def test_parameterisation_round_trips(prediction):
    diff = Diffusion(DiffusionConfig(prediction=prediction, schedule="cosine"))
    g = torch.Generator().manual_seed(2)
    x0, eps = torch.randn(8, 2, 3, 4, 4, generator=g), torch.randn(8, 2, 3, 4, 4, generator=g)
    t = torch.randint(0, 990, (8,), generator=g)  # cosine's last steps have alpha_bar ~ 0
    x_t = diff.q_sample(x0, t, eps)
    got_eps, got_x0 = diff.to_eps_x0(diff.target(x0, eps, t), x_t, t)
    assert torch.allclose(got_eps, eps, atol=1e-4) and torch.allclose(got_x0, x0, atol=1e-4)
    v = diff.v_from(x0, eps, t)
    assert torch.allclose(diff.v_to_eps(x_t, t, v), eps, atol=1e-4)
    assert torch.allclose(diff.v_to_x0(x_t, t, v), x0, atol=1e-4)


@pytest.mark.parametrize("schedule,b0,b1", SCHEDULES)
@pytest.mark.parametrize("prediction", ["eps", "v"])
@pytest.mark.parametrize("steps", [1000, 50])
def test_ddpm_step_matches_diffusers(schedule, b0, b1, prediction, steps):
    ours, theirs = make_pair(schedule, b0, b1, prediction, clip_sample=False)
    theirs.set_timesteps(steps)
    g = torch.Generator().manual_seed(3)
    x_t, pred = torch.randn(4, 3, 2, 6, 6, generator=g), torch.randn(4, 3, 2, 6, 6, generator=g)
    for t_now in [int(theirs.timesteps[i]) for i in (0, len(theirs.timesteps) // 2, -2, -1)]:
        t_prev = t_now - 1000 // steps
        want = theirs.step(pred, t_now, x_t, generator=torch.Generator().manual_seed(7))
        noise = torch.randn(x_t.shape, generator=torch.Generator().manual_seed(7))
        t, tp = torch.full((4,), t_now), torch.full((4,), t_prev)
        if t_prev < 0:
            noise = torch.zeros_like(noise)
        got, x0 = ours.ddpm_step(pred, x_t, t, tp, noise)
        assert torch.allclose(x0, want.pred_original_sample, atol=1e-4)  # 1/sqrt(a) amplifies at large t
        assert torch.allclose(got, want.prev_sample, atol=1e-4 if t_now > 900 else ATOL)
        # posterior mean and variance on their own
        mean, var = ours.q_posterior(x0, x_t, t, tp)
        if t_prev >= 0:
            assert torch.allclose(var.flatten(), theirs._get_variance(t_now).expand(4), atol=1e-7)
            assert torch.allclose(mean + var.sqrt() * noise, want.prev_sample, atol=1e-4)


@pytest.mark.parametrize("schedule,b0,b1", SCHEDULES)
@pytest.mark.parametrize("eta", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("prediction", ["eps", "x0", "v"])
def test_ddim_step_matches_diffusers(schedule, b0, b1, eta, prediction):
    ours, theirs = make_pair(
        schedule, b0, b1, prediction, cls=DDIMScheduler, clip_sample=False, set_alpha_to_one=True
    )
    theirs.set_timesteps(20)
    g = torch.Generator().manual_seed(4)
    x_t, pred = torch.randn(3, 2, 3, 5, 5, generator=g), torch.randn(3, 2, 3, 5, 5, generator=g)
    noise = torch.randn(x_t.shape, generator=g)
    for t_now in [int(theirs.timesteps[i]) for i in (1, 10, -1)]:
        t_prev = t_now - 1000 // 20
        want = theirs.step(pred, t_now, x_t, eta=eta, variance_noise=noise)
        got, x0 = ours.ddim_step(pred, x_t, torch.full((3,), t_now), torch.full((3,), t_prev), noise, eta)
        assert torch.allclose(x0, want.pred_original_sample, atol=1e-4)
        assert torch.allclose(got, want.prev_sample, atol=ATOL * 10 if prediction == "x0" else ATOL)


def test_ddim_clipped_x0_matches_diffusers():
    ours, theirs = make_pair("scaled_linear", 0.0015, 0.0155, cls=DDIMScheduler, clip_sample=True)
    theirs.set_timesteps(10)
    g = torch.Generator().manual_seed(5)
    x_t, pred, noise = (torch.randn(2, 1, 1, 4, 4, generator=g) * 3 for _ in range(3))
    t_now = int(theirs.timesteps[2])
    want = theirs.step(pred, t_now, x_t, eta=0.5, use_clipped_model_output=True, variance_noise=noise)
    got, _ = ours.ddim_step(
        pred, x_t, torch.full((2,), t_now), torch.full((2,), t_now - 100), noise, 0.5, True
    )
    assert torch.allclose(got, want.prev_sample, atol=ATOL)


def test_timesteps():
    assert make_timesteps(1000) == list(range(999, -1, -1))
    assert make_timesteps(1000, 10, "leading") == list(range(900, -1, -100))
    trailing = make_timesteps(1000, 10)
    assert trailing[0] == 999 and len(trailing) == 10 and trailing == sorted(trailing, reverse=True)
    assert make_timesteps(100, [3, 50, 7]) == [50, 7, 3]
    with pytest.raises(ValueError):
        make_timesteps(100, [100])
    with pytest.raises(ValueError):
        make_timesteps(100, 0)


def gaussian_data_model(diff, mu=1.5, sd=0.5):
    """The exact eps-predictor for data x0 ~ N(mu, sd^2): E[eps | x_t]."""

    def model_fn(x, t):
        a = diff._at(diff.alpha_bar, t, x)
        return (1 - a).sqrt() * (x - a.sqrt() * mu) / (a * sd**2 + 1 - a)

    return model_fn


def test_ddim_eta1_all_steps_matches_ddpm_in_distribution():
    diff = Diffusion(DiffusionConfig(num_steps=100, schedule="linear", beta_start=1e-3, beta_end=0.1))
    model_fn, shape = gaussian_data_model(diff), (4000, 1, 1, 1, 1)
    ddpm = diff.sample(model_fn, shape, sampler="ddpm", generator=torch.Generator().manual_seed(0))
    ddim = diff.sample(model_fn, shape, sampler="ddim", eta=1.0, generator=torch.Generator().manual_seed(1))
    for x in (ddpm, ddim):  # both reproduce the data distribution N(1.5, 0.5^2) ...
        assert abs(x.mean().item() - 1.5) < 0.03 and abs(x.std().item() - 0.5) < 0.03
    from scipy.stats import ks_2samp  # ... and each other's (two-sample KS test)

    assert ks_2samp(ddpm.flatten().numpy(), ddim.flatten().numpy()).pvalue > 0.01
    # With the same noise the two samplers are the same map (equal up to float error).
    same = diff.sample(model_fn, shape, sampler="ddim", eta=1.0, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(same, ddpm, atol=1e-4)


def test_ddim_deterministic_few_steps_reaches_data():
    diff = Diffusion(DiffusionConfig(num_steps=1000, schedule="cosine", prediction="eps"))
    x = diff.sample(
        gaussian_data_model(diff), (4000, 1), steps=25, generator=torch.Generator().manual_seed(0)
    )
    assert abs(x.mean().item() - 1.5) < 0.05 and abs(x.std().item() - 0.5) < 0.05


def test_guidance_forms():
    c, u = torch.randn(5), torch.randn(5)
    assert torch.allclose(guide(c, u, 1.0, "cfg"), c, atol=1e-6)
    assert torch.allclose(guide(c, u, 0.0, "lvdm"), c)
    assert torch.allclose(guide(c, u, 3.0, "cfg"), guide(c, u, 2.0, "lvdm"), atol=1e-6)  # s = 1 + w
    assert torch.allclose(guide(c, u, 0.1, "lvdm"), 1.1 * c - 0.1 * u, atol=1e-6)
    with pytest.raises(ValueError):
        guide(c, u, 1.0, "other")
    fn = guided(lambda x, t: x + 1, lambda x, t: x, 2.0)
    assert torch.allclose(fn(torch.zeros(3), None), torch.full((3,), 2.0))


def test_guidance_interval_guides_only_inside_and_skips_the_unconditional_call_outside():
    calls = []

    def uncond(x, t):
        calls.append(int(t[0]))
        return x

    fn = guided(lambda x, t: x + 1, uncond, 3.0, interval=(200, 800))
    x = torch.zeros(2, 3)
    for step, want in [(999, 1.0), (800, 3.0), (500, 3.0), (200, 3.0), (199, 1.0), (0, 1.0)]:
        assert torch.allclose(fn(x, torch.full((2,), step)), torch.full((2, 3), want))
    assert calls == [800, 500, 200]
    diff = Diffusion(DiffusionConfig(num_steps=50, schedule="linear", beta_start=1e-3, beta_end=0.2))
    seen = []
    diff.sample(
        lambda x, t: torch.zeros_like(x),
        (1, 2),
        steps=10,
        uncond_fn=lambda x, t: seen.append(int(t[0])) or torch.ones_like(x),
        guidance_scale=2.0,
        guidance_interval=(10, 30),
    )
    assert seen and all(10 <= t <= 30 for t in seen)
    with pytest.raises(ValueError, match="interval"):
        guided(lambda x, t: x, lambda x, t: x, 2.0, interval=(800, 200))


def test_sample_callback_noise_fn_and_guidance():
    diff = Diffusion(DiffusionConfig(num_steps=50, schedule="linear", beta_start=1e-3, beta_end=0.2))
    seen, calls = [], []

    def noise_fn(shape, generator):  # e.g. VideoFusion: one base noise shared by all frames
        calls.append(tuple(shape))
        b = torch.randn(shape[0], shape[1], 1, *shape[3:], generator=generator)
        return b.expand(shape).clone()

    def callback(i, t, x, x0):
        seen.append((i, t, x.shape, x0.shape))

    out = diff.sample(
        lambda x, t: torch.zeros_like(x),
        (2, 1, 4, 3, 3),
        sampler="ddpm",
        steps=10,
        uncond_fn=lambda x, t: torch.ones_like(x),
        guidance_scale=0.5,
        noise_fn=noise_fn,
        callback=callback,
    )
    assert len(seen) == 10 and seen[0][1] == 49 and seen[-1][1] < seen[0][1]
    assert len(calls) == 10  # x_T plus 9 ancestral steps (the last adds no noise)
    assert torch.allclose(out, out[:, :, :1].expand_as(out))  # frames stay identical: shared noise
    # returning a tensor from the callback replaces the sample
    out = diff.sample(
        lambda x, t: torch.zeros_like(x), (1, 2), steps=5, callback=lambda *a: torch.zeros(1, 2)
    )
    assert torch.equal(out, torch.zeros(1, 2))
    with pytest.raises(ValueError, match="sampler"):
        diff.sample(lambda x, t: x, (1, 2), sampler="euler")


@pytest.mark.parametrize("prediction", ["eps", "x0", "v", "flow"])
def test_loss_and_min_snr(prediction):
    diff = Diffusion(DiffusionConfig(prediction=prediction, min_snr_gamma=5.0))
    x0 = torch.randn(6, 2, 3, 4, 4)
    t = torch.tensor([0, 10, 100, 500, 900, 999])
    noise = torch.randn_like(x0)
    perfect = lambda x, t: diff.target(x0, noise, t)  # noqa: E731
    assert diff.loss(perfect, x0, t=t, noise=noise).item() < 1e-10
    w = diff.loss_weight(t)
    s = diff.snr[t].float()
    # In eps units every parameterisation weighs the error by min(SNR, gamma) / SNR
    # (x0-error^2 = eps-error^2 / SNR, v-error^2 = eps-error^2 (SNR + 1) / SNR).
    # flow: x0-error = s_flow u-error, so u-error^2 = eps-error^2 / (SNR s_flow^2)
    to_eps = {"eps": 1.0, "x0": s, "v": s / (s + 1), "flow": s * diff.flow_s[t].float() ** 2}[prediction]
    assert torch.allclose(w / to_eps, s.clamp(max=5) / s, rtol=1e-5)
    per = diff.loss(lambda x, t: torch.zeros_like(x), x0, t=t, noise=noise, reduction="none")
    assert per.shape == (6,)
    mask = torch.zeros(1, 1, 3, 1, 1)
    mask[:, :, 0] = 1
    masked = diff.loss(
        lambda x, t, y: y, x0, t=t, noise=noise, mask=mask, y=torch.zeros_like(x0), reduction="none"
    )
    target = diff.target(x0, noise, t)
    want = (target[:, :, 0] ** 2).flatten(1).mean(1) * w
    assert torch.allclose(masked, want, rtol=1e-5)
    with pytest.raises(ValueError, match="shape"):
        diff.loss(lambda x, t: x[:, :1], x0)


# ----------------------------------------------------------------------------- mixed noise (PYoCo)
def _frame_correlation(x: torch.Tensor) -> float:
    """Mean correlation between frames 0 and 1 of (B, C, T, H, W) noise."""
    a, b = x[:, :, 0].flatten(), x[:, :, 1].flatten()
    return float(torch.corrcoef(torch.stack([a, b]))[0, 1])


@pytest.mark.parametrize("c", [0.0, 0.5, 0.8])
def test_mixed_noise_has_unit_variance_and_the_frame_correlation_asked(c):
    from minilvdm.diffusion.gaussian import mixed_noise

    x = mixed_noise((64, 2, 4, 16, 16), torch.Generator().manual_seed(0), correlation=c)
    assert abs(float(x.var()) - 1) < 0.03
    assert abs(_frame_correlation(x) - c) < 0.03
    # neighbouring pixels of one frame stay independent: the shared part is white in space
    assert abs(float(torch.corrcoef(torch.stack([x[..., 0].flatten(), x[..., 1].flatten()]))[0, 1])) < 0.03


def test_mixed_noise_leaves_images_white():
    from minilvdm.diffusion.gaussian import default_noise, mixed_noise

    image = mixed_noise((4, 2, 8, 8), torch.Generator().manual_seed(1), correlation=0.5)
    assert torch.equal(image, default_noise((4, 2, 8, 8), torch.Generator().manual_seed(1)))


def test_noise_correlation_reaches_training_and_sampling_and_is_hash_neutral_at_zero():
    from minilvdm.core.config import config_to_dict

    assert "noise_correlation" not in config_to_dict(DiffusionConfig())  # older names stay valid
    diff = Diffusion(DiffusionConfig(num_steps=10, noise_correlation=0.7))
    seen = []

    def model_fn(x, t):
        seen.append(x.clone())
        return torch.zeros_like(x)

    torch.manual_seed(0)
    x0 = torch.zeros(32, 2, 4, 8, 8)
    diff.loss(model_fn, x0, t=torch.full((32,), 9))  # x_t = sqrt(1 - a) eps: the noise itself
    assert abs(_frame_correlation(seen[-1]) - 0.7) < 0.05
    diff.sample(model_fn, (32, 2, 4, 8, 8), steps=2, generator=torch.Generator().manual_seed(0))
    assert abs(_frame_correlation(seen[-2]) - 0.7) < 0.05  # x_T, the sampler's first input
    with pytest.raises(ValueError, match="noise_correlation"):
        Diffusion(DiffusionConfig(noise_correlation=1.0))


# ----------------------------------------------------------------------------- flow matching
def test_rectified_flow_schedule_is_the_straight_line():
    n = 1000
    diff = Diffusion(DiffusionConfig(num_steps=n, schedule="rectified_flow", prediction="flow"))
    t = torch.tensor([0, 1, 250, 500, 998, 999])
    s = (t + 1).double() / (n + 1)
    assert torch.allclose(diff.flow_s[t], s, atol=1e-9)  # evenly spaced in s
    assert torch.allclose(diff.snr[t], ((1 - s) / s) ** 2, rtol=1e-6)
    g = torch.Generator().manual_seed(3)
    x0, eps = torch.randn(6, 2, 3, 4, 4, generator=g), torch.randn(6, 2, 3, 4, 4, generator=g)
    line = (1 - s.float()).view(-1, 1, 1, 1, 1) * x0 + s.float().view(-1, 1, 1, 1, 1) * eps
    c = diff.flow_scale[t].float().view(-1, 1, 1, 1, 1)
    # float32's 1 - alpha_bar at alpha_bar ~ 1 - 1e-6 keeps ~1e-5 (q_sample casts to the data's dtype)
    assert torch.allclose(c * diff.q_sample(x0, t, eps), line, atol=1e-4)
    assert torch.allclose(diff.target(x0, eps, t), eps - x0)


@pytest.mark.parametrize("schedule", ["rectified_flow", "cosine"])
def test_ddim_eta0_with_flow_is_the_euler_step(schedule):
    """x_{s'} = x_s + (s' - s) u in the line's coordinates, for any schedule."""
    diff = Diffusion(DiffusionConfig(schedule=schedule, prediction="flow"))
    g = torch.Generator().manual_seed(4)
    x_t, u = torch.randn(4, 2, 3, 4, 4, generator=g), torch.randn(4, 2, 3, 4, 4, generator=g)
    t, t_prev = torch.tensor([900, 600, 300, 20]), torch.tensor([700, 500, 100, 0])
    x_prev, _ = diff.ddim_step(u, x_t, t, t_prev, torch.zeros_like(x_t), eta=0.0)
    at = lambda v, k: v[k].float().view(-1, 1, 1, 1, 1)  # noqa: E731
    euler = at(diff.flow_scale, t) * x_t + (at(diff.flow_s, t_prev) - at(diff.flow_s, t)) * u
    assert torch.allclose(at(diff.flow_scale, t_prev) * x_prev, euler, atol=1e-4)


def test_logit_normal_timesteps():
    from minilvdm.core.config import config_to_dict

    assert "t_sampling" not in config_to_dict(DiffusionConfig())  # older names stay valid
    diff = Diffusion(DiffusionConfig(schedule="rectified_flow", t_sampling="logit_normal"))
    torch.manual_seed(0)
    t = diff.sample_t(20000)
    assert t.dtype == torch.long and t.min() >= 0 and t.max() <= 999
    logit = torch.logit(diff.flow_s[t])
    assert abs(float(logit.mean())) < 0.03 and abs(float(logit.std()) - 1) < 0.03
    assert (t < 100).float().mean() < 0.03  # uniform would put 10% there
    with pytest.raises(ValueError, match="t_sampling"):
        Diffusion(DiffusionConfig(t_sampling="beta"))


def test_shifted_timesteps_warp_the_trailing_grid():
    assert shifted_timesteps(1000, 50, 1.0) == make_timesteps(1000, 50)  # shift 1: no warp
    towards_noise, towards_clean = shifted_timesteps(1000, 50, 3.0), shifted_timesteps(1000, 50, 1 / 3)
    for ts in (towards_noise, towards_clean):
        assert ts[0] == 999 and ts == sorted(set(ts), reverse=True) and 0 <= ts[-1]
    # u' = 3u / (1 + 2u) at u = 1/2 is 3/4: the grid's middle step sits at t = 749
    assert towards_noise[25] == 749
    # more of the 50 steps above t = 500 when shifted towards the noise, fewer towards the clean end
    above = lambda ts: sum(t >= 500 for t in ts)  # noqa: E731
    assert above(towards_noise) > above(make_timesteps(1000, 50)) == 25 > above(towards_clean)
    with pytest.raises(ValueError):
        shifted_timesteps(1000, 50, 0.0)
