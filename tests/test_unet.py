"""The factorized space-time UNet: conditioning shapes, the image/video relation, frame mixing."""

import itertools

import pytest
import torch

from minilvdm.diffusion.unet import (
    SpaceTimeUNet,
    UNetConfig,
    count_parameters,
    freeze_spatial,
    is_temporal,
    load_image_weights,
    load_unconditional_weights,
)

TINY = dict(
    in_channels=2, model_channels=16, channel_mult=(1, 2), attention_resolutions=(1, 2), head_channels=8
)


def randomize(module, scale=0.1, seed=0, only=None):
    """Move every parameter (or those whose name passes `only`) away from its init, as training would."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if only is None or only(name):
                p.add_(torch.randn(p.shape, generator=g) * scale)
    return module


def image_and_video(**video_kw):
    torch.manual_seed(0)
    image = randomize(SpaceTimeUNet(UNetConfig(**TINY, temporal_layers=False)))
    video = SpaceTimeUNet(UNetConfig(**TINY, **video_kw))
    new = load_image_weights(video, image.state_dict())
    assert new and all(is_temporal(n) for n in new)
    return image.eval(), video.eval()


def clip(b=2, t=5, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, 2, t, 8, 8, generator=g), torch.randint(0, 1000, (b,), generator=g)


COMBOS = list(itertools.product([0, 10], [(), ("s", "stride")], [0, 3], [False, True]))


@pytest.mark.parametrize("classes,scalars,context,frame_index", COMBOS)
def test_shapes_for_every_conditioning_combination(classes, scalars, context, frame_index):
    cfg = UNetConfig(
        **TINY,
        num_classes=classes,
        scalar_embeddings=scalars,
        context_channels=context,
        frame_index_embedding=frame_index,
    )
    net = randomize(SpaceTimeUNet(cfg))
    x, t = clip()
    kwargs = {}
    if classes:
        kwargs["class_label"] = torch.tensor([3, -1])  # -1 = the null token
    if scalars:
        kwargs["extra_scalars"] = {"s": torch.tensor([0, 100]), "stride": 4}
    if context:
        kwargs["context"] = torch.randn(2, context, 5, 8, 8)
    if frame_index:
        kwargs["frame_index"] = torch.arange(5) + 2
    out = net(x, t, **kwargs)
    assert out.shape == x.shape
    assert (
        net(
            x[:, :, 0],
            t,
            **{k: (v[:, :, 0] if k == "context" else v) for k, v in kwargs.items() if k != "frame_index"},
        ).shape
        == x[:, :, 0].shape
    )  # 4D image input
    if classes:  # None means unconditional: the same as the null token
        assert torch.allclose(
            net(x, t, **{**kwargs, "class_label": torch.tensor([-1, -1])}),
            net(x, t, **{**kwargs, "class_label": None}),
        )


@pytest.mark.parametrize("attention", ["rope", "relative", "none"])
@pytest.mark.parametrize("init", ["zero", "identity", "alpha"])
def test_new_temporal_stack_leaves_image_output_unchanged(attention, init):
    kw = {"temporal_attention": attention}
    kw.update({"alpha_mixing": True} if init == "alpha" else {"temporal_init": init})
    image, video = image_and_video(**kw)
    x, t = clip()
    assert torch.allclose(video(x, t), image(x, t), atol=1e-5)


@pytest.mark.parametrize("joint", [False, True])
def test_image_mode_equals_image_network(joint):
    image, video = image_and_video(joint_attention=joint)
    randomize(video, only=is_temporal, seed=3)  # temporal layers trained: no longer identities
    x, t = clip()
    want = image(x, t)
    assert not torch.allclose(video(x, t), want, atol=1e-3)
    assert torch.allclose(video(x, t, enable_time=False), want, atol=1e-5)
    assert torch.allclose(video(x[:, :, :1], t), want[:, :, :1], atol=1e-5)  # T = 1 skips them too


def test_frames_are_independent_without_temporal_layers_only():
    image, video = image_and_video(temporal_attention="rope")
    randomize(video, only=is_temporal, seed=4)
    x, t = clip(t=6)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    for net, kw in ((image, {}), (video, {"enable_time": False})):
        assert torch.allclose(net(x[:, :, perm], t, **kw), net(x, t, **kw)[:, :, perm], atol=1e-5)
    assert not torch.allclose(video(x[:, :, perm], t), video(x, t)[:, :, perm], atol=1e-3)
    # and each output frame depends on its own input frame alone
    y = x.clone()
    y[:, :, 2] += 1
    changed = (image(x, t) - image(y, t)).abs().amax(dim=(0, 1, 3, 4)) > 0
    assert changed.tolist() == [False, False, True, False, False, False]
    changed = (video(x, t) - video(y, t)).abs().amax(dim=(0, 1, 3, 4)) > 0
    assert changed.sum() > 1


def test_joint_attention_mixes_frames():
    _, video = image_and_video(joint_attention=True, temporal_attention="none")
    randomize(video, seed=5)
    x, t = clip(t=4)
    y = x.clone()
    y[:, :, 0] += 1
    assert ((video(x, t) - video(y, t)).abs().amax(dim=(0, 1, 3, 4)) > 0).all()


def test_clip_context_starts_as_identity_then_hands_every_frame_the_far_frames():
    image, video = image_and_video(clip_context=True)  # temporal layers at init: identities
    x, t = clip(t=8)
    assert torch.allclose(video(x, t), image(x, t), atol=1e-5)  # zero-init: the network without it
    randomize(video, only=lambda n: "clip_embed" in n, seed=6)  # only the clip context trained
    y = x.clone()
    y[:, :, 7] += 1  # the last frame, out of reach of frame 0 through the untrained temporal layers
    assert not torch.allclose(video(x, t)[:, :, 0], video(y, t)[:, :, 0], atol=1e-4)
    assert torch.allclose(video(x, t, enable_time=False), image(x, t), atol=1e-5)  # image mode: none
    assert all(is_temporal(n) for n, _ in video.named_parameters() if "clip_embed" in n)


def test_freeze_spatial_and_alpha_gets_gradient():
    _, video = image_and_video(alpha_mixing=True)
    counts = freeze_spatial(video)
    assert counts["trainable"] == counts["temporal"] > 0 and counts["total"] > counts["trainable"]
    video.train()
    x, t = clip()
    randomize(video, only=lambda n: n.startswith("conv_out"), seed=6)  # a non-zero image output
    video(x, t).pow(2).mean().backward()
    alphas = [p for n, p in video.named_parameters() if n.endswith("temporal_alpha")]
    assert alphas and all(torch.equal(a, torch.full((), 0.5)) for a in alphas)
    # at init temporal(x) = x: the temporal weights learn (through 1 - a = 0.5), a does not yet
    temporal = [p for n, p in video.named_parameters() if is_temporal(n) and not n.endswith("temporal_alpha")]
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in temporal)
    assert all(p.grad is None for n, p in video.named_parameters() if not is_temporal(n))
    # once the temporal layers differ from the identity, a gets a gradient too
    video.zero_grad()
    randomize(video, only=lambda n: is_temporal(n) and not n.endswith("temporal_alpha"), seed=7)
    video(x, t).pow(2).mean().backward()
    assert any(a.grad is not None and a.grad.abs() > 0 for a in alphas)
    assert count_parameters(video) == counts


def test_bad_inputs_raise_clear_errors():
    net = SpaceTimeUNet(UNetConfig(**TINY, scalar_embeddings=("s",)))
    x, t = clip()
    with pytest.raises(ValueError, match="'s'"):
        net(x, t)
    with pytest.raises(ValueError, match="scalar_embeddings"):
        net(x, t, extra_scalars={"s": 1, "fps": 2})
    with pytest.raises(ValueError, match="multiples"):
        net(torch.randn(1, 2, 2, 7, 7), t[:1], extra_scalars={"s": 1})
    with pytest.raises(ValueError, match="num_classes"):
        net(x, t, extra_scalars={"s": 1}, class_label=torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="context"):
        net(x, t, extra_scalars={"s": 1}, context=x)
    with pytest.raises(ValueError, match="temporal_attention"):
        SpaceTimeUNet(UNetConfig(**TINY, temporal_attention="full"))


def test_profile_configs_build():
    for profile in ("ci", "quick"):
        cfg = UNetConfig.for_profile(profile, in_channels=4)
        net = SpaceTimeUNet(cfg)
        out = net(torch.randn(1, 4, 2, 16, 16), torch.tensor([10]))
        assert out.shape == (1, 4, 2, 16, 16)


def test_every_conditioning_input_changes_the_output():
    cfg = UNetConfig(
        **TINY, num_classes=10, scalar_embeddings=("s",), context_channels=1, frame_index_embedding=True
    )
    net = randomize(SpaceTimeUNet(cfg)).eval()
    x, t = clip(b=1)
    base = dict(
        class_label=3,
        extra_scalars={"s": 10},
        context=torch.zeros(1, 1, 5, 8, 8),
        frame_index=torch.arange(5),
    )
    with torch.no_grad():
        ref = net(x, t, **base)
        for key, value in {
            "class_label": 5,
            "extra_scalars": {"s": 200},
            "context": torch.ones(1, 1, 5, 8, 8),
            "frame_index": torch.arange(5) + 3,
        }.items():
            assert not torch.allclose(net(x, t, **{**base, key: value}), ref, atol=1e-4), key
        assert not torch.allclose(net(x, t + 100, **base), ref, atol=1e-4)


def test_a_conditioned_unet_warm_started_from_an_unconditional_one_starts_as_it():
    torch.manual_seed(0)
    plain = randomize(SpaceTimeUNet(UNetConfig(**TINY))).eval()
    conditioned = SpaceTimeUNet(UNetConfig(**TINY, context_channels=3, scalar_embeddings=("s",))).eval()
    fresh = load_unconditional_weights(conditioned, plain.state_dict())
    assert fresh and all(n.startswith("scalar_embed.s.") for n in fresh)
    x, t = clip(t=4)
    context, s = torch.randn(2, 3, 4, 8, 8), torch.tensor([5, 90])
    want = plain(x, t)
    assert torch.allclose(conditioned(x, t, context=context, extra_scalars={"s": s}), want, atol=1e-5)
    randomize(conditioned, seed=7)  # trained: the conditions now matter
    assert not torch.allclose(conditioned(x, t, context=context, extra_scalars={"s": s}), want, atol=1e-3)
    with pytest.raises(ValueError, match="do not fit"):
        load_unconditional_weights(
            conditioned, SpaceTimeUNet(UNetConfig(**{**TINY, "model_channels": 8})).state_dict()
        )
