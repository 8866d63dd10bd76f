import copy
import dataclasses

import pytest
import torch

from minilvdm.diffusion import DiffusionConfig
from minilvdm.methods.lvdm import (
    LatentVideoDiffusion,
    LVDMConfig,
    default_data_config,
    default_lvdm_config,
    default_train_config,
    default_unet_config,
)
from minilvdm.vae import VAEConfig, VideoVAE


def tiny(conditional=False, space="latent", self_condition=False):
    classes = 10 if conditional else 0
    unet = default_unet_config(4 if space == "latent" else 1, classes, space, self_condition=self_condition)
    unet.model_channels, unet.channel_mult, unet.attention_resolutions, unet.norm_groups = 8, (1, 2), (2,), 4
    unet.head_channels = 8
    if space == "pixel":
        unet.channel_mult = (1, 2, 2)
    cfg = LVDMConfig(
        space=space,
        num_classes=classes,
        p_uncond=0.5,
        unet=unet,
        diffusion=DiffusionConfig(num_steps=50),
        self_condition=self_condition,
    )
    vae = (
        VideoVAE(VAEConfig(in_channels=1, base_channels=8, time_factor=4, space_factor=4))
        if space == "latent"
        else None
    )
    return LatentVideoDiffusion(cfg, vae)


def test_loss_and_sample_shapes_latent_and_pixel():
    model = tiny()
    z = torch.randn(2, 4, 4, 16, 16)
    loss = model(z)
    loss.backward()
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert model.sample_shape(3, 16, 64) == (3, 4, 4, 16, 16)
    video = model.sample(3, steps=2, batch_size=2)
    assert video.shape == (3, 1, 16, 64, 64) and video.abs().max() <= 1
    assert model.sample(1, steps=2, decode=False).shape == (1, 4, 4, 16, 16)
    pixel = tiny(space="pixel")
    assert pixel.sample(1, frames=4, size=32, steps=2).shape == (1, 1, 4, 32, 32)


def passed_to_sampler(monkeypatch, model, key: str) -> list:
    """The `key` argument of each call `model.sample` makes to the diffusion's sampler, in order."""
    seen = []
    real_sample = model.diffusion.sample
    monkeypatch.setattr(
        model.diffusion, "sample", lambda *a, **kw: seen.append(kw[key]) or real_sample(*a, **kw)
    )
    return seen


@pytest.mark.parametrize("prediction", ["eps", "flow"])
@pytest.mark.parametrize("dataset", ["mnist", "sky"])
def test_sample_takes_the_data_sets_eta_unless_given(monkeypatch, dataset, prediction):
    from minilvdm.core.presets import default_eta

    model = tiny()
    model.cfg.dataset = dataset
    model.cfg.diffusion.prediction = prediction
    etas = passed_to_sampler(monkeypatch, model, "eta")
    model.sample(1, steps=2, decode=False)
    model.sample(1, steps=2, decode=False, eta=0.3)
    assert etas == [default_eta(dataset, prediction), 0.3]


def test_sample_visits_the_shifted_grid_when_asked(monkeypatch):
    from minilvdm.diffusion.schedules import make_timesteps, shifted_timesteps

    model = tiny()
    grids = passed_to_sampler(monkeypatch, model, "steps")
    model.sample(1, steps=10, decode=False, shift=1.0)
    model.sample(1, steps=10, decode=False, shift=3.0)
    assert grids[0] == 10 and grids[1] == shifted_timesteps(50, 10, 3.0) != make_timesteps(50, 10)


@pytest.mark.parametrize("prediction", ["eps", "flow"])
@pytest.mark.parametrize("dataset", ["mnist", "sky"])
def test_sample_takes_the_data_sets_time_grid_unless_given(monkeypatch, dataset, prediction):
    from minilvdm.core.presets import default_shift
    from minilvdm.diffusion.schedules import shifted_timesteps

    model = tiny()
    model.cfg.dataset, model.cfg.diffusion.prediction = dataset, prediction
    grids = passed_to_sampler(monkeypatch, model, "steps")
    model.sample(1, steps=10, decode=False)
    model.sample(1, steps=[40, 20, 5], decode=False)  # a grid given as timesteps is taken as given
    shift = default_shift(dataset, prediction)
    assert grids[0] == (shifted_timesteps(50, 10, shift) if shift != 1.0 else 10)
    assert grids[1] == [40, 20, 5]


