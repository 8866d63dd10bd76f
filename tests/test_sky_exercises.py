import pytest
import torch

from minilvdm.data.sky_folder import center_square
from minilvdm.eval import block_windows
from minilvdm.exercises import ExerciseFailed, check
from minilvdm.exercises.nb10_sky_timelapse import rgb_compression


def test_sky_checkers_accept_the_references():
    check("center_square", center_square)
    check("rgb_compression", rgb_compression)
    check("block_windows", block_windows)
    assert center_square(640, 360) == (140, 0, 500, 360)
    assert rgb_compression(3, 16, 64, 4, 4, 4) == 48


def test_center_square_checker_rejects_a_wrong_answer():
    with pytest.raises(ExerciseFailed, match="min"):
        check("center_square", lambda w, h: (0, 0, min(w, h), min(w, h)))  # corner, not centre


def test_rgb_compression_checker_rejects_forgetting_colour():
    with pytest.raises(ExerciseFailed, match="colour"):
        check("rgb_compression", lambda c, t, s, lc, ft, fs: t * s * s / (lc * (t // ft) * (s // fs) ** 2))


def test_block_windows_checker_rejects_wrong_shape_and_wrong_order():
    with pytest.raises(ExerciseFailed, match="shape"):
        check("block_windows", lambda v, block: v)

    # right shape, windows in the wrong order (time-major instead of block-major)
    def wrong(v, block, segment=16):
        b, c, n, h, w = v.shape
        k, r = n // block, block // segment
        x = v[:, :, : k * block].reshape(b, c, r, k, segment, h, w)
        return x.permute(0, 2, 1, 3, 4, 5, 6).reshape(b * r, c, k * segment, h, w)

    with pytest.raises(ExerciseFailed, match="order"):
        check("block_windows", wrong)


def test_block_windows_groups_each_block_into_one_segment():
    n, block = 96, 32
    video = torch.arange(n, dtype=torch.float32).view(1, 1, n, 1, 1).repeat(2, 1, 1, 1, 1)
    video[1] += 1000  # second video
    out = block_windows(video, block)  # (2 * 2, 1, 3 * 16, 1, 1)
    assert out.shape == (4, 1, 48, 1, 1)
    for k in range(3):  # segment k holds exactly the frames of block k of both videos
        seg = out[:, 0, 16 * k : 16 * (k + 1), 0, 0]
        frames = sorted(seg.flatten().tolist())
        want = sorted(
            [float(f) for f in range(32 * k, 32 * (k + 1))] * 1
            + [1000.0 + f for f in range(32 * k, 32 * (k + 1))]
        )
        assert frames == want
    with pytest.raises(ValueError, match="multiple"):
        block_windows(video, 24)
