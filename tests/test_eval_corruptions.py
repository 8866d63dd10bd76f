"""Corruptions: shapes, determinism, and that each does what its name says."""

import pytest
import torch

from minilvdm.data import MovingMNIST
from minilvdm.eval.corruptions import KINDS, _rewind_order, corrupt, gaussian_blur


@pytest.fixture(scope="module")
def batch():
    return MovingMNIST(split="test", seed=3).batch(0, 6)


@pytest.mark.parametrize("kind", KINDS)
def test_shape_range_determinism(batch, kind):
    v = batch["video"]
    out = corrupt(v, kind, 2, labels=batch, seed=1)
    assert out.shape == v.shape and out.min() >= -1 and out.max() <= 1
    assert torch.equal(out, corrupt(v, kind, 2, labels=batch, seed=1))
    assert torch.equal(corrupt(v, kind, 0, labels=batch), v)
    assert not torch.equal(out, v)


def test_noise_and_blur_grow_with_severity(batch):
    v = batch["video"]
    for kind in ("noise", "blur"):
        err = [(corrupt(v, kind, s, seed=0) - v).abs().mean().item() for s in (1, 2, 3)]
        assert err[0] < err[1] < err[2], (kind, err)


def test_blur_keeps_constant_images_and_mass():
    flat = torch.full((1, 1, 2, 16, 16), 0.3)
    assert torch.allclose(gaussian_blur(flat, 1.5), flat, atol=1e-6)


@pytest.mark.parametrize("sigma", [0.6, 2.4])
def test_blur_is_a_reflect_padded_separable_gaussian_convolution(sigma):
    """The matrix form equals the textbook one: reflect-pad, then convolve rows and columns."""
    import math

    import torch.nn.functional as F

    v = torch.rand(2, 1, 3, 20, 13, generator=torch.Generator().manual_seed(0)) * 2 - 1
    radius = max(1, math.ceil(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(x**2) / (2 * sigma**2))
    k = k / k.sum()
    frames = F.pad(v.reshape(-1, 1, 20, 13), (radius,) * 4, mode="reflect")
    expected = F.conv2d(F.conv2d(frames, k.view(1, 1, 1, -1)), k.view(1, 1, -1, 1)).reshape(v.shape)
    assert torch.allclose(gaussian_blur(v, sigma), expected, atol=1e-6)
    with pytest.raises(ValueError, match="larger"):
        gaussian_blur(torch.zeros(1, 1, 1, 4, 4), 2.4)  # radius 8 does not fit a 4x4 frame


def test_freeze_repeats_one_frame(batch):
    v = batch["video"]
    out = corrupt(v, "freeze", 2)  # k = 8 frames held: frames 4..11 equal frame 4
    assert all(torch.equal(out[:, :, t], v[:, :, 4]) for t in range(4, 12))
    assert torch.equal(out[:, :, 12:], v[:, :, 12:])


def test_shuffle_permutes_frames(batch):
    v = batch["video"]
    out = corrupt(v, "shuffle", 3)
    for row in range(len(v)):
        frames = {tuple(f.flatten()[::97].tolist()) for f in v[row, 0]}
        assert {tuple(f.flatten()[::97].tolist()) for f in out[row, 0]} == frames


def test_rewind_turns_back_at_the_middle():
    assert _rewind_order(16) == [0, 1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1, 0, 1]
    assert len(_rewind_order(7)) == 7


def test_reverse_fraction_of_clips(batch):
    v = batch["video"]
    out = corrupt(v, "reverse", 2)  # half the clips
    reversed_rows = [r for r in range(len(v)) if torch.equal(out[r], v[r].flip(1))]
    assert len(reversed_rows) == 3


def test_identity_swap_changes_a_digit_midway(batch):
    v = batch["video"]
    out = corrupt(v, "identity", 3, labels=batch)
    # positions are kept: every frame's content moves with the same trajectories, but the
    # second half differs from a same-class re-rendering
    assert out.shape == v.shape
    with pytest.raises(ValueError, match="labels"):
        corrupt(v, "identity", 1)


def test_bad_arguments():
    v = torch.zeros(1, 1, 4, 8, 8)
    with pytest.raises(ValueError, match="unknown corruption"):
        corrupt(v, "sepia", 1)
    with pytest.raises(ValueError, match="severity"):
        corrupt(v, "noise", 4)
    with pytest.raises(ValueError, match="B, C, T, H, W"):
        corrupt(v[0], "noise", 1)