def test_quick_moving_mnist_samples_flow_at_eta_0_and_noise_models_at_eta_1():
    from minilvdm.core.presets import default_eta, preset

    # BENCHMARKS.md `samplers`: the flow classroom model is ahead at eta 0; eps models at eta 1
    assert preset("mnist", "quick").diffusion.prediction == "flow"
    assert default_eta("mnist", "flow", "quick") == 0.0
    assert default_eta("mnist", "eps", "quick") == default_eta("mnist", "v", "quick") == 1.0
    assert default_eta("sky", "flow", "quick") == default_eta("sky", "eps", "quick") == 1.0


def test_quick_moving_mnist_flow_models_sample_on_the_grid_shifted_towards_the_noise():
    from minilvdm.core.presets import default_shift

    # BENCHMARKS.md `samplers`: shift 3 lifted both short-clip flow models at eta 0; not measured
    # on eps / v models or skies, which keep the even grid
    assert default_shift("mnist", "flow", "quick") == 3.0
    assert default_shift("mnist", "eps", "quick") == default_shift("mnist", "v", "quick") == 1.0
    assert default_shift("sky", "flow", "quick") == 1.0


def test_vae_is_frozen_shared_by_the_ema_copy_and_not_a_parameter():
    model = tiny()
    assert not any(name.startswith("_vae") or "encoder" in name for name, _ in model.named_parameters())
    assert all(not p.requires_grad for p in model.vae.parameters())
    clone = copy.deepcopy(model)
    assert clone.vae is model.vae and clone.unet is not model.unet


def test_labels_are_dropped_with_p_uncond_during_training():
    model = tiny(conditional=True)
    seen = []
    original = model.unet.forward
    model.unet.forward = lambda x, t, class_label=None, **kw: (
        seen.append(class_label),
        original(x, t, class_label=class_label),
    )[1]
    torch.manual_seed(0)
    model(torch.randn(400, 4, 1, 16, 16), torch.full((400,), 7))
    dropped = (seen[0] == -1).float().mean()
    assert 0.4 < dropped < 0.6 and set(seen[0].tolist()) == {-1, 7}


def test_guidance_uses_the_null_token_and_changes_samples():
    model = tiny(conditional=True)
    torch.nn.init.normal_(model.unet.conv_out.weight, std=0.1)
    torch.nn.init.normal_(model.unet.class_embed.weight, std=1.0)
    a = model.sample(1, steps=3, class_label=3, generator=torch.Generator().manual_seed(0), decode=False)
    b = model.sample(
        1, steps=3, class_label=3, guidance=4.0, generator=torch.Generator().manual_seed(0), decode=False
    )
    assert not torch.allclose(a, b)


def test_guidance_interval_outside_every_step_samples_the_conditional_model_alone():
    model = tiny(conditional=True)
    torch.nn.init.normal_(model.unet.conv_out.weight, std=0.1)
    torch.nn.init.normal_(model.unet.class_embed.weight, std=1.0)
    run = lambda **kw: model.sample(  # noqa: E731
        1, steps=3, class_label=3, generator=torch.Generator().manual_seed(0), decode=False, **kw
    )
    alone, guided = run(), run(guidance=4.0)
    assert torch.allclose(run(guidance=4.0, guidance_interval=(2000, 3000)), alone)
    assert torch.allclose(run(guidance=4.0, guidance_interval=(0, 999)), guided)


def _seeded(model, **kw):
    return model.sample(2, steps=3, eta=0.0, generator=torch.Generator().manual_seed(0), decode=False, **kw)


def test_autoguidance_mixes_the_guides_prediction_as_the_paper_writes():
    """D_guide + w (D - D_guide): w = 1 is the model alone, a guide equal to the model changes
    nothing, and the sampler mixes in the guide's prediction as the 'cfg' form's u."""
    torch.manual_seed(0)
    model, guide = tiny(), tiny()
    for m in (model, guide):
        torch.nn.init.normal_(m.unet.conv_out.weight, std=0.1)
    alone = _seeded(model)
    assert torch.allclose(_seeded(model, guide=guide, guidance=1.0), alone, atol=1e-5)
    assert torch.allclose(_seeded(model, guide=copy.deepcopy(model), guidance=3.0), alone, atol=1e-5)
    assert not torch.allclose(_seeded(model, guide=guide, guidance=2.0), alone, atol=1e-3)

    seen = []
    real_sample = model.diffusion.sample
    model.diffusion.sample = lambda fn, shape, **kw: seen.append(kw) or real_sample(fn, shape, **kw)
    _seeded(model, guide=guide, guidance=2.5)
    x, t = torch.randn(2, 4, 4, 16, 16), torch.full((2,), 30)
    with torch.no_grad():  # the sampler's 'cfg' mix, u + s (c - u), with u = the guide's prediction
        assert torch.allclose(seen[0]["uncond_fn"](x, t), guide.unet(x, t))
    assert seen[0]["guidance_scale"] == 2.5 and seen[0]["guidance_form"] == "cfg"


