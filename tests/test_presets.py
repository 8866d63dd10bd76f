"""The preset table: the factories build what it says, derived values follow their sources, and
the quick defaults still name the shipped weights."""

import dataclasses
import json
import re
import types
from pathlib import Path

import pytest

from minilvdm import vae
from minilvdm.core import presets
from minilvdm.core.config import PROFILE_ENV, PROFILES, ROOT, config_hash, config_to_dict
from minilvdm.core.train import TrainConfig
from minilvdm.diffusion.unet import UNetConfig
from minilvdm.methods import image_to_video, lvdm, videofusion
from minilvdm.methods.long_video import models as long_models
from minilvdm.vae.latent_cache import eval_data_config, video_size

DATASETS = ("mnist", "sky")


@pytest.fixture(params=PROFILES)
def profile(request, monkeypatch):
    monkeypatch.setenv(PROFILE_ENV, request.param)
    return request.param


def as_train(recipe: presets.Train) -> dict:
    return config_to_dict(TrainConfig(**recipe.kwargs()))


@pytest.mark.parametrize("dataset", DATASETS)
def test_factories_build_what_the_table_says(profile, dataset):
    p = presets.preset(dataset, profile)
    vae_cfg = vae.default_vae_config(dataset)
    for key, value in {**presets.vae_layout(dataset).kwargs(), **p.vae.kwargs()}.items():
        assert getattr(vae_cfg, key) == value, key
    assert config_to_dict(vae.default_train_config(dataset)) == as_train(p.vae_train)
    assert config_to_dict(lvdm.default_train_config("latent", dataset)) == as_train(p.lvdm_train)
    assert config_to_dict(long_models.default_train_config(dataset)) == as_train(p.long_train)
    for key, value in p.unet.kwargs().items():
        assert getattr(UNetConfig.for_profile(), key) == value, key
    model = lvdm.default_lvdm_config(dataset)
    for key, value in p.diffusion.kwargs().items():
        assert getattr(model.diffusion, key) == value, key
    assert model.unet.clip_context == p.clip_context
    for role in ("predict", "interp"):
        long_cfg = long_models.default_long_config(role, dataset)
        assert long_cfg.diffusion == model.diffusion and long_cfg.unet.clip_context == p.clip_context
    # VideoFusion predicts noises whatever the LVDM predicts, weighted by the noise models' min-SNR
    vf = videofusion.default_videofusion_config()
    assert (vf.diffusion.prediction, vf.diffusion.schedule) == ("eps", "scaled_linear")
    assert vf.diffusion.min_snr_gamma == presets.preset("mnist", profile).noise_min_snr_gamma
    assert not vf.residual_unet.clip_context
    assert lvdm.default_data_config(dataset).count == p.lvdm_clips
    assert eval_data_config(dataset).count == p.eval_clips
    assert vae.train_data_config(dataset).frames == p.short_frames
    assert video_size(dataset) == p.video_size
    assert long_models.long_data_config(dataset).count == p.long_clips


def test_the_table_reads_as_documented():
    assert presets.preset("folder", "full") == presets.preset("sky", "full")  # your videos: sky sizes
    assert (
        presets.preset("sky", "full").video_size == 128 and presets.preset("mnist", "full").video_size == 64
    )
    assert presets.preset("mnist", "ci") == presets.ci(sky=False)
    assert presets.Train(steps=3).kwargs() == {"steps": 3}  # None keeps the config's own default
    train_fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert {f.name for f in dataclasses.fields(presets.Train)} <= train_fields


def test_the_factories_read_the_table_not_a_copy(monkeypatch):
    """Change the ci row: every model built afterwards follows it."""
    monkeypatch.setenv(PROFILE_ENV, "ci")
    small = presets.UNet(model_channels=8, channel_mult=(1,), attention_resolutions=(), head_channels=8)

    def changed(sky):
        row = presets.ci(sky)
        train = dataclasses.replace(row.lvdm_train, steps=7, lr_schedule="cosine", min_lr_ratio=0.1)
        return dataclasses.replace(
            row, unet=small, lvdm_train=train, diffusion=presets.Diffusion(num_steps=40, prediction="v")
        )

    monkeypatch.setitem(presets.PRESETS, "ci", changed)
    model = lvdm.default_lvdm_config("mnist", conditional=True)
    assert (model.unet.model_channels, model.unet.channel_mult) == (8, (1,))
    assert (model.diffusion.num_steps, model.diffusion.prediction) == (40, "v")
    train = lvdm.default_train_config()
    assert (train.steps, train.lr_schedule, train.min_lr_ratio) == (7, "cosine", 0.1)
    assert long_models.default_long_config("predict").diffusion.num_steps == 40
    assert long_models.default_long_config("interp").condition.perturb_max == 40 // 4
    assert videofusion.default_videofusion_config().residual_unet.model_channels == 8
    assert videofusion.ablation_train_config().steps == presets.ci(False).videofusion_train.steps


