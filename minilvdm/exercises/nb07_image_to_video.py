"""Checkers for notebook 07_image_to_video."""

import torch

from ..diffusion.conditioning import condition_mask, model_inputs
from . import ExerciseFailed, checker


def alpha_mix(z_spatial: torch.Tensor, z_temporal: torch.Tensor, alpha) -> torch.Tensor:
    """Video LDM: z_out = a z_spatial + (1 - a) z_temporal (a = 1: the image model)."""
    return alpha * z_spatial + (1 - alpha) * z_temporal


def context_condition(z: torch.Tensor, given: int) -> torch.Tensor:
    """c_S = (m_S * z, m_S) on channels for the first `given` frames: (B, C + 1, T, H, W)."""
    b, _, frames, h, w = z.shape
    mask = torch.zeros(frames) if given == 0 else condition_mask("predict", frames, given)
    return model_inputs(z, z, mask.view(1, 1, frames, 1, 1), "videoldm")[1]


def context_guidance(eps_u: torch.Tensor, eps_c: torch.Tensor, s: float) -> torch.Tensor:
    """eps = eps_u + s (eps_c - eps_u): s = 1 is the conditional model, s > 1 pushes further."""
    return eps_u + s * (eps_c - eps_u)


@checker("alpha_mix", reference=alpha_mix)
def check_alpha_mix(answer):
    g = torch.Generator().manual_seed(0)
    zs, zt = torch.randn(2, 3, 4, 5, 5, generator=g), torch.randn(2, 3, 4, 5, 5, generator=g)
    if not torch.equal(answer(zs, zt, torch.tensor(1.0)), zs):
        raise ExerciseFailed(
            "with a = 1 the output must be z_spatial exactly: the lifted model starts as the image model"
        )
    for a in (0.0, 0.3, 0.8):
        if not torch.allclose(answer(zs, zt, torch.tensor(a)), alpha_mix(zs, zt, a), atol=1e-6):
            raise ExerciseFailed(f"wrong mix at a = {a}: a weights the spatial path, 1 - a the temporal one")


@checker("context_condition", reference=context_condition)
def check_context_condition(answer):
    z = torch.randn(2, 4, 5, 3, 3, generator=torch.Generator().manual_seed(1))
    for given in (0, 1, 2):
        got = answer(z, given)
        want = context_condition(z, given)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            raise ExerciseFailed(
                f"expected a tensor of shape {tuple(want.shape)}: C latent channels + 1 mask channel"
            )
        if not torch.allclose(got, want):
            raise ExerciseFailed(
                f"wrong condition for S = {given}: channels 0..C-1 hold m_S * z (z on the first S frames, "
                "0 elsewhere), the last channel holds m_S (1 on the first S frames)"
            )


@checker("context_guidance", reference=context_guidance)
def check_context_guidance(answer):
    g = torch.Generator().manual_seed(2)
    eps_u, eps_c = torch.randn(2, 4, 3, 2, 2, generator=g), torch.randn(2, 4, 3, 2, 2, generator=g)
    for s in (1.0, 2.5, 0.0):
        if not torch.allclose(answer(eps_u, eps_c, s), context_guidance(eps_u, eps_c, s), atol=1e-6):
            raise ExerciseFailed(f"wrong at s = {s}: s = 1 must give eps_c, s = 0 eps_u")