def test_autoguidance_of_a_conditional_model_passes_the_label_to_a_conditional_guide():
    model, guide = tiny(conditional=True), tiny(conditional=True)
    labels = []
    original = guide.unet.forward
    guide.unet.forward = lambda x, t, class_label=None, **kw: (
        labels.append(class_label) or original(x, t, class_label=class_label)
    )
    _seeded(model, guide=guide, guidance=2.0, class_label=4)
    assert labels and all(lab.tolist() == [4, 4] for lab in labels)


def test_autoguidance_clear_errors():
    model = tiny()
    with pytest.raises(ValueError, match="guidance scale"):
        _seeded(model, guide=tiny())
    other = tiny()
    other.cfg.diffusion.prediction = "v"
    with pytest.raises(ValueError, match="prediction"):
        _seeded(model, guide=other, guidance=2.0)
    pixel = tiny(space="pixel")
    with pytest.raises(ValueError, match="same latents"):
        _seeded(model, guide=pixel, guidance=2.0)


def test_clear_errors():
    with pytest.raises(ValueError, match="needs a VAE"):
        LatentVideoDiffusion(LVDMConfig())
    with pytest.raises(ValueError, match="unconditional"):
        tiny().sample(1, steps=1, class_label=3)
    with pytest.raises(ValueError, match="num_classes"):
        LVDMConfig(num_classes=10).validate()


def test_another_vae_training_means_another_diffusion_checkpoint(monkeypatch):
    """Same VAE config, different VAE training: another latent space, never a reused model."""
    import dataclasses

    from minilvdm.methods.lvdm import default_lvdm_config, train_lvdm
    from minilvdm.vae import default_train_config, train_vae

    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    short = train_vae("mnist", progress=False)
    longer = train_vae(
        "mnist",
        train_cfg=dataclasses.replace(default_train_config("mnist"), steps=short.step + 1),
        progress=False,
    )
    a, _ = train_lvdm(default_lvdm_config("mnist"), vae_trainer=short, progress=False)
    b, _ = train_lvdm(default_lvdm_config("mnist"), vae_trainer=longer, progress=False)
    assert short.ckpt_path != longer.ckpt_path and a.ckpt_path != b.ckpt_path


def test_diffusion_configs_follow_the_vae_latent_channels(monkeypatch):
    """Every diffusion model on the video VAE's latents reads the channel count (and the long
    models their keyframe stride) from the VAE's config; the image-to-video track keeps its own
    pinned per-frame VAE."""
    import dataclasses

    from minilvdm.methods import image_to_video, lvdm, videofusion
    from minilvdm.methods.long_video import models as long_models
    from minilvdm.vae import model as vae  # the module that defines the default: the others look it up there

    real = vae.default_vae_config
    monkeypatch.setattr(
        vae,
        "default_vae_config",
        lambda d="mnist": dataclasses.replace(real(d), latent_channels=2, time_factor=2),
    )
    assert lvdm.default_lvdm_config("mnist").unet.in_channels == 2
    assert lvdm.default_lvdm_config("sky").unet.in_channels == 2
    assert lvdm.default_lvdm_config("sky", space="pixel").unet.in_channels == 3
    long_cfg = long_models.default_long_config("interp", "mnist", style="lvdm")
    estimate = 2 if long_cfg.condition.self_condition else 0  # a self-conditioned model reads its estimate
    assert long_cfg.unet.in_channels == 2 and long_cfg.unet.context_channels == estimate + 1
    videoldm = long_models.default_long_config("predict", "mnist", style="videoldm")
    assert videoldm.unet.context_channels == estimate + 3
    # keyframes stay 16 pixel frames apart: 8 latent frames of a time-x2 VAE
    assert long_models.default_long_config("predict", "mnist").stride == 8
    assert long_models.long_video_config("mnist").stride == 8
    vf = videofusion.default_videofusion_config()
    assert vf.base_unet.in_channels == vf.residual_unet.in_channels == 2
    assert image_to_video.frame_vae_config().latent_channels == 4
    assert image_to_video.i2v_unet_config().in_channels == 4