def test_the_class_conditional_model_trains_with_cond_train_over_lvdm_train(monkeypatch):
    """cond_train replaces lvdm_train's fields for the conditional model only, and train_lvdm picks
    it from the config's classes; the classroom LVDM (its own train config) is not touched."""
    monkeypatch.setenv(PROFILE_ENV, "ci")

    def changed(sky):
        row = presets.ci(sky)
        return dataclasses.replace(
            row,
            lvdm_train=dataclasses.replace(row.lvdm_train, steps=5, lr=3e-3),
            cond_train=presets.Train(steps=11),
        )

    monkeypatch.setitem(presets.PRESETS, "ci", changed)
    plain, cond = lvdm.default_train_config(), lvdm.default_train_config("latent", "mnist", conditional=True)
    assert (plain.steps, cond.steps) == (5, 11) and plain.lr == cond.lr == 3e-3
    assert dataclasses.replace(cond, steps=5) == plain
    seen = []

    class Stop(Exception):
        pass

    def fake_trainer(model, loss_fn, batch_fn, train_cfg, *a, **k):
        seen.append(train_cfg.steps)
        raise Stop

    monkeypatch.setattr(lvdm, "training_data", lambda *a, **k: (None, None))
    monkeypatch.setattr("minilvdm.core.train.Trainer", fake_trainer)
    vae_trainer = types.SimpleNamespace(
        ema=types.SimpleNamespace(module=vae.VideoVAE(vae.default_vae_config("mnist"))),
        ckpt_path=Path("vae-ci-0000000000.pt"),
    )
    for conditional in (False, True):
        with pytest.raises(Stop):
            lvdm.train_lvdm(
                lvdm.default_lvdm_config("mnist", conditional=conditional), vae_trainer=vae_trainer
            )
    assert seen == [5, 11]
    from minilvdm.methods.classroom import classroom_configs

    classroom_train = presets.ci(False).classroom_train
    assert classroom_configs("mnist", conditional=True)[1] == dataclasses.replace(
        plain, **classroom_train.kwargs()
    )
    # the quick profile's choice: more steps than the LVDM's for the label (BENCHMARKS.md cond_accuracy)
    quick = presets.quick(False)
    assert quick.lvdm_train.steps < quick.cond_train.steps


@pytest.mark.parametrize("dataset", DATASETS)
def test_derived_values_follow_their_sources(profile, dataset):
    vae_cfg = vae.default_vae_config(dataset)
    assert lvdm.default_lvdm_config(dataset).unet.in_channels == vae_cfg.latent_channels
    assert lvdm.default_lvdm_config(dataset, space="pixel").unet.in_channels == vae_cfg.in_channels
    stride = presets.LONG_KEYFRAME_SPACING[dataset] // vae_cfg.time_factor
    assert long_models.long_stride(dataset) == stride
    assert long_models.long_video_config(dataset).stride == stride
    for role in ("predict", "interp"):
        long_cfg = long_models.default_long_config(role, dataset)
        assert long_cfg.stride == stride and long_cfg.unet.in_channels == vae_cfg.latent_channels
        assert long_cfg.diffusion.num_steps == presets.preset(dataset, profile).diffusion.num_steps
    assert long_models.long_data_config(dataset).frames == presets.LONG_CLIP_FRAMES[dataset]
    mnist_latent = vae.default_vae_config("mnist").latent_channels
    vf = videofusion.default_videofusion_config()
    assert vf.base_unet.in_channels == vf.residual_unet.in_channels == mnist_latent
    frame_vae = image_to_video.frame_vae_config()
    assert (frame_vae.time_factor, frame_vae.latent_channels) == (1, 4)
    assert image_to_video.i2v_unet_config().in_channels == frame_vae.latent_channels


def test_quick_defaults_name_the_shipped_weights(monkeypatch):
    """The quick Moving MNIST VAE and LVDM defaults hash to the committed files' names, as
    `train_vae` and `train_lvdm` build them (so MINILVDM_WEIGHTS=shipped finds them)."""
    monkeypatch.setenv(PROFILE_ENV, "quick")
    shipped = json.loads((ROOT / "minilvdm" / "weights" / "pretrained" / "MANIFEST.json").read_text())
    files = {
        (e["role"], e["dataset"]): e["file"] for e in shipped["files"].values() if e["profile"] == "quick"
    }
    vae_cfg, vae_train, vae_data = (
        vae.default_vae_config(),
        vae.default_train_config(),
        vae.train_data_config("mnist"),
    )
    vae_name = f"vae-quick-{config_hash(vae_cfg, vae_train, vae_data)}.pt"
    assert files["vae", "mnist"] == vae_name
    cfg, train, data = lvdm.default_lvdm_config(), lvdm.default_train_config(), lvdm.default_data_config()
    assert (
        files["lvdm-latent-mnist", "mnist"]
        == f"lvdm-latent-mnist-quick-{config_hash(cfg, train, data, vae_cfg, vae_name)}.pt"
    )


def test_no_module_picks_sizes_itself():
    """Sizes come from presets.py: no `by_profile(` call left in the package."""
    offenders = []
    for path in sorted((ROOT / "minilvdm").rglob("*.py")):
        if path.relative_to(ROOT).as_posix() in ("minilvdm/core/config.py", "minilvdm/__init__.py"):
            continue  # by_profile is defined and re-exported there
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\bby_profile\(", line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []
