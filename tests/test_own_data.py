"""Your own videos: the video-folder data set, the frame cache, workers and the command line."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from minilvdm.core.config import ROOT
from minilvdm.core.viz import write_mp4_frames
from minilvdm.data.frame_cache import CachedClips, cache_folder, prepare
from minilvdm.data.loader import StepBatches
from minilvdm.data.video_folder import VideoFolder, VideoFolderConfig
from minilvdm.vae.latent_cache import ClipSource, VideoDataConfig


def _mp4(path, n, size=(48, 32), base=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = size
    write_mp4_frames([np.full((h, w, 3), min(255, base + 8 * i), np.uint8) for i in range(n)], path)


def _frames(folder, n, size=(40, 24), mode="RGB"):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new(mode, size, 10 * i if mode == "L" else (10 * i, 0, 0)).save(folder / f"f_{i + 1}.jpg")


def _snapshot(root):
    return sorted((str(p), p.stat().st_mtime_ns) for p in root.rglob("*") if not p.is_symlink())


@pytest.fixture
def messy(tmp_path):
    root = tmp_path / "vidéos"  # unicode names throughout
    _mp4(root / "clip_ä.mp4", 12)
    _mp4(root / "b.mp4", 12, size=(32, 48), base=100)
    grey = [Image.new("L", (20, 20), 30 * i) for i in range(8)]
    grey[0].save(root / "grey.gif", save_all=True, append_images=grey[1:])
    _frames(root / "frames" / "run", 8)
    _frames(root / "frames" / "grey", 4, mode="L")
    (root / "zero.mp4").write_bytes(b"")
    (root / "junk.mp4").write_bytes(b"not a video")
    _frames(root / "short", 2)
    _frames(root / "mixed", 6)
    Image.new("RGB", (30, 30)).save(root / "mixed" / "f_4.jpg")  # another size: the folder splits there
    _frames(root / "zerof", 6)
    (root / "zerof" / "f_3.jpg").write_bytes(b"")
    (root / "empty" / "inner").mkdir(parents=True)
    os.symlink("..", root / "frames" / "loop")  # a symlink loop
    return root


def test_folder_indexes_every_kind_and_names_what_it_skips(messy):
    before = _snapshot(messy)
    with pytest.warns(UserWarning) as record:
        ds = VideoFolder(messy, VideoFolderConfig(frames=4, size=16))
    message = "\n".join(str(r.message) for r in record)
    for name in (
        "zero.mp4: zero-byte",
        "junk.mp4: unreadable",
        "short: 2 frames",
        "mixed/f_4.jpg",
        "differs",
    ):
        assert name in message, name
    assert "zerof/f_3.jpg: zero-byte" in message and "symlink loop" in message and "empty folder" in message
    assert "skipped" in message and any(ch.isdigit() for ch in message.split("skipped")[1][:3])
    names = {ds.segments[k].name for k, _ in ds.windows}
    assert {"clip_ä.mp4", "b.mp4", "grey.gif", "frames/run", "frames/grey"} <= names
    # 12 + 12 frames: 3 + 3 windows of 4; gif 2; run 2; grey 1; mixed splits into runs of 3, 1 and 2: none
    assert len(ds) == 3 + 3 + 2 + 2 + 1
    for i in range(len(ds)):
        item = ds[i]
        assert item["video"].shape == (3, 4, 16, 16)
        assert item["video"].min() >= -1 and item["video"].max() <= 1
    mp4 = next(i for i, (k, s) in enumerate(ds.windows) if ds.segments[k].name == "b.mp4" and s == 4)
    values = ds.frames(mp4)[:, 8, 8, 0].astype(int)  # frames 4..7 of b.mp4: 100 + 8 k, up to codec error
    assert np.abs(values - (100 + 8 * np.arange(4, 8))).max() <= 4
    assert _snapshot(messy) == before  # nothing written under the data folder


def _noise_frames(folder, n):  # large enough that half a file still holds the JPEG header
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(folder / f"f_{i + 1}.jpg")


def test_a_frame_that_fails_at_read_time_is_replaced_and_counted(tmp_path):
    root = tmp_path / "v"
    _noise_frames(root / "a", 8)
    data = (root / "a" / "f_2.jpg").read_bytes()
    (root / "a" / "f_2.jpg").write_bytes(data[: len(data) // 2])  # header fine, pixels truncated
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = VideoFolder(root, VideoFolderConfig(frames=4, size=8))
    assert len(ds) == 2  # the header-only index cannot see it
    with pytest.warns(UserWarning, match="f_2.jpg.*replaced by the next good one"):
        first = ds[0]["video"]
    assert ds.replaced == 1
    assert torch.equal(first, ds[1]["video"])  # window 0 was replaced by window 1


def test_folder_errors_name_the_path_and_rule(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        VideoFolder(tmp_path / "nowhere")
    (tmp_path / "e").mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="holds 16 readable frames"):
            VideoFolder(tmp_path / "e")
    _mp4(tmp_path / "two" / "a.mp4", 20)
    with pytest.raises(ValueError, match="every 5th is held out"):
        VideoFolder(tmp_path / "two", VideoFolderConfig(frames=4, split="test"))


def test_splits_by_folder_or_by_every_fifth_video(tmp_path):
    for i in range(6):
        _mp4(tmp_path / "flat" / f"v{i}.mp4", 4)
    test = VideoFolder(tmp_path / "flat", VideoFolderConfig(frames=4, split="test"))
    assert [s.name for s in test.segments] == ["v4.mp4"]
    _frames(tmp_path / "sky" / "sky_train" / "video_1" / "video_1_1", 4)
    _frames(tmp_path / "sky" / "sky_test" / "video_2" / "video_2_1", 4)
    train = VideoFolder(tmp_path / "sky", VideoFolderConfig(frames=4, split="train"))
    assert [s.name for s in train.segments] == ["sky_train/video_1/video_1_1"]


def test_cache_round_trip_matches_the_files_and_a_changed_folder_prepares_again(messy, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = _snapshot(messy)
        cache = prepare(messy, size=16, progress=False)
        assert _snapshot(messy) == before and cache.folder.is_relative_to(cache_folder(messy, 16).parent)
        clips = CachedClips(cache, frames=4)
        files = VideoFolder(messy, VideoFolderConfig(frames=4, size=16))
        assert len(clips) == len(files)
        assert torch.equal(
            clips.batch(range(len(clips))), torch.stack([files[i]["video"] for i in range(len(files))])
        )
        assert cache.frames.dtype == np.uint8 and cache.frames.shape[1:] == (16, 16, 3)
        assert prepare(messy, size=16).folder == cache.folder
        assert "reusing frame cache" in capsys.readouterr().out
        _mp4(messy / "new.mp4", 8)  # the folder changed
        again = prepare(messy, size=16)
    assert "stale, preparing again" in capsys.readouterr().out
    assert again.manifest["frames"] == cache.manifest["frames"] + 8


def test_cache_keeps_the_frames_around_a_bad_one(tmp_path):
    root = tmp_path / "v"
    _noise_frames(root / "a", 9)
    data = (root / "a" / "f_4.jpg").read_bytes()
    (root / "a" / "f_4.jpg").write_bytes(data[: len(data) // 2])
    with pytest.warns(UserWarning, match="f_4.jpg"):
        cache = prepare(root, size=8, progress=False)
    assert [(r["name"], r["length"]) for r in cache.manifest["segments"]] == [("a", 3), ("a@4", 5)]


def test_workers_give_the_same_batches_run_after_run(messy):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clips = CachedClips(prepare(messy, size=16, progress=False), frames=4)

    def indices(step, rank, world):
        return torch.randperm(len(clips), generator=torch.Generator().manual_seed(step))[:3].tolist()

    runs = []
    for workers in (2, 2, 0):
        batches = StepBatches(clips.batch, indices, workers=workers, seed=0)
        runs.append(torch.stack([batches(s) for s in range(4)]))
        batches.close()
    assert torch.equal(runs[0], runs[1]) and torch.equal(runs[0], runs[2])


def test_clip_source_reads_a_folder_and_its_config_hash_is_unchanged_without_one(tmp_path):
    from minilvdm.core.config import config_hash, config_to_dict

    for i in range(5):
        _mp4(tmp_path / "v" / f"{i}.mp4", 8, base=20 * i)
    cfg = VideoDataConfig("folder", frames=4, size=16, path=str(tmp_path / "v"))
    source = ClipSource(cfg)
    video, labels = source.clips([0, 1, 100])
    assert video.shape == (3, 3, 4, 16, 16) and labels.shape == (3, 0) and source.channels == 3
    assert (
        len(ClipSource(VideoDataConfig("folder", split="test", frames=4, size=16, path=cfg.path)).folder) == 2
    )
    assert "path" not in config_to_dict(VideoDataConfig())  # so existing checkpoint names stay
    assert config_hash(cfg) != config_hash(VideoDataConfig("folder", frames=4, size=16, path="/elsewhere"))
    with pytest.raises(ValueError, match="takes a path"):
        VideoDataConfig("folder").validate()


def _cli(*args, cwd=ROOT):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MINILVDM_PROFILE": "ci"}
    return subprocess.run(
        [sys.executable, "-m", "minilvdm", *args], capture_output=True, text=True, env=env, cwd=cwd
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["sample", "--n", "-3"], "minilvdm sample: error: --n must be >= 1, got -3"),
        (["eval", "/missing.pt"], "minilvdm eval: error: path: /missing.pt does not exist"),
        (["long", "--frames", "0"], "minilvdm long: error: --frames must be >= 1, got 0"),
        (["long", "--autoguide", "--dataset", "sky"], "minilvdm long: error: --autoguide: the guides are"),
        (["long", "--digit", "10"], "minilvdm long: error: --digit takes 0-9"),
        (["long", "--digit", "3", "--dataset", "sky"], "minilvdm long: error: --digit takes 0-9"),
        (["train", "--lr", "-1"], "minilvdm train: error: --lr must be > 0, got -1.0"),
        (["train", "--steps", "0"], "minilvdm train: error: --steps must be >= 1, got 0"),
        (["vae", "--batch-size", "0"], "minilvdm vae: error: --batch-size must be >= 1, got 0"),
        (["train", "--data", "/no/such/dir"], "minilvdm train: error: --data must be a folder"),
        (["prepare", "--data", "/no/such/dir"], "minilvdm prepare: error: --data must be a folder"),
        (["train", "--data", ".", "--dataset", "sky"], "cannot be combined with --dataset"),
    ],
)
def test_command_line_mistakes_are_one_line_and_status_2(args, message):
    result = _cli(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert message in result.stderr


def test_prepare_command_and_training_options_name_their_checkpoints(tmp_path, monkeypatch):
    from minilvdm.__main__ import build_parser
    from minilvdm.commands import train as train_cmd
    from minilvdm.commands import train_overrides
    from minilvdm.methods.lvdm import default_train_config

    for i in range(2):
        _mp4(tmp_path / "v" / f"{i}.mp4", 8)
    result = _cli("prepare", "--data", str(tmp_path / "v"), "--size", "16")
    assert result.returncode == 0, result.stderr
    assert "16 frames of 16x16x3 from 2 files" in result.stdout
    args = build_parser().parse_args(["train", "--data", str(tmp_path / "v"), "--steps", "7", "--lr", "3e-4"])
    train_cmd.validate(args)
    cfg = train_overrides(default_train_config("latent", "folder"), args)
    assert (cfg.steps, cfg.lr) == (7, 3e-4) and args.data == str((tmp_path / "v").resolve())
    sample = build_parser().parse_args(["sample", "--train-steps", "7", "--steps", "20"])
    assert (sample.train_steps, sample.steps) == (7, 20)  # sampler steps keep their flag
