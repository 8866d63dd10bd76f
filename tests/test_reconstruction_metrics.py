"""PSNR, SSIM and flicker on (B, C, T, H, W) videos in [-1, 1]."""

import math

import pytest
import torch

from minilvdm.eval.reconstruction import flicker, psnr, ssim


def video(b=2, c=1, t=4, s=16, seed=0):
    return torch.rand(b, c, t, s, s, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_psnr_known_value_and_identity():
    x = video()
    y = x + 0.2  # 0.1 on the [0, 1] scale: MSE 0.01 -> 20 dB (before clamping)
    x, y = x.clamp(-0.8, 0.8), (x.clamp(-0.8, 0.8) + 0.2)
    assert torch.allclose(psnr(y, x), torch.full((2,), 20.0), atol=1e-3)
    assert psnr(x, x).shape == (2,) and (psnr(x, x) >= 99).all()


def test_ssim_identity_one_and_noise_lower():
    x = video(s=24)
    assert torch.allclose(ssim(x, x), torch.ones(2), atol=1e-5)
    noisy = (x + 0.3 * torch.randn_like(x)).clamp(-1, 1)
    assert (ssim(noisy, x) < 0.9).all()
    assert ssim(noisy, x).shape == (2,)


def test_ssim_matches_reference_formula_on_constant_frames():
    a = torch.full((1, 1, 1, 11, 11), 0.0)  # 0.5 on [0, 1]
    b = torch.full((1, 1, 1, 11, 11), 0.5)  # 0.75
    c1 = 0.01**2
    want = (2 * 0.5 * 0.75 + c1) / (0.5**2 + 0.75**2 + c1)
    assert ssim(a, b).item() == pytest.approx(want, rel=1e-3)


def test_flicker_zero_for_constant_offset_positive_for_jitter():
    x = video(t=8)
    x = x.clamp(-0.5, 0.5)
    assert torch.allclose(flicker(x + 0.1, x), torch.zeros(2), atol=1e-6)  # same motion
    jitter = x + 0.1 * torch.tensor([1.0, -1.0] * 4).view(1, 1, 8, 1, 1)
    assert torch.allclose(flicker(jitter, x), torch.full((2,), 0.1), atol=1e-5)  # |±0.2|/2 on [0,1]
    assert not math.isnan(flicker(x, x).sum().item())


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="same shape"):
        psnr(video(), video(s=8))
    with pytest.raises(ValueError, match="at least 2 frames"):
        flicker(video(t=1), video(t=1))
    with pytest.raises(ValueError, match="11x11"):
        ssim(video(s=8), video(s=8))
