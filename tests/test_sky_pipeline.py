"""The whole pipeline on sky clips (RGB, no classes), ci-sized."""

import argparse
import dataclasses

import pytest
import torch

from minilvdm.commands import demo
from minilvdm.data import SkyConfig, SkyTimelapse
from minilvdm.methods.long_video import default_long_config, long_data_config, long_stride, long_video_config
from minilvdm.methods.lvdm import default_data_config, default_lvdm_config, train_lvdm
from minilvdm.vae import default_vae_config
from minilvdm.vae.latent_cache import VideoDataConfig, cache_path, video_size


def test_sky_configs_are_rgb_and_unconditional():
    assert default_vae_config("sky").in_channels == 3
    cfg = default_lvdm_config("sky")
    assert cfg.num_classes == 0 and cfg.unet.in_channels == 4
    assert default_lvdm_config("sky", space="pixel").unet.in_channels == 3
    with pytest.raises(ValueError, match="digit classes"):
        default_lvdm_config("sky", conditional=True)


def test_class_conditioning_on_sky_is_refused_at_training():
    cfg = default_lvdm_config("mnist", conditional=True)
    cfg.dataset = "sky"
    with pytest.raises(ValueError, match="digit classes"):
        train_lvdm(cfg, data_cfg=VideoDataConfig("sky"), progress=False)


def test_full_profile_trains_sky_at_128_and_cpu_profiles_at_64(monkeypatch):
    for profile in ("ci", "quick"):
        monkeypatch.setenv("MINILVDM_PROFILE", profile)
        assert video_size("sky") == 64 and video_size("mnist") == 64
    monkeypatch.setenv("MINILVDM_PROFILE", "full")
    assert video_size("sky") == 128 and video_size("mnist") == 64
    assert default_data_config("sky").size == 128 and long_data_config("sky").size == 128


@pytest.mark.parametrize("dataset", ["mnist", "sky"])
def test_long_models_fit_their_training_clips(dataset):
    vae = default_vae_config(dataset)
    latent_frames = long_data_config(dataset).frames // vae.time_factor
    for role in ("predict", "interp"):
        cfg = default_long_config(role, dataset)
        assert cfg.stride == long_stride(dataset)
        assert cfg.span <= latent_frames, f"{role} needs {cfg.span} latent frames, clips give {latent_frames}"
    assert long_video_config(dataset, frames=64).stride == long_stride(dataset)
    assert long_stride(dataset) * vae.time_factor == {"mnist": 16, "sky": 8}[dataset]  # pixel frames


def test_sky_training_clip_folders_hold_a_long_model_window():
    from minilvdm.data import find_sky_root, sky_synthetic_config

    root, _ = find_sky_root(sky_synthetic_config())
    ds = SkyTimelapse(root, SkyConfig(frames=long_data_config("sky").frames, size=64))
    assert len(ds) >= 1 and ds[0]["video"].shape == (3, 32, 64, 64)


def test_latent_caches_are_kept_per_clip_shape_and_vae():
    short, long = VideoDataConfig("sky", frames=16), VideoDataConfig("sky", frames=32)
    assert cache_path(short) != cache_path(long)
    assert cache_path(short, vae_checkpoint="a/vae-1.pt") != cache_path(short, vae_checkpoint="a/vae-2.pt")
    more = dataclasses.replace(short, count=short.count * 8)  # a larger training set keeps its own
    assert cache_path(short) != cache_path(more)


@pytest.mark.slow  # ~15 CPU-s: trains four tiny models and streams a 128-frame video
def test_demo_runs_every_stage_on_sky(tmp_path, monkeypatch):
    monkeypatch.setenv("MINILVDM_OUTPUTS", str(tmp_path))
    assert demo.run(argparse.Namespace(dataset="sky")) == 0
    report = (tmp_path / "report.md").read_text()
    for stage in ("- data:", "- vae:", "- latent diffusion:", "- long video:", "drift"):
        assert stage in report
    (folder,) = (tmp_path / "demo" / "sky_long").glob("128f-seed0-*")
    video = torch.from_numpy(__import__("numpy").load(folder / "video.npy"))
    assert video.shape == (128, 3, 64, 64)  # exact length, RGB
    assert (folder / "video.mp4").stat().st_size > 0
    assert (folder / "timing.json").is_file()  # a reused video reports the time it took to make


def test_loader_reads_real_size_frames(tmp_path):
    from benchmarks.sky_loader import measure, write_jpeg_folder

    root = write_jpeg_folder(tmp_path, frames=40, per_clip=20, clips_per_video=2, width=160, height=90)
    assert len(list(root.rglob("*.jpg"))) == 40
    result = measure(root, size=32)
    assert result["clips"] == 2 and result["frames_s"] > 0  # one 16-frame window per 20-frame folder
    assert result["frames_cpu_s"] > 0
    clip = SkyTimelapse(root, SkyConfig(frames=16, size=32))[0]["video"]
    assert clip.shape == (3, 16, 32, 32) and clip.min() >= -1 and clip.max() <= 1
    with pytest.raises(ValueError, match="height"):
        write_jpeg_folder(tmp_path / "bad", frames=1, width=90, height=160)


def test_show_mp4_embeds_a_clip_or_a_file(tmp_path, monkeypatch):
    import IPython.display

    from minilvdm.core.viz import mp4_html, save_mp4, show_mp4

    clip = torch.rand(2, 3, 8, 16, 16) * 2 - 1
    html = mp4_html(clip).data
    assert html.startswith("<video") and "data:video/mp4;base64," in html and 'width="' in html
    path = save_mp4(clip, tmp_path / "c.mp4")
    assert mp4_html(path, width=100).data.count('width="100"') == 1
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    assert show_mp4(path, width=100) is None
    video, still = shown  # the MP4, then a still strip of the decoded file for GitHub
    assert video.data.startswith("<video") and still.axes[0].get_title() == "frames 0..7 every 1"
    assert still.axes[0].images[0].get_array().shape == (16, 8 * 34, 3)  # 8 frames of the 2-clip grid