def test_pixel_baseline_gets_the_latent_models_cpu_time(monkeypatch):
    """Pixel steps = latent steps x latent step cost / pixel step cost, from costs timed once:
    a second call reuses the same step count and checkpoint instead of training again."""
    from minilvdm.methods.lvdm import default_lvdm_config, train_lvdm, train_pixel_baseline

    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    latent_trainer, _ = train_lvdm(default_lvdm_config("mnist"), progress=False)
    trainer, model, costs = train_pixel_baseline(latent_trainer, progress=False)
    assert costs["pixel"] > costs["latent"] > 0  # 64x64 pixels cost more than 16x16 latents
    assert trainer.step == max(2, round(latent_trainer.step * costs["latent"] / costs["pixel"]))
    assert model.cfg.space == "pixel" and model.vae is None
    assert trainer.ckpt_path.name.startswith("lvdm-pixel-equal-time-ci-")
    again, _, costs_again = train_pixel_baseline(latent_trainer, progress=False)
    assert costs_again == costs and again.ckpt_path == trainer.ckpt_path and again.step == trainer.step


def test_classroom_model_is_never_trained_by_accident(monkeypatch, tmp_path):
    """classroom_lvdm(train=False) gives None until a finished copy exists (a partial one too),
    then reuses it; its configs are the package's recipe with the long budget and more clips."""
    import dataclasses

    from minilvdm.core.presets import preset
    from minilvdm.methods.classroom import classroom_configs, classroom_lvdm
    from minilvdm.methods.lvdm import default_train_config
    from minilvdm.vae import train_vae

    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    monkeypatch.setenv("MINILVDM_OUTPUTS", str(tmp_path))
    vae = train_vae("mnist", progress=False)
    assert classroom_lvdm(vae, progress=False) is None
    cfg, train_cfg, data_cfg = classroom_configs()
    p = preset("mnist")
    assert (train_cfg.steps, data_cfg.count) == (p.classroom_train.steps, p.classroom_clips)
    assert dataclasses.replace(train_cfg, steps=0) == dataclasses.replace(default_train_config(), steps=0)

    trained, _ = classroom_lvdm(vae, train=True, progress=False)
    assert trained.step == train_cfg.steps and "lvdm-latent-mnist-long" in trained.ckpt_path.name
    reused, model = classroom_lvdm(vae, progress=False)
    assert reused.step == train_cfg.steps and reused.history == trained.history  # loaded, not stepped
    for a, b in zip(trained.ema.module.parameters(), model.parameters()):
        assert torch.equal(a, b)
    assert model.sample(1, steps=2).shape[:2] == (1, 1)

    state = torch.load(trained.ckpt_path, weights_only=True)
    state["step"] = train_cfg.steps - 1  # a partial run would resume for minutes: not by accident
    torch.save(state, trained.ckpt_path)
    assert classroom_lvdm(vae, progress=False) is None


def test_conditional_classroom_model_is_its_own_file(monkeypatch, tmp_path):
    """The long-budget class-conditional model (notebook 06's, where shipped) has the classroom
    model's budget and clips, 10 classes, its own checkpoint, and follows a class label."""
    from minilvdm.methods.classroom import CLASSROOM_COND_NAME, classroom_configs, classroom_lvdm
    from minilvdm.vae import train_vae

    monkeypatch.setenv("MINILVDM_PROFILE", "ci")
    monkeypatch.setenv("MINILVDM_OUTPUTS", str(tmp_path))
    vae = train_vae("mnist", progress=False)
    cfg, train_cfg, data_cfg = classroom_configs(conditional=True)
    plain = classroom_configs()
    assert cfg.num_classes == 10 and cfg.unet.num_classes == 10 and plain[0].num_classes == 0
    assert (train_cfg, data_cfg) == plain[1:]
    assert classroom_lvdm(vae, progress=False, conditional=True) is None
    trained, model = classroom_lvdm(vae, train=True, progress=False, conditional=True)
    assert CLASSROOM_COND_NAME in trained.ckpt_path.name and trained.step == train_cfg.steps
    assert classroom_lvdm(vae, progress=False) is None  # the unconditional one is another file
    assert classroom_lvdm(vae, progress=False, conditional=True)[0].ckpt_path == trained.ckpt_path
    assert model.sample(2, steps=2, class_label=torch.tensor([3, 7])).shape[:2] == (2, 1)
    with pytest.raises(ValueError, match=r"lie in \[-1, 10\)"):  # checked as the UNet reads them
        model.sample(2, steps=2, class_label=10)
    with pytest.raises(ValueError, match="2 labels"):
        model.sample(2, steps=2, class_label=torch.tensor([3, 7, 1]))


