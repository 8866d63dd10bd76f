import json
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from minilvdm.data import SKY_LABELS, SkyConfig, SkyTimelapse, SyntheticSkyConfig, generate_synthetic_sky
from minilvdm.data.sky import _noise_spectrum, sky_frame

SMALL = SyntheticSkyConfig(videos=2, clips_per_video=2, frames_per_clip=8, size=32, seed=1)


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory):
    return generate_synthetic_sky(tmp_path_factory.mktemp("sky"), SMALL)


def test_generator_writes_the_published_layout_with_labels(synthetic_root):
    for split in ("train", "test"):
        videos = sorted((synthetic_root / f"sky_{split}").glob("video_*"))
        assert len(videos) == SMALL.videos
        clips = sorted(videos[0].iterdir())
        assert len(clips) == SMALL.clips_per_video
        assert len(list(clips[0].glob("*.jpg"))) == SMALL.frames_per_clip
        labels = json.loads((synthetic_root / f"sky_{split}" / "labels.json").read_text())
        assert len(labels) == SMALL.videos * SMALL.clips_per_video
        entry = next(iter(labels.values()))
        assert set(entry) == set(SKY_LABELS) and len(entry["cover"]) == SMALL.frames_per_clip


def test_generator_is_deterministic(tmp_path, synthetic_root):
    again = generate_synthetic_sky(tmp_path, SMALL, splits=("train",))
    a = sorted((synthetic_root / "sky_train").rglob("*.jpg"))
    b = sorted((again / "sky_train").rglob("*.jpg"))
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_clouds_move_with_the_wind():
    rng = np.random.default_rng(0)
    spectrum = _noise_spectrum(rng, 64)
    a = sky_frame(spectrum, np.array([0.0, 0.0]), 0.5, 0.5, 64)
    b = sky_frame(spectrum, np.array([5.0, 0.0]), 0.5, 0.5, 64)  # 5 px to the right
    np.testing.assert_allclose(np.roll(a, 5, axis=1), b, atol=1e-6)


def test_loader_reads_clips_and_labels(synthetic_root):
    ds = SkyTimelapse(synthetic_root, SkyConfig(frames=4, stride=2, size=16))
    # each 8-frame clip folder gives one window of 4 frames at stride 2 (span 7)
    assert len(ds) == SMALL.videos * SMALL.clips_per_video
    item = ds[0]
    assert item["video"].shape == (3, 4, 16, 16)
    assert item["video"].min() >= -1 and item["video"].max() <= 1
    assert torch.isfinite(item["labels"]).all() and item["labels"].shape == (len(SKY_LABELS),)
    assert ds.videos([0, 1]).shape == (2, 3, 4, 16, 16)


def _frames(folder, n, size=(20, 16)):
    folder.mkdir(parents=True)
    for i in range(n):
        Image.fromarray(np.full((size[1], size[0], 3), 10 * i, np.uint8)).save(folder / f"f_{i + 1}.jpg")


def test_loader_skips_and_names_bad_input(tmp_path):
    root = tmp_path / "real"
    split = root / "sky_train"
    _frames(split / "good" / "good_1", 6)
    _frames(split / "short" / "short_1", 2)  # shorter than one clip
    _frames(split / "zero" / "zero_1", 4)
    (split / "zero" / "zero_1" / "f_2.jpg").write_bytes(b"")  # zero-byte
    _frames(split / "trunc" / "trunc_1", 4, size=(64, 64))
    data = (split / "trunc" / "trunc_1" / "f_3.jpg").read_bytes()
    (split / "trunc" / "trunc_1" / "f_3.jpg").write_bytes(data[: len(data) // 2])  # truncated
    _frames(split / "junk" / "junk_1", 4)
    (split / "junk" / "junk_1" / "f_1.jpg").write_bytes(b"not a jpeg at all")
    _frames(split / "mixed" / "mixed_1", 4)
    Image.new("RGB", (30, 30)).save(split / "mixed" / "mixed_1" / "f_2.jpg")  # other size
    (split / "empty" / "empty_1").mkdir(parents=True)
    before = sorted((p, p.stat().st_mtime_ns) for p in root.rglob("*"))

    with pytest.warns(UserWarning) as record:
        ds = SkyTimelapse(root, SkyConfig(frames=3, size=8))
    message = str(record[0].message)
    assert len(ds) == 2  # only 'good' gives two windows of 3 frames
    for name in (
        "short_1",
        "zero_1/f_2.jpg",
        "trunc_1/f_3.jpg",
        "junk_1/f_1.jpg",
        "mixed_1/f_2.jpg",
        "empty_1",
    ):
        assert name in message, name
    assert "zero-byte" in message and "differs" in message
    assert ds[1]["video"].shape == (3, 3, 8, 8)
    assert torch.isnan(ds[0]["labels"]).all()  # real data: labels unknown
    assert sorted((p, p.stat().st_mtime_ns) for p in root.rglob("*")) == before  # read-only


def test_loader_errors_name_the_path_and_rule(tmp_path):
    with pytest.raises(FileNotFoundError, match="sky_train"):
        SkyTimelapse(tmp_path / "nowhere")
    (tmp_path / "sky_train" / "v" / "c").mkdir(parents=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="no clip folder holds 16 readable frames"):
            SkyTimelapse(tmp_path)
    with pytest.raises(ValueError):
        SkyTimelapse(tmp_path, SkyConfig(frames=0))
