"""Video metrics on top of the evaluator networks: what every later notebook reports.

    frechet_video_distance(fake, real)   FD of clip-encoder features (motion + content)
    frame_frechet_distance(fake, real)   FD of per-frame features (appearance only)
    recognisability(videos)              fraction of frames where the digit reader is sure of a digit
    identity_persistence(long_video)     do segment k's digits (digit reader) match segment 0's?
    frame_change(videos)                 mean |x_{t+1} - x_t|: how alike consecutive frames are
    boundary_change_ratio(videos, S)     frame change across keyframe boundaries / inside segments
    motion_amount(videos)                how far the ink moves per frame (pixels)
    segment_distances(long_video, real)  FVD and frame FD of each 16-frame segment
    bootstrap_ci(statistic, *samples)    a percentile interval by resampling

All take videos (B, C, T, H, W) in [-1, 1]; dataset='mnist' (C = 1) or 'sky' (C = 3).
Fréchet distances are biased upward at small N: compare numbers computed with the same
sample counts, and state them (`score` does).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .evaluators import CLIP_FRAMES, load_evaluator
from .frechet import frechet_distance

DATASETS = ("mnist", "sky")


def _check_dataset(dataset: str) -> None:
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")


def clip_features(videos: torch.Tensor, dataset: str = "mnist") -> torch.Tensor:
    """(B, C, T, H, W) -> (B, 64) clip-encoder features (T > 16: 16-frame windows averaged)."""
    _check_dataset(dataset)
    return load_evaluator(f"{dataset}_clip").clip_features(videos)


def frame_features(videos: torch.Tensor, dataset: str = "mnist") -> torch.Tensor:
    """(B, C, T, H, W) -> (B * T, D) per-frame features. Moving MNIST: the frame classifier
    (D = 64). Sky: the sky encoder's first block, which acts on each frame alone (kernel
    1x3x3, 16 channels at 16x16), mean- and max-pooled over space (D = 32): low-level
    appearance (colour, texture), a weaker extractor than the digit classifier."""
    _check_dataset(dataset)
    if dataset == "mnist":
        return load_evaluator("mnist_frame").frame_features(videos).flatten(0, 1)
    from .evaluators import _prepare

    encoder = load_evaluator("sky_clip")
    x = _prepare(videos, encoder.config.in_channels, encoder.config.resolution)
    with torch.no_grad():
        maps = encoder.body[:3](x)  # (B, 16, T, 16, 16): per-frame block
    return torch.cat([maps.mean((3, 4)), maps.amax((3, 4))], 1).permute(0, 2, 1).flatten(0, 1)


def _features(x: torch.Tensor, fn: Callable, dataset: str) -> torch.Tensor:
    """Videos (5-D) are encoded; 2-D tensors are taken as features already."""
    return x if x.ndim == 2 else fn(x, dataset)


def frechet_video_distance(fake: torch.Tensor, real: torch.Tensor, dataset: str = "mnist") -> float:
    """Fréchet distance between clip-encoder features of fake and real clips (or features)."""
    return frechet_distance(_features(fake, clip_features, dataset), _features(real, clip_features, dataset))


def frame_frechet_distance(fake: torch.Tensor, real: torch.Tensor, dataset: str = "mnist") -> float:
    """Fréchet distance between per-frame features (blind to motion by construction)."""
    return frechet_distance(
        _features(fake, frame_features, dataset), _features(real, frame_features, dataset)
    )


def digit_probs(videos: torch.Tensor) -> torch.Tensor:
    """(B, 1, T, H, W) -> (B, T, 10) per-frame digit presence probabilities of the frame
    classifier (trained on digit frames only: it finds some digit in anything, even noise)."""
    return load_evaluator("mnist_frame").frame_probs(videos)


def reader_probs(videos: torch.Tensor) -> torch.Tensor:
    """(B, 1, T, H, W) -> (B, T, 10) the digit reader's presence probabilities: the same
    network, also trained on frames holding no digit (`negatives.py`), which it turns off."""
    return load_evaluator("mnist_reader").frame_probs(videos)


def confident_from_probs(probs: torch.Tensor, threshold: float = 0.8) -> torch.Tensor:
    """(..., 10) digit probabilities -> (...) bool: at least one digit is clearly on,
    max_c p_c > threshold (a second, overlapping digit may stay undecided)."""
    return probs.amax(-1) > threshold


def confident_frames(videos: torch.Tensor, threshold: float = 0.8) -> torch.Tensor:
    """(B, T) bool: the frames in which the digit reader confidently recognises a digit."""
    return confident_from_probs(reader_probs(videos), threshold)


def condition_accuracy(videos: torch.Tensor, labels: torch.Tensor, threshold: float = 0.5) -> dict:
    """Class-conditional Moving MNIST: {'accuracy': share of clips whose frame-averaged
    P(requested digit) exceeds `threshold`, 'prob': the mean of that probability}. The digit
    reader judges: ink that forms no digit does not count as the requested one."""
    labels = torch.as_tensor(labels).long()
    if labels.shape != (videos.shape[0],):
        raise ValueError(f"need one label per clip: {videos.shape[0]} clips, labels {tuple(labels.shape)}")
    p = reader_probs(videos).mean(1)[torch.arange(len(labels)), labels]  # (B,)
    return {"accuracy": (p > threshold).float().mean().item(), "prob": p.mean().item()}


def clip_diversity(videos: torch.Tensor, groups: int, dataset: str = "mnist") -> float:
    """Mean pairwise distance of clip-encoder features within each of `groups` consecutive,
    equal groups of clips (e.g. one requested digit each), averaged over groups."""
    if groups < 1 or len(videos) % groups or len(videos) // groups < 2:
        raise ValueError(f"{len(videos)} clips do not split into {groups} groups of at least 2")
    feats = clip_features(videos, dataset).reshape(groups, len(videos) // groups, -1)
    return torch.stack([torch.pdist(f).mean() for f in feats]).mean().item()


def recognisability(videos: torch.Tensor, threshold: float = 0.8, reduce: bool = True):
    """Moving MNIST: fraction of frames with a confidently recognised digit (the digit reader's
    top class p > threshold). Real clips score about 0.98, noise and scribbles about 0.
    reduce=False gives one fraction per clip, (B,), for `bootstrap_ci`."""
    per_clip = confident_frames(videos, threshold).float().mean(1)
    return float(per_clip.mean()) if reduce else per_clip


def sets_from_probs(probs: torch.Tensor, segment: int = CLIP_FRAMES) -> torch.Tensor:
    """(B, K * segment, 10) per-frame digit probabilities -> (B, K, 10) bool: digits whose
    mean probability over a segment exceeds 0.5."""
    return probs.reshape(len(probs), -1, segment, 10).mean(2) > 0.5


def segment_digits(long_video: torch.Tensor, segment: int = CLIP_FRAMES) -> torch.Tensor:
    """(B, 1, T, H, W) -> (B, K, 10) bool: digits present in each segment of `segment`
    frames, read by the digit reader (which finds none in noise; the frame classifier names
    one in anything); a last partial segment is dropped."""
    if long_video.ndim == 4:
        long_video = long_video.unsqueeze(0)
    k = long_video.shape[2] // segment
    if k < 1:
        raise ValueError(f"video has {long_video.shape[2]} frames, fewer than one segment ({segment})")
    return sets_from_probs(reader_probs(long_video[:, :, : k * segment]), segment)


def persistence_from_sets(sets: torch.Tensor) -> torch.Tensor:
    """(B, K, 10) digit sets per segment -> (B, K) Jaccard index with segment 0, and 0 where
    either set is empty: a segment without a recognised digit keeps no identity (the Jaccard
    of two empty sets, 1, scored pure noise as perfectly consistent)."""
    first = sets[:, :1]
    inter = (sets & first).sum(-1).float()
    union = (sets | first).sum(-1).float()
    both = sets.any(-1) & first.any(-1)
    return torch.where(both, inter / union.clamp(min=1), torch.zeros_like(union))


def identity_persistence(long_video: torch.Tensor, segment: int = CLIP_FRAMES, reduce: bool = True):
    """Moving MNIST long videos: Jaccard index between the digit set of segment k and that
    of segment 0, |S_k & S_0| / |S_k | S_0| (digit reader; 0 when either set is empty).
    Returns (K,), the mean over videos per segment (segment 0: the share of videos whose
    first segment holds a digit), or (B, K) with reduce=False."""
    jaccard = persistence_from_sets(segment_digits(long_video, segment))
    return jaccard.mean(0) if reduce else jaccard


def most_frequent_digit_share(long_video: torch.Tensor, segment: int = CLIP_FRAMES) -> torch.Tensor:
    """Moving MNIST long videos: per video, the share of segments whose digit set (digit reader)
    holds the digit found in most of them, (B,): 1 = one digit throughout, 0 = no digit read.
    Unlike `identity_persistence` it has no anchor, so one odd first segment does not zero it."""
    return segment_digits(long_video, segment).float().mean(1).amax(1)


def _frame_steps(videos: torch.Tensor) -> torch.Tensor:
    """(B, C, T - 1, H, W) |x_{t+1} - x_t| on the [0, 1] scale."""
    return ((videos.float().clamp(-1, 1) + 1) / 2).diff(dim=2).abs()


def frame_change(videos: torch.Tensor) -> float:
    """Mean |x_{t+1} - x_t| on the [0, 1] scale: small for moving digits, large when every
    frame is drawn independently."""
    return float(_frame_steps(videos).mean())


def frame_change_by_phase(videos: torch.Tensor, period: int) -> torch.Tensor:
    """(period,) mean |x_{t+1} - x_t| (as `frame_change`) over the steps t -> t + 1 with
    t = k (mod period): where a long video's change concentrates. With period = the keyframe
    spacing in frames, entry period - 1 is the step across a keyframe boundary."""
    if period < 2 or videos.shape[2] <= period:
        raise ValueError(f"need 2 <= period < frames, got period {period} for {videos.shape[2]} frames")
    steps = _frame_steps(videos).mean((0, 1, 3, 4))  # (T - 1,)
    phase = torch.arange(len(steps)) % period
    return torch.stack([steps[phase == k].mean() for k in range(period)])


def boundary_change_ratio(videos: torch.Tensor, spacing: int) -> float:
    """Mean frame change across keyframe boundaries (frame spacing * j - 1 -> spacing * j) over
    the mean change inside the segments: 1 for a video that flows on at its boundaries, large
    for one that jumps there."""
    by_phase = frame_change_by_phase(videos, spacing)
    return float(by_phase[-1] / by_phase[:-1].mean().clamp_min(1e-12))


def motion_amount(videos: torch.Tensor, reduce: bool = True):
    """Pixels per frame the intensity centroid moves, |c_{t+1} - c_t| averaged over frames:
    a model-free measure of how much a clip moves (0 for a still clip). Brightness is
    (x + 1) / 2 summed over channels; a blank frame puts its centroid at the centre.
    reduce=False gives one value per clip, (B,)."""
    ink = (videos.float() + 1).sum(1) / 2  # (B, T, H, W)
    h, w = ink.shape[-2:]
    ys = torch.arange(h, dtype=ink.dtype).view(1, 1, h, 1)
    xs = torch.arange(w, dtype=ink.dtype).view(1, 1, 1, w)
    mass = ink.sum((-2, -1)).clamp_min(1e-6)  # (B, T)
    cy, cx = (ink * ys).sum((-2, -1)) / mass, (ink * xs).sum((-2, -1)) / mass
    cy = torch.where(mass > 1e-6, cy, torch.full_like(cy, (h - 1) / 2))
    cx = torch.where(mass > 1e-6, cx, torch.full_like(cx, (w - 1) / 2))
    step = torch.hypot(cy.diff(dim=1), cx.diff(dim=1))  # (B, T - 1)
    per_clip = step.mean(1)
    return float(per_clip.mean()) if reduce else per_clip


def segment_distances(
    long_video: torch.Tensor, real: torch.Tensor, segment: int = CLIP_FRAMES, dataset: str = "mnist"
) -> dict:
    """Long videos (B, C, T, H, W) against real clips (N, C, segment, H, W): FVD and frame FD
    of each segment [k * segment, (k + 1) * segment) against the same real features.
    Returns {'start': [...], 'fvd': [...], 'frame_fd': [...]} (drift shows as a rise)."""
    if long_video.ndim != 5 or long_video.shape[2] < segment:
        raise ValueError(f"expected long videos (B, C, T >= {segment}, H, W), got {tuple(long_video.shape)}")
    real_clip, real_frame = clip_features(real, dataset), frame_features(real, dataset)
    out = {"start": [], "fvd": [], "frame_fd": []}
    for start in range(0, long_video.shape[2] - segment + 1, segment):
        piece = long_video[:, :, start : start + segment]
        out["start"].append(start)
        out["fvd"].append(frechet_distance(clip_features(piece, dataset), real_clip))
        out["frame_fd"].append(frechet_distance(frame_features(piece, dataset), real_frame))
    return out


def block_windows(long_video: torch.Tensor, block: int, segment: int = CLIP_FRAMES) -> torch.Tensor:
    """Regroup long videos (B, C, N, H, W) so that `segment_distances` measures whole blocks:
    (B * block / segment, C, N / block * segment, H, W), where segment k of the result holds
    every `segment`-frame window of block k of every video. Few long videos then still give
    enough clips per point of a drift curve (frames past the last whole block are dropped)."""
    b, c, n, h, w = long_video.shape
    if block % segment or n < block:
        raise ValueError(f"block ({block}) must be a multiple of segment ({segment}) and <= frames ({n})")
    k, r = n // block, block // segment
    x = long_video[:, :, : k * block].reshape(b, c, k, r, segment, h, w)  # windows k * r + j
    return x.permute(0, 3, 1, 2, 4, 5, 6).reshape(b * r, c, k * segment, h, w)


def bootstrap_ci(
    statistic: Callable, *samples: torch.Tensor, n_boot: int = 200, level: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """(value, low, high): `statistic(*samples)` and a 95% (`level`) bootstrap interval, each
    sample (indexed on dim 0) resampled with replacement independently.

    Bias-corrected percentile interval: the percentiles of the bootstrap values, shifted by
    the bootstrap's bias (mean of the resampled values - value). This matters for Fréchet
    distances: resamples hold duplicate clips, which inflates them, and the raw percentile
    interval would not even contain the estimate. For means the shift is ~0."""
    if not samples or n_boot < 2 or not 0 < level < 1:
        raise ValueError("need at least one sample, n_boot >= 2 and 0 < level < 1")
    gen = torch.Generator().manual_seed(seed)
    value = float(statistic(*samples))
    boots = []
    for _ in range(n_boot):
        picks = [s[torch.randint(0, len(s), (len(s),), generator=gen)] for s in samples]
        boots.append(float(statistic(*picks)))
    boots = torch.tensor(boots, dtype=torch.float64)
    alpha = (1 - level) / 2
    low, high = torch.quantile(boots, torch.tensor([alpha, 1 - alpha], dtype=torch.float64)).tolist()
    bias = float(boots.mean()) - value
    return value, low - bias, high - bias


def _mean(x: torch.Tensor) -> float:
    return float(x.float().mean())


def score(
    fake: torch.Tensor,
    real: torch.Tensor,
    dataset: str = "mnist",
    n_boot: int = 100,
    real_frame_features: torch.Tensor | None = None,
    real_clip_features: torch.Tensor | None = None,
) -> dict:
    """Every metric for `fake` against `real`, each as (value, low, high) with a 95%
    bootstrap interval, plus the sample counts. Real features may be passed precomputed."""
    _check_dataset(dataset)
    fc, ff = clip_features(fake, dataset), frame_features(fake, dataset)
    rc = real_clip_features if real_clip_features is not None else clip_features(real, dataset)
    rf = real_frame_features if real_frame_features is not None else frame_features(real, dataset)
    # frame features are resampled by clip, so frames of one clip stay together
    t = len(ff) // len(fc)
    ff3, rf3 = ff.reshape(len(fc), t, -1), rf.reshape(len(rc), -1, rf.shape[-1])
    result = {
        "fvd": bootstrap_ci(frechet_distance, fc, rc, n_boot=n_boot),
        "frame_fd": bootstrap_ci(
            lambda a, b: frechet_distance(a.flatten(0, 1), b.flatten(0, 1)), ff3, rf3, n_boot=n_boot
        ),
        "fake_clips": len(fc),
        "real_clips": len(rc),
        "frames_per_clip": t,
    }
    if dataset == "mnist":
        result["recognisability"] = bootstrap_ci(_mean, recognisability(fake, reduce=False), n_boot=n_boot)
        if fake.ndim == 5 and fake.shape[2] >= 2 * CLIP_FRAMES:
            per_video = identity_persistence(fake, reduce=False)[:, -1]
            result["identity_persistence_last_segment"] = bootstrap_ci(_mean, per_video, n_boot=n_boot)
    return result


def format_score(result: dict) -> str:
    """One line per metric: value [low, high]."""
    lines = [
        f"samples: {result['fake_clips']} generated vs {result['real_clips']} real clips, "
        f"{result['frames_per_clip']} frames each; 95% bootstrap intervals"
    ]
    if min(result["fake_clips"], result["real_clips"]) < 100:
        lines.append(
            "  note: below ~100 clips the Fréchet distances are dominated by estimator bias "
            "(real vs real is far from 0); compare numbers only at equal sample counts"
        )
    for key, value in result.items():
        if isinstance(value, tuple):
            lines.append(f"  {key:34s} {value[0]:10.4f}  [{value[1]:.4f}, {value[2]:.4f}]")
    return "\n".join(lines)


# Seeds of the held-out real sets: disjoint from every training seed of the evaluators.
REAL_SEEDS = {"mnist": 90_001, "sky": 90_002}


def real_clips(dataset: str, n: int, part: int = 0, frames: int = CLIP_FRAMES) -> tuple[torch.Tensor, dict]:
    """`n` held-out real clips (n, C, frames, 64, 64) and their labels. `part` 0, 1, ...
    gives disjoint sets (the floor compares part 0 with part 1).

    mnist: TEST-split digits, 2 per clip (the data the generative models learn).
    sky:   real SkyTimelapse test windows if present under data/, else fresh draws of the
           synthetic generator (the distribution of the on-disk synthetic set, without JPEG).
    """
    _check_dataset(dataset)
    if dataset == "mnist":
        from ..data import MovingMNIST

        batch = MovingMNIST(split="test", seed=REAL_SEEDS["mnist"], frames=frames).batch(part * n, n)
        return batch.pop("video"), batch
    from ..core.config import data_dir
    from ..data import SkyConfig, SkyTimelapse, synthetic_sky_clips

    # real SkyTimelapse where find_sky_root looks for it (without generating synthetic skies)
    root = next((c for c in (data_dir() / "sky_timelapse", data_dir()) if (c / "sky_train").is_dir()), None)
    if root is not None:
        ds = SkyTimelapse(root, SkyConfig(frames=frames, size=64, split="test"))
        index = list(range(part * n, min((part + 1) * n, len(ds))))
        if not index:
            raise ValueError(f"the real sky test split holds {len(ds)} clips, too few for part {part} of {n}")
        items = [ds[i] for i in index]
        return torch.stack([it["video"] for it in items]), {
            "labels": torch.stack([it["labels"] for it in items])
        }
    videos, labels = synthetic_sky_clips(n, seed=REAL_SEEDS["sky"] + part, frames=frames)
    return videos, {"labels": labels}