def test_recipe_benchmarks_long_row_is_the_quick_classroom_model():
    from benchmarks.recipe import LONG, VARIANTS
    from minilvdm.core.presets import preset

    p = preset("mnist", "quick")
    row = VARIANTS[LONG]
    assert (row["steps"], row["ckpt_every"], row["clips"]) == (
        p.classroom_train.steps,
        p.classroom_train.ckpt_every,
        p.classroom_clips,
    )


def test_recipe_benchmarks_adopted_row_is_the_quick_lvdm(monkeypatch):
    """The recipe table's adopted row trains the network, diffusion and schedule the package's
    quick Moving MNIST LVDM trains with, so its scores are the notebooks'."""
    from benchmarks.recipe import ADOPTED, VARIANTS, build
    from minilvdm.core.config import config_hash

    monkeypatch.setenv("MINILVDM_PROFILE", "quick")
    cfg, train, data = build(ADOPTED)
    assert config_hash(cfg) == config_hash(default_lvdm_config("mnist"))
    package = default_train_config("latent", "mnist")
    assert VARIANTS[ADOPTED]["steps"] == package.steps
    assert dataclasses.replace(train, steps=package.steps) == package
    assert data == default_data_config("mnist")
    for name in VARIANTS:  # every row builds a valid model config
        build(name)[0].validate()
    assert cfg.self_condition and cfg.unet.context_channels == cfg.unet.in_channels


def test_a_self_conditioned_classroom_warm_starts_models_with_and_without_an_estimate_input(monkeypatch):
    """A self-conditioned classroom model hands a self-conditioned twin its whole input layer,
    and a model whose context means something else (keyframes) only its latent columns: that
    model then starts as the classroom model does with a zero estimate, whatever its context."""
    import dataclasses

    from minilvdm.diffusion.unet import SpaceTimeUNet, load_unconditional_weights
    from minilvdm.methods import classroom
    from minilvdm.methods.classroom import warm_start_from_classroom

    source = tiny(self_condition=True)
    with torch.no_grad():
        for p in source.unet.parameters():
            p.add_(0.1 * torch.randn_like(p))
    monkeypatch.setattr(classroom, "classroom_lvdm", lambda *a, **k: (None, source))
    z, t, estimate = torch.randn(2, 4, 4, 16, 16), torch.tensor([10, 900]), torch.randn(2, 4, 4, 16, 16)
    twin = tiny(conditional=True, self_condition=True)
    assert warm_start_from_classroom(twin.unet, None, self_condition=True) == ["class_embed.weight"]
    want = source.unet.eval()(z, t, context=estimate)
    assert torch.allclose(twin.unet.eval()(z, t, context=estimate), want, atol=1e-5)
    blank = source.unet(z, t, context=torch.zeros_like(estimate))
    assert not torch.allclose(blank, want, atol=1e-3)  # the estimate's columns do matter
    for keyframe_channels in (4, 5):  # 4: as wide as the source's input, still not an estimate
        cfg = dataclasses.replace(source.cfg.unet, context_channels=keyframe_channels)
        keyframed = SpaceTimeUNet(cfg).eval()
        warm_start_from_classroom(keyframed, None, self_condition=False)
        keyframes = torch.randn(2, keyframe_channels, 4, 16, 16)
        assert torch.allclose(keyframed(z, t, context=keyframes), blank, atol=1e-5)
    with pytest.raises(ValueError, match="conv_in"):  # 8 source columns into 4 + 5: no rule fits
        load_unconditional_weights(SpaceTimeUNet(cfg), source.unet.state_dict())


