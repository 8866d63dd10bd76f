"""Evaluator accuracy, the floor (real vs real) and the corruption table.

    python -m benchmarks evaluator --profile quick

Every number is computed here from the committed weights in minilvdm/weights/.
"""

from __future__ import annotations

import time

import torch

from minilvdm.core.config import by_profile
from minilvdm.eval import corrupt, load_evaluator, real_clips
from minilvdm.eval.corruptions import MNIST_KINDS, SEVERITIES, SKY_KINDS
from minilvdm.eval.evaluators import KINDS, read_checksums
from minilvdm.eval.frechet import frechet_distance
from minilvdm.eval.metrics import (
    bootstrap_ci,
    clip_features,
    confident_from_probs,
    frame_features,
    persistence_from_sets,
    reader_probs,
    sets_from_probs,
)
from minilvdm.eval.train_evaluators import held_out_metrics


def _fmt(ci: tuple) -> str:
    return f"{ci[0]:.2f} [{ci[1]:.2f}, {ci[2]:.2f}]"


def accuracy_section() -> str:
    rows = ["| evaluator | held-out metric | value |", "|---|---|---|"]
    sums = read_checksums()
    for kind in KINDS:
        model = load_evaluator(kind)
        for key, value in held_out_metrics(model).items():
            shown = f"{value:.4f}" if isinstance(value, float) else str(value)
            rows.append(f"| {kind} | {key} | {shown} |")
        rows.append(f"| {kind} | sha256 | `{sums.get(kind + '.pt', '?')[:16]}...` |")
    note = (
        "Moving MNIST scores use clips of 2 digits from the TEST split of the digit images "
        "(never seen in training); digit accuracy = fraction of true digits among the top-n "
        "predicted classes (n = distinct digits); motion: the clip encoder's histogram of motion "
        "directions (8 bins of 45 degrees, all digits, all frames): how often its top bin is the "
        "most frequent true direction, and the total variation distance of the histograms. "
        "Sky: mean absolute error on fresh generator draws (wind speed in pixels/frame at 64x64). "
        "rejects_<family>: share of 256 fresh non-digit frames of that family (`eval/negatives.py`, "
        "built from TEST-split digits) in which no class reaches p = 0.8; the frame classifier never "
        "saw such frames, the digit reader was trained to turn them off."
    )
    return "### Evaluator accuracy on held-out data\n\n" + note + "\n\n" + "\n".join(rows)


