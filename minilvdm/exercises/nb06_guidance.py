"""Checkers for notebook 06_guidance."""

import torch

from ..diffusion.gaussian import guide
from . import ExerciseFailed, checker


def cfg_guidance(eps_c: torch.Tensor, eps_u: torch.Tensor, s: float) -> torch.Tensor:
    """Classifier-free guidance: eps_u + s (eps_c - eps_u)."""
    return eps_u + s * (eps_c - eps_u)


def lvdm_guidance(eps_c: torch.Tensor, eps_u: torch.Tensor, w: float) -> torch.Tensor:
    """LVDM's unconditional guidance: (1 + w) eps_c - w eps_u."""
    return (1 + w) * eps_c - w * eps_u


def _check(answer, form: str, name: str, formula: str) -> None:
    g = torch.Generator().manual_seed(0)
    eps_c, eps_u = torch.randn(2, 4, 3, 5, 5, generator=g), torch.randn(2, 4, 3, 5, 5, generator=g)
    for scale in (0.0, 1.0, 2.5, 7.0):
        got = answer(eps_c.clone(), eps_u.clone(), scale)
        want = guide(eps_c, eps_u, scale, form)
        ok = isinstance(got, torch.Tensor) and got.shape == want.shape
        if not ok or not torch.allclose(got, want, atol=1e-5):
            raise ExerciseFailed(f"{name} at scale {scale} differs from {formula}")


@checker("cfg_guidance", reference=cfg_guidance)
def check_cfg_guidance(answer):
    _check(answer, "cfg", "cfg_guidance", "eps_u + s (eps_c - eps_u)")


@checker("lvdm_guidance", reference=lvdm_guidance)
def check_lvdm_guidance(answer):
    _check(answer, "lvdm", "lvdm_guidance", "(1 + w) eps_c - w eps_u")
