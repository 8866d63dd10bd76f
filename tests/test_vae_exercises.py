"""Notebook 01 checkers accept the reference and reject wrong answers."""

import pytest
import torch

from minilvdm.exercises import ExerciseFailed, check
from minilvdm.exercises.nb01_video_vae import kl_to_standard_normal, latent_shape, reparameterize


def test_references_pass():
    check("latent_shape", latent_shape)
    check("reparameterize", reparameterize)
    check("kl_to_standard_normal", kl_to_standard_normal)


@pytest.mark.parametrize(
    "name,wrong",
    [
        ("latent_shape", lambda t, h, w, ft, fs, c: (c, t // fs, h // ft, w // ft)),
        ("latent_shape", lambda t, h, w, ft, fs, c: (t // ft, c, h // fs, w // fs)),
        ("reparameterize", lambda m, lv, e: m + lv.exp() * e),
        ("reparameterize", lambda m, lv, e: (m + torch.exp(0.5 * lv) * e).detach()),
        ("kl_to_standard_normal", lambda m, lv: (0.5 * (m**2 + lv.exp() - 1 - lv)).mean()),
        ("kl_to_standard_normal", lambda m, lv: (0.5 * (m**2 + lv - 1 - lv.exp())).flatten(1).sum(1)),
    ],
)
def test_wrong_answers_fail(name, wrong):
    with pytest.raises(ExerciseFailed):
        check(name, wrong)
