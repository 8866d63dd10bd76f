import dataclasses

import pytest
import torch

from minilvdm.diffusion import Diffusion, DiffusionConfig
from minilvdm.diffusion.conditioning import (
    ConditionalDenoiser,
    ConditionConfig,
    condition_mask,
    model_inputs,
    perturb,
)
from minilvdm.diffusion.unet import SpaceTimeUNet, UNetConfig

C, T = 2, 5


def make(mode="predict", style="lvdm", perturb_max=250, p_drop=0.0, self_condition=False):
    cfg = ConditionConfig(
        mode=mode,
        given=2,
        p_drop=p_drop,
        perturb_max=perturb_max,
        perturb_sample=20,
        style=style,
        self_condition=self_condition,
    )
    torch.manual_seed(0)
    unet = SpaceTimeUNet(
        UNetConfig(
            in_channels=C,
            model_channels=8,
            channel_mult=(1, 2),
            attention_resolutions=(),
            norm_groups=4,
            context_channels=cfg.context_channels(C),
            scalar_embeddings=("s",),
        )
    )
    torch.nn.init.normal_(unet.conv_out.weight, std=0.1)
    return ConditionalDenoiser(unet, Diffusion(DiffusionConfig(num_steps=100)), cfg)


def test_masks_for_each_mode():
    assert condition_mask("uncond", 5).tolist() == [0, 0, 0, 0, 0]
    assert condition_mask("predict", 5, given=2).tolist() == [1, 1, 0, 0, 0]
    assert condition_mask("interp", 5).tolist() == [1, 0, 0, 0, 1]
    with pytest.raises(ValueError):
        condition_mask("predict", 3, given=3)
    with pytest.raises(ValueError):
        condition_mask("interp", 2)
    with pytest.raises(ValueError):
        condition_mask("sideways", 4)


def test_both_styles_write_and_mask_the_context_as_specified():
    x_t, cond = torch.randn(2, C, T, 4, 4), torch.randn(2, C, T, 4, 4)
    mask = condition_mask("interp", T).view(1, 1, T, 1, 1)
    x_in, ctx = model_inputs(x_t, cond, mask, "lvdm")
    assert torch.equal(x_in[:, :, 0], cond[:, :, 0]) and torch.equal(x_in[:, :, 2], x_t[:, :, 2])
    assert ctx.shape == (2, 1, T, 4, 4) and ctx[:, :, [0, 4]].eq(1).all() and ctx[:, :, 1:4].eq(0).all()
    x_in, ctx = model_inputs(x_t, cond, mask, "videoldm")  # c_S = (m * z, m) on channels
    assert torch.equal(x_in, x_t) and ctx.shape == (2, C + 1, T, 4, 4)
    assert torch.equal(ctx[:, :C, 0], cond[:, :, 0]) and ctx[:, :C, 1:4].eq(0).all()


def test_perturbation_follows_q_zs_given_zc():
    diffusion = Diffusion(DiffusionConfig(num_steps=1000))
    z_c = torch.randn(1, C, 1, 4, 4).expand(20000, C, 1, 4, 4)
    s = torch.full((20000,), 100)
    c_s = perturb(diffusion, z_c, s)
    a = diffusion.alpha_bar[100].float()
    assert torch.allclose(c_s.mean(0), a.sqrt() * z_c[0], atol=0.03)
    assert torch.allclose(c_s.var(0), (1 - a).expand(C, 1, 4, 4), rtol=0.05)


def test_training_draws_levels_below_s_max_and_drops_conditions():
    model = make(perturb_max=7, p_drop=0.5)
    z0 = torch.randn(400, C, T, 4, 4)
    cond, mask, s = model.training_condition(z0, torch.Generator().manual_seed(0))
    assert s.min() >= 0 and s.max() <= 6 and len(s.unique()) == 7
    kept = mask.flatten(1).sum(1) > 0
    assert 0.4 < kept.float().mean() < 0.6
    assert mask[kept][:, 0, :, 0, 0].eq(torch.tensor([1.0, 1, 0, 0, 0])).all()
    assert not torch.equal(cond, z0)