def corruption_section(dataset: str, n: int, n_boot: int) -> tuple[str, dict]:
    """Floor and corruption table for one data set; returns markdown and the raw numbers."""
    kinds = MNIST_KINDS if dataset == "mnist" else SKY_KINDS
    a, labels = real_clips(dataset, n, part=0)
    b, _ = real_clips(dataset, n, part=1)
    rf = frame_features(b, dataset)
    rc, rf = clip_features(b, dataset), rf.reshape(n, -1, rf.shape[-1])

    def measure(videos):
        flat = frame_features(videos, dataset)
        fc, ff = clip_features(videos, dataset), flat.reshape(n, -1, flat.shape[-1])
        fvd = bootstrap_ci(frechet_distance, fc, rc, n_boot=n_boot)
        ffd = bootstrap_ci(
            lambda x, y: frechet_distance(x.flatten(0, 1), y.flatten(0, 1)), ff, rf, n_boot=n_boot
        )
        rec = per = None
        if dataset == "mnist":  # both read by the digit reader, which finds no digit in noise
            probs = reader_probs(videos)  # (n, T, 10)
            confident = confident_from_probs(probs).float().mean(1)
            rec = bootstrap_ci(lambda x: float(x.mean()), confident, n_boot=n_boot)
            # two 8-frame segments: does the second half show the digits of the first?
            sets = sets_from_probs(probs[:, :16], segment=8)
            halves = persistence_from_sets(sets)[:, 1]
            per = bootstrap_ci(lambda x: float(x.mean()), halves, n_boot=n_boot)
        return fvd, ffd, rec, per

    results = {("floor", 0): measure(a)}
    for kind in kinds:
        for sev in (1, 2, 3):
            results[(kind, sev)] = measure(corrupt(a, kind, sev, labels=labels, seed=sev))
    head = (
        "| corruption | severity | level | FVD (clip encoder) | frame FD "
        "| recognisability | identity persistence |"
    )
    rows = [head, "|---|---|---|---|---|---|---|"]
    for (kind, sev), (fvd, ffd, rec, per) in results.items():
        level = "-" if kind == "floor" else f"{SEVERITIES[kind][sev - 1]:g}"
        extra = f"{_fmt(rec)} | {_fmt(per)}" if rec else "- | -"
        rows.append(f"| {kind} | {sev} | {level} | {_fmt(fvd)} | {_fmt(ffd)} | {extra} |")
    # the verdict: worse than the floor at every severity, and worse as severity grows; the
    # distances grow with damage, the accuracies (recognisability, identity persistence) fall
    metrics = ["FVD", "frame FD"] + (
        ["recognisability", "identity persistence"] if dataset == "mnist" else []
    )
    checks = [
        "| corruption | " + " | ".join(metrics) + " | caught by at least one |",
        "|---|" + "---|" * (len(metrics) + 1),
    ]
    for kind in kinds:
        cells = []
        for m, _ in enumerate(metrics):
            v = [results[("floor", 0)][m][0]] + [results[(kind, s)][m][0] for s in (1, 2, 3)]
            v = v if m < 2 else [-x for x in v]  # accuracies: worse = lower
            cells.append("yes" if all(x < y for x, y in zip(v, v[1:])) else "no")
        caught = "yes" if "yes" in cells else ("no (a control)" if kind == "reverse" else "no")
        checks.append(f"| {kind} | {' | '.join(cells)} | {caught} |")
    title = {"mnist": "Moving MNIST", "sky": "Sky (synthetic generator)"}[dataset]
    text = (
        f"### {title}: floor and corruptions\n\n"
        f"{n} corrupted held-out clips (set A) against {n} other held-out clips (set B), 16 frames, 64x64; "
        f"floor = set A uncorrupted. Values: estimate [95% bias-corrected bootstrap interval, "
        f"{n_boot} resamples, frames resampled by clip]. Levels: see `minilvdm/eval/corruptions.py`. "
        f"Frame FD features: Moving MNIST, the frame classifier (64-d); sky, the sky encoder's "
        f"per-frame first block (32-d, low-level appearance).\n\n"
        + "\n".join(rows)
        + "\n\n"
        + "\n".join(checks)
    )
    return text, results


def run() -> str:
    torch.manual_seed(0)
    n = by_profile(ci=32, quick=256, full=1024)
    n_boot = by_profile(ci=20, quick=100, full=200)
    start = time.perf_counter()
    parts = [accuracy_section()]
    for dataset in ("mnist", "sky"):
        parts.append(corruption_section(dataset, n, n_boot)[0])
    parts.append(
        "`reverse` is a control: Moving MNIST's bounces are time-reversible and the synthetic wind "
        "direction is uniform, so reversed clips come from the same distribution and no "
        "distribution metric can flag them (expect 'no'). `rewind` (motion turning back in mid-air, "
        "clouds turning against the wind) is the detectable temporal damage. Frame FD is blind to "
        "temporal damage by construction; that is what the clip-encoder FVD is for. A digit that "
        "changes identity mid-clip is invisible to both distances (every frame and the clip's motion "
        "stay plausible); identity persistence (Jaccard index of the digits the reader sees in frames "
        "8-15 vs 0-7, 0 when either half shows none) is the metric that catches it. The verdict "
        "tables say, per metric, whether every severity is worse than the floor and each severity "
        "worse than the one before ('yes'). Recognisability and identity persistence are "
        "accuracies (higher = more real); the distances are lower = more real.\n\n"
        f"Wall time {time.perf_counter() - start:.0f} s (CPU, shared with other jobs: timing is noisy)."
    )
    return "\n\n".join(parts)
