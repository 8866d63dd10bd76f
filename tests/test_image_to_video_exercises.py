import pytest
import torch

from minilvdm.diffusion.conditioning import model_inputs
from minilvdm.exercises import ExerciseFailed, check
from minilvdm.exercises.nb07_image_to_video import alpha_mix, context_condition, context_guidance


def test_reference_condition_is_the_package_layout():
    z = torch.randn(1, 4, 5, 2, 2)
    c = context_condition(z, 2)
    assert torch.equal(c[:, :4, :2], z[:, :, :2]) and not c[:, :4, 2:].any()
    assert torch.equal(c[:, 4], (torch.arange(5) < 2).float().view(1, 5, 1, 1).expand(1, 5, 2, 2))
    assert not context_condition(z, 0).any()
    m = torch.zeros(1, 1, 5, 1, 1)
    assert torch.equal(model_inputs(z, z, m, "videoldm")[1], context_condition(z, 0))


def test_checkers_accept_the_reference_and_reject_wrong_answers():
    assert check("alpha_mix", alpha_mix) is None
    assert check("context_condition", context_condition) is None
    assert check("context_guidance", context_guidance) is None
    with pytest.raises(ExerciseFailed, match="a = 1"):
        check("alpha_mix", lambda zs, zt, a: (1 - a) * zs + a * zt)  # the weights swapped
    with pytest.raises(ExerciseFailed):
        check("context_condition", lambda z, k: torch.cat([z, torch.ones_like(z[:, :1])], 1))  # no masking
    with pytest.raises(ExerciseFailed, match="shape"):
        check("context_condition", lambda z, k: z)  # the mask channel is missing
    with pytest.raises(ExerciseFailed):
        check("context_guidance", lambda u, c, s: c + s * (c - u))  # LVDM's form with w = s
