"""Exercise checkers of notebooks 02 and 03 accept the reference and reject wrong answers."""

import pytest
import torch
from einops import rearrange

from minilvdm.exercises import ExerciseFailed, check
from minilvdm.exercises import nb02_diffusion as nb02
from minilvdm.exercises import nb03_space_time_unet as nb03

RIGHT_AND_WRONG = {
    "alpha_bar": (nb02.alpha_bar_reference, lambda b: torch.cumsum(1 - b, 0)),
    "q_sample": (nb02.q_sample_reference, lambda x0, a, n: a * x0 + (1 - a) * n),
    "ddim_step": (
        nb02.ddim_step_reference,
        lambda x, e, a, ap, eta, z: nb02.ddim_step_reference(x, e, a, ap, 0.0, z),  # ignores eta
    ),
    "v_to_eps": (nb02.v_to_eps_reference, lambda x, v, a: a.sqrt() * x - (1 - a).sqrt() * v),
    "fold_for_temporal": (
        nb03.fold_for_temporal_reference,
        lambda x: rearrange(x, "b c t h w -> (b w h) t c"),
    ),
    "attention_logits": (nb03.attention_logits_reference, lambda t, hw: (t * hw**2, (t * hw) ** 2)),
    "temporal_receptive_field": (nb03.temporal_receptive_field_reference, lambda n, k=3: n * k),
}


@pytest.mark.parametrize("name", sorted(RIGHT_AND_WRONG))
def test_checker_accepts_reference_and_rejects_wrong(name):
    right, wrong = RIGHT_AND_WRONG[name]
    assert check(name, right)
    with pytest.raises(ExerciseFailed):
        check(name, wrong)


def test_stub_reports_not_implemented():
    def stub(*args):
        raise NotImplementedError("your code here")

    with pytest.raises(ExerciseFailed, match="not implemented"):
        check("alpha_bar", stub)
