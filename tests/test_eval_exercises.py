"""Notebook 04's checkers accept the reference and reject wrong answers."""

import pytest

from minilvdm.eval.frechet import frechet_distance_diagonal
from minilvdm.eval.metrics import confident_from_probs
from minilvdm.exercises import ExerciseFailed, check


def test_references_pass():
    check("frechet_diagonal", frechet_distance_diagonal)
    check("confident_frames", confident_from_probs)


@pytest.mark.parametrize(
    "wrong",
    [
        lambda a, b: ((a.mean(0) - b.mean(0)) ** 2).sum(),  # forgets the spread
        lambda a, b: ((a.mean(0) - b.mean(0)) ** 2 + (a.var(0) - b.var(0)) ** 2).sum(),  # variances
    ],
)
def test_frechet_diagonal_rejects(wrong):
    with pytest.raises(ExerciseFailed):
        check("frechet_diagonal", wrong)


@pytest.mark.parametrize(
    "wrong",
    [
        lambda p, t: ((p > t) | (p < 1 - t)).all(-1) & (p > t).any(-1),  # no undecided class allowed
        lambda p, t: (p > t).sum(-1) == 1,  # refuses two digits
        lambda p, t: p.mean(-1) > 1 - t,  # an average, not the top class
        lambda p, t: (p > 1 - t).any(-1),  # the wrong side of the threshold
    ],
)
def test_confident_frames_rejects(wrong):
    with pytest.raises(ExerciseFailed):
        check("confident_frames", wrong)


def test_stub_is_reported():
    def stub(a, b):
        raise NotImplementedError

    with pytest.raises(ExerciseFailed, match="not implemented"):
        check("frechet_diagonal", stub)
