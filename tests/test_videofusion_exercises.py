import math

import pytest
import torch

from minilvdm.exercises import ExerciseFailed, check
from minilvdm.exercises.nb08_base_residual_noise import frame_noise, noise_correlation
from minilvdm.methods.videofusion import decomposed_noise


def test_reference_noise_matches_the_package():
    g = torch.Generator().manual_seed(3)
    eps, b, r = decomposed_noise((2, 1, 5, 4, 4), 0.3, g)
    assert torch.allclose(frame_noise(b, r, 0.3), eps)


def test_checkers_accept_the_reference_and_reject_wrong_answers():
    assert check("frame_noise", frame_noise) is None
    assert check("noise_correlation", noise_correlation) is None
    with pytest.raises(ExerciseFailed, match="square roots"):
        check("frame_noise", lambda b, r, lam: lam * b + (1 - lam) * r)  # no sqrt, no base frame
    with pytest.raises(ExerciseFailed, match="square roots"):
        check("frame_noise", lambda b, r, lam: math.sqrt(lam) * b + math.sqrt(1 - lam) * r)  # no base frame
    with pytest.raises(ExerciseFailed):
        check("noise_correlation", lambda a, b: a * b)