@pytest.mark.parametrize("style", ["lvdm", "videoldm"])
def test_loss_trains_and_given_frames_come_out_unchanged(style):
    model = make(mode="interp", style=style, perturb_max=0)
    z0 = torch.randn(2, C, T, 8, 8)
    loss = model.loss(z0)
    loss.backward()
    assert torch.isfinite(loss) and model.unet.conv_out.weight.grad.abs().sum() > 0
    mask = condition_mask("interp", T).view(1, 1, T, 1, 1)
    out = model.sample(z0, mask, steps=3, guidance=0.1, generator=torch.Generator().manual_seed(0))
    assert out.shape == z0.shape
    assert torch.equal(out[:, :, 0], z0[:, :, 0]) and torch.equal(out[:, :, -1], z0[:, :, -1])
    assert not torch.allclose(out[:, :, 2], z0[:, :, 2])


def test_autoguidance_replaces_the_unconditional_path_with_the_guides_conditional_one():
    """(1 + w) D - w D_guide with the guide seeing the same conditions: a guide equal to the
    model is no guidance at all; another guide changes the clip, also with nothing given."""
    import copy

    model = make(perturb_max=50)
    z0 = torch.randn(1, C, T, 8, 8)
    mask = condition_mask("predict", T, 2).view(1, 1, T, 1, 1)
    run = lambda **kw: model.sample(z0, mask, steps=3, generator=torch.Generator().manual_seed(1), **kw)
    plain = run(guidance=0.0)
    assert torch.allclose(run(guidance=2.0, guide=copy.deepcopy(model)), plain, atol=1e-5)
    other = make(perturb_max=50)
    torch.nn.init.normal_(other.unet.conv_out.weight, std=0.3)
    guided = run(guidance=2.0, guide=other)
    assert not torch.allclose(guided, plain, atol=1e-3)
    assert torch.equal(guided[:, :, :2], z0[:, :, :2])  # the given frames stay as given
    nothing = torch.zeros_like(mask)
    alone = model.sample(z0, nothing, steps=3, guidance=2.0, generator=torch.Generator().manual_seed(1))
    with_guide = model.sample(
        z0, nothing, steps=3, guidance=2.0, guide=other, generator=torch.Generator().manual_seed(1)
    )
    assert not torch.allclose(alone, with_guide, atol=1e-3)
    with pytest.raises(ValueError, match="task"):
        run(guidance=2.0, guide=make(mode="interp", perturb_max=50))


def test_unconditional_guidance_changes_the_sample_and_needs_matching_unet():
    model = make(perturb_max=50)
    z0 = torch.randn(1, C, T, 8, 8)
    mask = condition_mask("predict", T, 2).view(1, 1, T, 1, 1)
    plain = model.sample(z0, mask, steps=3, guidance=0.0, generator=torch.Generator().manual_seed(1))
    guided = model.sample(z0, mask, steps=3, guidance=2.0, generator=torch.Generator().manual_seed(1))
    assert not torch.allclose(plain, guided)
    wrong = SpaceTimeUNet(UNetConfig(in_channels=C, model_channels=8, channel_mult=(1,), norm_groups=4))
    with pytest.raises(ValueError, match="context_channels"):
        ConditionalDenoiser(wrong, model.diffusion, ConditionConfig())
    with pytest.raises(ValueError, match="below the 100 diffusion steps"):
        ConditionalDenoiser(model.unet, model.diffusion, ConditionConfig(given=2, perturb_sample=100))


def make_with_classes(class_drop=0.1):
    model = make(perturb_max=50)
    cfg = ConditionConfig(
        mode="predict", given=2, p_drop=0.0, perturb_max=50, perturb_sample=20, class_drop=class_drop
    )
    torch.manual_seed(0)
    unet = SpaceTimeUNet(dataclasses.replace(model.unet.cfg, num_classes=10))
    torch.nn.init.normal_(unet.conv_out.weight, std=0.1)
    torch.nn.init.normal_(unet.class_embed.weight, std=1.0)
    return ConditionalDenoiser(unet, model.diffusion, cfg)


