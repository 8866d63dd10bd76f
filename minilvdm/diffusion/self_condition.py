"""Self-conditioning (Chen, Zhang & Hinton 2023, *Analog Bits*): the denoiser also reads its own
last estimate of the clean sample, as extra input channels (`UNetConfig.context_channels`):

    pred = f(x_t, t, x0_hat),   x0_hat = 0 (nothing yet) or the estimate below

Training: with probability p a sample first runs the network once with x0_hat = 0, without a
gradient, and its estimate x0_hat = x0(f(x_t, t, 0)) becomes the input of the trained pass; the
others train with x0_hat = 0. Sampling: each step feeds the estimate of the step before, so the
network refines one running guess of the whole clip instead of starting over at every step.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

# f(x_t, t, x0_hat) -> the prediction in the diffusion's parameterisation
ConditionedNet = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def training_fn(net: ConditionedNet, diffusion, p: float = 0.5) -> Callable:
    """A (x_t, t) -> prediction function for `Diffusion.loss`: self-conditioned with probability p."""
    if not 0 <= p <= 1:
        raise ValueError(f"p must lie in [0, 1], got {p}")

    def model_fn(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        estimate = torch.zeros_like(x_t)
        use = torch.rand(x_t.shape[0], device=x_t.device) < p  # (B,)
        if use.any():
            with torch.no_grad():
                _, x0 = diffusion.to_eps_x0(net(x_t, t, estimate).float(), x_t, t)
            estimate = torch.where(use.view(-1, *[1] * (x_t.dim() - 1)), x0.to(x_t), estimate)
        return net(x_t, t, estimate)

    return model_fn


class SamplingFn:
    """A (x_t, t) -> prediction function for `Diffusion.sample` that feeds each call the clean
    estimate of the call before (one instance per sampled batch: it keeps that estimate)."""

    def __init__(self, net: ConditionedNet, diffusion):
        self.net, self.diffusion = net, diffusion
        self.estimate: torch.Tensor | None = None

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        estimate = torch.zeros_like(x_t) if self.estimate is None else self.estimate
        pred = self.net(x_t, t, estimate)
        self.estimate = self.diffusion.to_eps_x0(pred.float(), x_t, t)[1].to(x_t)
        return pred
