"""Drift of long videos: how quality changes with frame index, with bootstrap intervals.

Long Moving MNIST videos (B, 1, N, H, W) are cut into windows of `window` frames. Per window:

    frame_fd          Fréchet distance of the window's per-frame features to held-out real
                      frames (rises as frames stop looking like Moving MNIST)
    recognisability   fraction of frames with a digit the reader is sure of (falls)
    persistence       Jaccard index of each 16-frame segment's digit set (digit reader) with
                      segment 0's, averaged over the window (falls when digits change identity
                      or stop being digits: an empty set scores 0)

and the drift of each: `change` = last window - first window, and `slope` = the least-squares
slope of the per-window values, per 1000 frames (uses every window, so one odd window moves
it less than it moves `change`). Intervals resample whole videos (frames
of one video are not independent), so with few videos they are wide: that is the honest
uncertainty, not a defect. Fréchet distances are biased upward at small sample counts;
compare windows and settings only at equal counts (same B and window).
"""

from __future__ import annotations

import torch

from .evaluators import CLIP_FRAMES
from .frechet import frechet_distance
from .metrics import (
    bootstrap_ci,
    confident_from_probs,
    frame_features,
    persistence_from_sets,
    reader_probs,
    sets_from_probs,
)

METRICS = ("frame_fd", "recognisability", "persistence")


def _per_window(videos: torch.Tensor, window: int) -> dict:
    """Per-video, per-window raw material: features (B, K, window, D), and (B, K) values."""
    b, _, n = videos.shape[:3]
    k = n // window
    if k < 1 or window % CLIP_FRAMES:
        raise ValueError(
            f"window must be a positive multiple of {CLIP_FRAMES} frames and at most the video "
            f"length {n}, got {window}"
        )
    videos = videos[:, :, : k * window]
    probs = reader_probs(videos)  # (B, K * window, 10): one pass for both metrics
    confident = confident_from_probs(probs).float().reshape(b, k, window).mean(-1)  # (B, K)
    segments = sets_from_probs(probs)  # (B, K * window / 16, 10)
    jaccard = persistence_from_sets(segments).reshape(b, k, window // CLIP_FRAMES).mean(-1)  # (B, K)
    feats = frame_features(videos).reshape(b, k, window, -1)  # (B, K, window, D)
    return {"features": feats, "recognisability": confident, "persistence": jaccard}


def _slope(values: list[float], window: int) -> float:
    """Least-squares slope of per-window values against window centre, per 1000 frames."""
    y = torch.tensor(values, dtype=torch.float64)
    x = torch.arange(len(y), dtype=torch.float64) * window
    x = x - x.mean()
    return float((x * (y - y.mean())).sum() / (x * x).sum().clamp(min=1e-12)) * 1000


def drift_curves(
    videos: torch.Tensor, real_frame_features: torch.Tensor, window: int = 128, n_boot: int = 200
) -> dict:
    """Long videos (B, 1, N, H, W) in [-1, 1] and real per-frame features (M, D) ->
    {'start': [...], metric: [(value, low, high) per window], 'change': {metric: (value, low,
    high)} (last window - first), 'slope': {metric: (value, low, high)} (per 1000 frames),
    'videos': B, 'window': window}. 95% bootstrap over videos."""
    if videos.ndim != 5:
        raise ValueError(f"expected videos (B, C, N, H, W), got {tuple(videos.shape)}")
    raw = _per_window(videos, window)
    k = raw["recognisability"].shape[1]
    fd = lambda f: frechet_distance(f.flatten(0, -2), real_frame_features)  # noqa: E731
    mean = lambda x: float(x.float().mean())  # noqa: E731
    stats = {
        "frame_fd": (raw["features"], fd),
        "recognisability": (raw["recognisability"], mean),
        "persistence": (raw["persistence"], mean),
    }
    out = {"start": [i * window for i in range(k)], "videos": len(videos), "window": window}
    out["change"], out["slope"] = {}, {}
    for name, (values, statistic) in stats.items():
        out[name] = [bootstrap_ci(statistic, values[:, i], n_boot=n_boot) for i in range(k)]
        change = lambda v, f=statistic: f(v[:, -1]) - f(v[:, 0])  # noqa: E731
        slope = lambda v, f=statistic: _slope([f(v[:, i]) for i in range(k)], window)  # noqa: E731
        out["change"][name] = bootstrap_ci(change, values, n_boot=n_boot)
        out["slope"][name] = bootstrap_ci(slope, values, n_boot=n_boot)
    return out


def plot_drift(curves: dict, path=None, title: str = ""):
    """One panel per metric, one line (with its 95% band) per setting; `curves` maps a
    setting name to a `drift_curves` result. Saves to `path` if given; returns the figure."""
    import matplotlib.pyplot as plt

    labels = {
        "frame_fd": "frame FD to real (lower is better)",
        "recognisability": "recognisable frames",
        "persistence": "digit identity kept (Jaccard)",
    }
    fig, axes = plt.subplots(1, len(METRICS), figsize=(4.2 * len(METRICS), 3.2))
    for name, c in curves.items():
        x = [s + c["window"] / 2 for s in c["start"]]
        for ax, metric in zip(axes, METRICS):
            value, low, high = zip(*c[metric])
            (line,) = ax.plot(x, value, marker=".", label=name)
            ax.fill_between(x, low, high, color=line.get_color(), alpha=0.15)
    for ax, metric in zip(axes, METRICS):
        ax.set(xlabel="frame index (window centre)", title=labels[metric])
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=72)
    return fig