def test_class_guidance_drops_the_label_and_keeps_the_frames():
    """With a label, guided = uncond + s (cond - uncond) where uncond is the null label on the
    same given frames; the given frames come out as given; class-free models refuse labels."""
    model = make_with_classes()
    z0 = torch.randn(2, C, T, 8, 8)
    mask = condition_mask("predict", T, 2).view(1, 1, T, 1, 1)
    run = lambda **kw: model.sample(z0, mask, steps=3, generator=torch.Generator().manual_seed(1), **kw)
    labelled, null = run(class_label=3), run()
    assert not torch.allclose(labelled, null, atol=1e-4)  # the label reaches the network
    assert torch.allclose(run(class_label=3, guidance=1.0, guidance_form="cfg"), labelled, atol=1e-6)
    seen = []
    predict = model.predict
    model.predict = lambda *a: (seen.append((a[4], a[5])), predict(*a))[1]
    guided = run(class_label=torch.tensor([3, 5]), guidance=6.0)
    model.predict = predict
    masks, labels = {bool(m.any()) for m, _ in seen}, {tuple(lab.tolist()) for _, lab in seen}
    assert masks == {True} and labels == {(3, 5), (-1, -1)}  # frames always given; label or null
    assert torch.equal(guided[:, :, :2], z0[:, :, :2])
    with pytest.raises(ValueError, match="without classes"):
        make(perturb_max=50).sample(z0, mask, steps=2, class_label=3)
    for bad in (10, -1, [1, 2, 3]):
        with pytest.raises(ValueError, match="class"):
            run(class_label=bad)


def test_training_labels_are_dropped_to_the_null_token_at_class_drop():
    model = make_with_classes(class_drop=0.5)
    seen, forward = [], model.unet.forward

    def spy(x, t, class_label=None, **kw):  # records the labels the network receives
        seen.append(class_label.clone())
        return forward(x, t, class_label=class_label, **kw)

    model.unet.forward = spy
    loss = model(torch.randn(400, C, T, 4, 4), class_label=torch.full((400,), 7))
    assert loss.ndim == 0 and torch.isfinite(loss)
    (labels,) = seen
    assert set(labels.tolist()) == {7, -1} and 0.4 < (labels == -1).float().mean() < 0.6
    seen.clear()
    model.cfg.class_drop = 0.0  # no dropout: every label arrives
    model(torch.randn(8, C, T, 4, 4), class_label=torch.full((8,), 7))
    assert seen[0].eq(7).all()


@pytest.mark.parametrize("style", ["lvdm", "videoldm"])
def test_a_self_conditioned_denoiser_reads_its_last_estimate_first_and_each_path_keeps_its_own(style):
    """context = [x0_hat, condition]: the estimate takes C channels before the style's; the
    first call of every path sees zeros, each later call the clean estimate of that path's own
    previous prediction; training runs the estimate pass for about half the batch."""
    model = make(style=style, perturb_max=50, self_condition=True)
    plain = make(style=style, perturb_max=50)
    assert model.cfg.context_channels(C) == plain.cfg.context_channels(C) + C
    z0 = torch.randn(4, C, T, 8, 8)
    mask = condition_mask("predict", T, 2).view(1, 1, T, 1, 1)
    seen = []
    original = model.predict

    def spy(x_t, t, cond, m, s, class_label=None, estimate=None):
        pred = original(x_t, t, cond, m, s, class_label, estimate)
        seen.append((bool(m.any()), estimate.clone(), model.diffusion.to_eps_x0(pred, x_t, t)[1]))
        return pred

    model.predict = spy
    model.sample(z0, mask, steps=3, guidance=1.0, generator=torch.Generator().manual_seed(0))
    for conditional in (True, False):  # the guided path and the condition-dropped one
        path = [(e, x0) for c, e, x0 in seen if c == conditional]
        assert len(path) == 3 and path[0][0].eq(0).all()
        for (_, x0_before), (estimate, _) in zip(path, path[1:]):
            assert torch.allclose(estimate, x0_before)
    seen.clear()
    torch.manual_seed(0)
    model.loss(z0).backward()
    assert len(seen) == 2 and seen[0][1].eq(0).all()  # the no-gradient pass reads zeros ...
    assert not seen[1][1].eq(0).all() and seen[1][1].eq(0).any()  # ... then some clips their estimate
    assert model.unet.conv_in.weight.grad[:, C : 2 * C].abs().sum() > 0  # the estimate's columns learn
    with pytest.raises(ValueError, match="estimate"):
        plain.predict(z0, torch.zeros(4).long(), z0, mask, torch.zeros(4).long(), estimate=z0)
