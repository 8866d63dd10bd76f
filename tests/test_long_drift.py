"""Drift curves of long videos: real clips keep quality, a video that degrades shows it."""

import pytest
import torch

from minilvdm.eval import frame_features, real_clips
from minilvdm.eval.drift import drift_curves, plot_drift

B, N, WINDOW = 4, 64, 32


@pytest.fixture(scope="module")
def sets():
    videos = real_clips("mnist", B, frames=N)[0]  # (B, 1, 64, 64, 64): real, no drift
    real_ff = frame_features(real_clips("mnist", 16, part=1)[0])
    degraded = videos.clone()
    g = torch.Generator().manual_seed(0)
    degraded[:, :, WINDOW:] = torch.rand(degraded[:, :, WINDOW:].shape, generator=g) * 2 - 1  # noise
    return videos, degraded, real_ff


def test_curves_have_one_interval_per_window(sets):
    videos, _, real_ff = sets
    c = drift_curves(videos, real_ff, window=WINDOW, n_boot=20)
    assert c["start"] == [0, WINDOW] and c["videos"] == B
    for metric in ("frame_fd", "recognisability", "persistence"):
        assert len(c[metric]) == N // WINDOW
        for value, low, high in [*c[metric], c["change"][metric], c["slope"][metric]]:
            assert low <= value + 1e-6 and value <= high + 1e-6
    assert c["persistence"][0][0] == pytest.approx(1.0)  # segment 0 agrees with itself


def test_a_degrading_video_drifts_and_a_real_one_does_not(sets):
    videos, degraded, real_ff = sets
    steady_all = drift_curves(videos, real_ff, window=WINDOW, n_boot=20)
    drifting_all = drift_curves(degraded, real_ff, window=WINDOW, n_boot=20)
    steady, drifting = steady_all["change"], drifting_all["change"]
    assert drifting["frame_fd"][0] > steady["frame_fd"][0] + 10
    # two windows 32 frames apart: the slope per 1000 frames is the change * 1000 / 32
    assert drifting_all["slope"]["frame_fd"][0] == pytest.approx(drifting["frame_fd"][0] * 1000 / WINDOW)
    assert drifting["recognisability"][0] < steady["recognisability"][0] - 0.3
    assert drifting["persistence"][0] < steady["persistence"][0]


def test_bad_windows_are_refused_and_plot_is_written(sets, tmp_path):
    videos, degraded, real_ff = sets
    with pytest.raises(ValueError, match="multiple of 16"):
        drift_curves(videos, real_ff, window=20)
    with pytest.raises(ValueError, match="at most the video length"):
        drift_curves(videos, real_ff, window=128)
    curves = {"real": drift_curves(videos, real_ff, window=WINDOW, n_boot=5)}
    plot_drift(curves, tmp_path / "drift.png", title="test")
    assert (tmp_path / "drift.png").stat().st_size > 0


def test_long_classroom_verdict_compares_each_long_pair_with_its_own_quick_pair():
    """The gain of a long budget reads its own quick pair's best row, never the ablation's; the
    issue-19 rows need both the lowest window and the identity kept."""
    from benchmarks.long_classroom import COND, COND_LONG, LONG, PLAIN, QUICK, verdict

    lowest = {
        f"{QUICK}, autoguided w = 1": 0.60,
        f"{QUICK}{PLAIN}, autoguided w = 1": 0.90,  # the ablation: not the quick pair's best
        f"{COND}, cfg s = 4": 0.82,
        f"{COND}{PLAIN}, cfg s = 4": 0.74,
        f"{COND_LONG}, cfg s = 4": 0.87,
    }
    identity = dict.fromkeys(lowest, 0.9) | {f"{QUICK}, autoguided w = 1": 0.0}
    text = verdict(lowest, identity)
    assert f"{COND_LONG} against {COND}: +0.05" in text
    assert f"{LONG} against" not in text.replace(COND_LONG, "")  # no unconditional long pair here
    assert "(0.90); issue 20's target (0.85 in every window) is met by its point estimate" in text
    with_ci = verdict(lowest, identity, {k: (v, v - 0.1, v + 0.05) for k, v in lowest.items()})
    assert "(0.90, 95% interval [0.80, 0.95]); issue 20's target" in with_ci
    assert f"met by {QUICK}, autoguided" not in text and f"met by {COND}, cfg s = 4" in text
