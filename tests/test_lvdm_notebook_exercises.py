"""Notebook 05/06 checkers accept the reference and reject wrong answers."""

import pytest

from minilvdm.exercises import ExerciseFailed, check
from minilvdm.exercises.nb05_latent_video_diffusion import compression_ratio, ddim_timesteps
from minilvdm.exercises.nb06_guidance import cfg_guidance, lvdm_guidance


def test_references_pass():
    assert check("compression_ratio", compression_ratio) is None
    assert check("ddim_timesteps", ddim_timesteps) is None
    assert check("cfg_guidance", cfg_guidance) is None
    assert check("lvdm_guidance", lvdm_guidance) is None


@pytest.mark.parametrize(
    "name,wrong",
    [
        ("compression_ratio", lambda v, z: (v[1] * v[2] * v[3]) / (z[1] * z[2] * z[3])),
        ("compression_ratio", lambda v, z: (z[0] * z[1] * z[2] * z[3]) / (v[0] * v[1] * v[2] * v[3])),
        ("ddim_timesteps", lambda n, s: list(range(0, n, n // s))),
        ("ddim_timesteps", lambda n, s: [n - 1 - i * (n // s) for i in range(s)]),
        ("cfg_guidance", lambda c, u, s: c + s * (c - u)),
        ("cfg_guidance", lvdm_guidance),
        ("lvdm_guidance", cfg_guidance),
        ("lvdm_guidance", lambda c, u, w: (1 + w) * u - w * c),
    ],
)
def test_wrong_answers_fail(name, wrong):
    with pytest.raises(ExerciseFailed):
        check(name, wrong)
