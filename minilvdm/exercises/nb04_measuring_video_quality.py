"""Checkers for notebook 04_measuring_video_quality."""

import torch

from ..eval.frechet import frechet_distance_diagonal
from ..eval.metrics import confident_from_probs
from . import ExerciseFailed, checker


@checker("frechet_diagonal", reference=frechet_distance_diagonal)
def check_frechet_diagonal(answer):
    g = torch.Generator().manual_seed(0)
    for dim in (1, 3, 16):
        a = torch.randn(300, dim, generator=g, dtype=torch.float64) * torch.rand(
            dim, generator=g, dtype=torch.float64
        )
        b = torch.randn(200, dim, generator=g, dtype=torch.float64) * 2 + 0.5
        want = frechet_distance_diagonal(a, b)
        got = float(answer(a.clone(), b.clone()))
        if abs(got - want) > 1e-6 * max(1.0, abs(want)):
            raise ExerciseFailed(
                f"for {dim}-d features you returned {got:.6f}, expected {want:.6f}. Hint: with diagonal "
                "covariances tr(S_a) + tr(S_b) - 2 tr((S_a S_b)^(1/2)) = sum_i (s_a,i - s_b,i)^2, "
                "s = standard deviation (torch.std, unbiased)."
            )
    if float(answer(a, a)) > 1e-9:
        raise ExerciseFailed("a feature set compared with itself must give 0")


@checker("confident_frames", reference=confident_from_probs)
def check_confident_frames(answer):
    probs = torch.tensor(
        [
            [0.95, 0.02] + [0.0] * 8,  # one digit clearly on -> True
            [0.95, 0.50] + [0.0] * 8,  # one digit on, an overlapping one undecided -> True
            [0.05] * 10,  # nothing on -> False
            [0.99, 0.97] + [0.01] * 8,  # two digits on -> True
            [0.6] * 10,  # everything half-likely: no digit recognised -> False
            [0.91] + [0.0] * 9,  # just over the threshold -> True
        ]
    )
    want = confident_from_probs(probs, 0.9)
    got = torch.as_tensor(answer(probs.clone(), 0.9)).bool()
    if got.shape != want.shape or not torch.equal(got, want):
        raise ExerciseFailed(
            f"for the 6 test frames you returned {got.tolist()}, expected {want.tolist()}. "
            "Hint: a frame counts when its most likely digit has p > threshold."
        )
    rand = torch.rand(50, 16, 10, generator=torch.Generator().manual_seed(1)) ** 4
    if not torch.equal(torch.as_tensor(answer(rand, 0.8)).bool(), confident_from_probs(rand, 0.8)):
        raise ExerciseFailed("wrong on a (50, 16, 10) batch with threshold 0.8: work on the last axis only")
