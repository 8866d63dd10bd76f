import numpy as np
import pytest
import torch

from minilvdm.data import MovingMNIST, MovingMNISTConfig, bounce, load_digits, load_test_file
from minilvdm.data.digits import DIGIT_SIZE, read_idx
from minilvdm.data.moving_mnist import to_unit_range


def test_same_seed_and_index_give_the_same_clip():
    a, b = MovingMNIST(seed=3), MovingMNIST(seed=3)
    for i in (0, 7, 12345):
        x, y = a[i], b[i]
        for key in x:
            assert torch.equal(torch.nan_to_num(x[key]), torch.nan_to_num(y[key])), key
    assert not torch.equal(a[0]["video"], a[1]["video"])
    assert not torch.equal(a[0]["video"], MovingMNIST(seed=4)[0]["video"])


def test_clip_shapes_range_and_digit_counts():
    ds = MovingMNIST(frames=10, min_digits=1, max_digits=3)
    counts = set()
    for i in range(40):
        item = ds[i]
        assert item["video"].shape == (1, 10, 64, 64)
        assert item["video"].min() >= -1 and item["video"].max() <= 1
        n = int(item["num_digits"])
        counts.add(n)
        assert (item["digits"][:n] >= 0).all() and (item["digits"][n:] == -1).all()
        assert torch.isnan(item["positions"][:, n:]).all()
    assert counts == {1, 2, 3}


def test_train_and_test_digits_do_not_overlap():
    train, test = load_digits("train"), load_digits("test")
    train_keys = {img.tobytes() for img in train.images}
    assert len(test) > 0 and len(train) > 0
    assert not any(img.tobytes() in train_keys for img in test.images)


def test_labels_match_the_pixels():
    ds = MovingMNIST(frames=12, min_digits=1, max_digits=3, split="test")
    for i in range(10):
        item = ds[i]
        frames = (item["video"][0].numpy() + 1) / 2  # (T, H, W) in [0, 1]
        n = int(item["num_digits"])
        corners = np.rint(item["positions"][:, :n].numpy()).astype(int)
        covered = np.zeros_like(frames, dtype=bool)
        for t in range(frames.shape[0]):
            for x, y in corners[t]:
                assert 0 <= x <= 64 - DIGIT_SIZE and 0 <= y <= 64 - DIGIT_SIZE
                covered[t, y : y + DIGIT_SIZE, x : x + DIGIT_SIZE] = True
            # every lit pixel lies inside some digit's box
            assert (frames[t][~covered[t]] == 0).all()
        # each digit's own image is visible where its label says (max compositing)
        digits = ds.digits
        for t in range(frames.shape[0]):
            for d, (x, y) in enumerate(corners[t]):
                window = frames[t, y : y + DIGIT_SIZE, x : x + DIGIT_SIZE]
                label = int(item["digits"][d])
                matches = [
                    np.all(window >= img / 255.0 - 1e-6)
                    for img, lab in zip(digits.images, digits.labels)
                    if lab == label
                ]
                assert any(matches)


def test_velocities_follow_the_bounce_rule():
    ds = MovingMNIST(frames=30, max_speed=8.0, min_speed=6.0)
    item = ds[5]
    n = int(item["num_digits"])
    pos = item["positions"][:, :n].double().numpy()
    vel = item["velocities"][:, :n].double().numpy()
    for t in range(29):
        p, v = bounce(pos[t], vel[t], 0.0, 36.0)
        np.testing.assert_allclose(p, pos[t + 1], atol=1e-4)
        np.testing.assert_allclose(v, vel[t + 1], atol=1e-4)
    speeds = np.linalg.norm(vel, axis=-1)
    assert np.allclose(speeds, speeds[0], atol=1e-4)  # bounces keep the speed


def test_bounce_reflects_at_both_walls():
    p, v = bounce(np.array([1.0, 35.0]), np.array([-3.0, 4.0]), 0.0, 36.0)
    np.testing.assert_allclose(p, [2.0, 33.0])
    np.testing.assert_allclose(v, [3.0, -4.0])


@pytest.mark.parametrize(
    "overrides",
    [dict(min_digits=0), dict(max_digits=4), dict(size=20), dict(max_speed=40.0), dict(split="val")],
)
def test_bad_config_is_refused_with_the_rule(overrides):
    with pytest.raises(ValueError):
        MovingMNIST(MovingMNISTConfig(**overrides))


def test_full_mnist_idx_files_are_preferred(tmp_path, monkeypatch):
    def write_idx(path, array):
        header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
        path.write_bytes(header + array.astype(np.uint8).tobytes())

    rng = np.random.default_rng(0)
    (tmp_path / "mnist").mkdir()
    images = rng.integers(0, 255, size=(7, 28, 28))
    write_idx(tmp_path / "mnist" / "t10k-images-idx3-ubyte", images)
    write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte", np.arange(7) % 10)
    digits = load_digits("test", root=str(tmp_path))
    assert len(digits) == 7 and "idx" in digits.source
    np.testing.assert_array_equal(digits.images, images)
    bad = tmp_path / "bad-idx"
    bad.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x09abc")
    with pytest.raises(ValueError, match="header says 9"):
        read_idx(bad)


def test_standard_test_file_loads_read_only(tmp_path):
    seq = np.random.default_rng(0).integers(0, 255, size=(20, 3, 64, 64), dtype=np.uint8)
    path = tmp_path / "mnist_test_seq.npy"
    np.save(path, seq)
    before = path.read_bytes()
    clips = load_test_file(path)
    assert clips.shape == (3, 1, 20, 64, 64) and clips.dtype == torch.uint8
    assert torch.equal(clips[1, 0, 5], torch.from_numpy(seq[5, 1]))
    x = to_unit_range(clips[:2])
    assert x.min() >= -1 and x.max() <= 1
    assert path.read_bytes() == before
    np.save(tmp_path / "wrong.npy", seq.astype(np.float32))
    with pytest.raises(ValueError, match="expected uint8"):
        load_test_file(tmp_path / "wrong.npy")
    with pytest.raises(FileNotFoundError):
        load_test_file(tmp_path / "absent.npy")