def test_a_class_conditional_model_warm_started_from_the_classroom_starts_as_it(monkeypatch):
    from minilvdm.methods import classroom
    from minilvdm.methods.classroom import warm_start_from_classroom

    plain, cond = tiny(), tiny(conditional=True)
    with torch.no_grad():
        for p in plain.unet.parameters():
            p.add_(0.1 * torch.randn_like(p))
    monkeypatch.setattr(classroom, "classroom_lvdm", lambda *a, **k: (None, plain))
    fresh = warm_start_from_classroom(cond.unet, vae_trainer=None)
    assert fresh == ["class_embed.weight"]
    z, t = torch.randn(2, 4, 4, 16, 16), torch.tensor([10, 900])
    want = plain.unet.eval()(z, t)
    # the null token (what a dropped label and guidance's eps_u read) is the classroom model
    assert torch.allclose(cond.unet.eval()(z, t, class_label=None), want, atol=1e-5)
    labels = cond.unet.class_embed.weight[:-1]  # the labels start apart, at a fresh embedding's N(0, 1)
    assert 0.7 < labels.std().item() < 1.3 and torch.cdist(labels, labels).add(99 * torch.eye(10)).min() > 1
    three, seven = (cond.unet.eval()(z, t, class_label=torch.tensor([d, d])) for d in (3, 7))
    assert not torch.allclose(three, seven, atol=1e-4)
    for bad in (dict(init="imagenet"), dict(init="classroom", space="pixel")):
        with pytest.raises(ValueError, match="init"):
            LVDMConfig(**{**dict(unet=cond.cfg.unet, num_classes=10), **bad}).validate()


def test_a_warm_started_checkpoint_is_named_by_the_classroom_file_it_starts_from(monkeypatch, tmp_path):
    """Another classroom training is another starting point: the short-clip and long models
    warm-started from it get other checkpoint names; models trained from scratch keep theirs."""
    from pathlib import Path
    from types import SimpleNamespace

    from minilvdm.core.config import config_hash
    from minilvdm.methods import classroom
    from minilvdm.methods.long_video.models import default_long_config, long_checkpoint_path
    from minilvdm.methods.lvdm import checkpoint_configs, default_data_config, default_lvdm_config
    from minilvdm.vae.model import default_vae_config

    monkeypatch.setenv("MINILVDM_OUTPUTS", str(tmp_path))
    vae = SimpleNamespace(cfg=default_vae_config("mnist"))
    vae_trainer = SimpleNamespace(ema=SimpleNamespace(module=vae), ckpt_path=Path("vae-ci-0123456789.pt"))
    train, data = default_train_config("latent", "mnist"), default_data_config("mnist")

    def names(classroom_file: str) -> dict:
        def fake(vt, conditional=False):
            return Path(f"{'cond-' if conditional else ''}{classroom_file}")

        monkeypatch.setattr(classroom, "classroom_checkpoint_path", fake)
        out = {}
        for init in ("", "classroom"):
            cfg = default_lvdm_config("mnist", conditional=True, init=init)
            out[f"lvdm{init}"] = config_hash(*checkpoint_configs(cfg, train, data, vae_trainer))
            for conditional in (False, True):
                long_cfg = default_long_config("predict", init=init, conditional=conditional)
                path = long_checkpoint_path(long_cfg, train, data, vae_trainer)
                out[f"long{init}{conditional}"] = path.name
        return out

    first, second = names("classroom-a.pt"), names("classroom-b.pt")
    for key in first:
        assert (first[key] != second[key]) == ("classroom" in key), key


def test_sample_command_rejects_a_time_grid_shift_that_is_not_positive(capsys):
    from minilvdm.__main__ import main

    assert main(["--profile", "ci", "sample", "--shift", "0"]) == 2  # one line, before any model loads
    assert "--shift must be > 0, got 0.0" in capsys.readouterr().err


def test_sample_command_takes_the_data_sets_eta_and_grid_unless_given():
    from minilvdm.__main__ import build_parser

    # None: the model's own preset (skies sample at eta 1, Moving MNIST's flow models at 0)
    args = build_parser().parse_args(["sample"])
    assert args.eta is None and args.shift is None
    args = build_parser().parse_args(["sample", "--eta", "0.5", "--shift", "1"])
    assert (args.eta, args.shift) == (0.5, 1.0)
