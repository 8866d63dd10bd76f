"""Where the short-clip LVDM loses its digits (issue 19): the recognisability curve is flat at
about 0.6 whatever the width or the steps, so this asks which stage is at fault.

- the decoder: real latents with Gaussian noise added, decoded (how much latent error it forgives);
- the denoiser: real latents noised to step t0 and denoised by DDIM from there (SDEdit), for
  growing t0. What survives from low t0 is fine detail; from high t0 the model must make the
  digits' shapes and identities itself, as in unconditional sampling;
- the reach: how much frame 0's denoising depends on the frames further along its clip.

The model is the classroom model (`classroom_lvdm`; shipped, or trained by `recipe`).
"""

from __future__ import annotations

import torch

from minilvdm.core.config import by_profile
from minilvdm.diffusion.schedules import make_timesteps
from minilvdm.eval import real_clips
from minilvdm.eval.metrics import bootstrap_ci, identity_persistence, recognisability
from minilvdm.methods.classroom import classroom_lvdm
from minilvdm.vae import train_vae

NOISE_LEVELS = (0.1, 0.2, 0.3, 0.5)  # latents have unit std (scale factor)
START_STEPS = (100, 250, 400, 600, 800, 999)  # of 1000; DDIM-50's grid from there down
SAMPLERS = ((50, 0.0), (50, 1.0), (100, 1.0), (250, 1.0))  # (DDIM steps, eta) of the unconditional rows
REACH_FROM = (1, 2, 4, 6)  # latent frames >= k replaced by another clip's
REACH_STEPS = (300, 500, 700, 900)


def temporal_reach(model, z: torch.Tensor, generator: torch.Generator) -> list[str]:
    """How far along the clip the denoiser reads: frame 0's x0 error (MSE) with its own clip,
    and with latent frames >= k taken from another clip (same noise). A denoiser that pooled
    the whole clip's evidence would lose much when far frames are replaced. One network call per
    estimate: a self-conditioned model sees no previous estimate, as at its first sampling step."""
    diffusion, other = model.diffusion, z.roll(1, 0)  # (n, c, t, h, w)
    rows = []
    for k in REACH_FROM:
        mixed = z.clone()
        mixed[:, :, k:] = other[:, :, k:]
        cells = []
        for step in REACH_STEPS:
            t = torch.full((len(z),), step, dtype=torch.long)
            noise = torch.randn(z.shape, generator=generator)
            errors = []
            for clip in (z, mixed):
                x_t = diffusion.q_sample(clip, t, noise)
                _, x0 = diffusion.to_eps_x0(model.unet(x_t, t), x_t, t)
                errors.append(float(((x0 - clip)[:, :, 0] ** 2).mean()))
            cells.append(f"{errors[0]:.3f} -> {errors[1]:.3f}")
        rows.append(f"| >= {k} | " + " | ".join(cells) + " |")
    return [
        "### How far the denoiser reads along the clip",
        "",
        "Frame 0's x0 error (MSE, latent units) with its own clip -> with latent frames >= k "
        f"(of {z.shape[2]}) from another clip, at step t (one network call, no self-conditioning "
        "estimate):",
        "",
        "| frames replaced | " + " | ".join(f"t = {s}" for s in REACH_STEPS) + " |",
        "| --- |" + " --- |" * len(REACH_STEPS),
        *rows,
        "",
    ]


def _row(name: str, videos: torch.Tensor) -> str:
    rec = bootstrap_ci(lambda v: float(v.mean()), recognisability(videos, reduce=False))
    kept = identity_persistence(videos, segment=8)[-1].item()
    return f"| {name} | {rec[0]:.3f} [{rec[1]:.3f}, {rec[2]:.3f}] | {kept:.3f} |"


@torch.no_grad()
def run() -> str:
    vae_trainer = train_vae("mnist")
    found = classroom_lvdm(vae_trainer)
    if found is None:
        return "No classroom model here: train it with `python -m benchmarks.recipe --only <the long row>`."
    vae, model = vae_trainer.ema.module.eval(), found[1].eval()
    n = by_profile(ci=4, quick=64, full=256)
    real = real_clips("mnist", n)[0]
    z = vae.encode_latents(real)  # (n, c, t, h, w)
    g = torch.Generator().manual_seed(0)

    def decode(latents):
        return vae.decode_latents(latents).clamp(-1, 1)

    rows = [_row("real clips", real), _row("VAE reconstruction", decode(z))]
    rows += [
        _row(f"decode(z + {s} noise)", decode(z + s * torch.randn(z.shape, generator=g)))
        for s in NOISE_LEVELS
    ]
    diffusion, grid = model.diffusion, make_timesteps(model.diffusion.num_steps, 50, "trailing")
    for t0 in START_STEPS:
        steps = [t for t in grid if t <= t0]
        start = torch.full((n,), steps[0], dtype=torch.long)
        x_t = diffusion.q_sample(z, start, torch.randn(z.shape, generator=g))  # x_t ~ q(x_t | z)
        # the model's own sampling function: a self-conditioned model reads its previous estimate
        z0 = diffusion.sample(model.denoiser(None), z.shape, steps=steps, x_T=x_t)
        signal = diffusion.alpha_bar[steps[0]].sqrt().item()
        rows.append(
            _row(f"denoised from t0 = {steps[0]} (signal {signal:.2f}, {len(steps)} steps)", decode(z0))
        )
    for steps, eta in SAMPLERS:  # the recipe study's sweep found stochastic, longer sampling ahead
        seed = torch.Generator().manual_seed(0)  # the even grid: the denoised rows' grid
        samples = model.sample(n, steps=steps, eta=eta, shift=1.0, generator=seed)
        rows.append(_row(f"unconditional samples (DDIM {steps}, eta {eta:g})", samples))
    return "\n".join(
        [
            *temporal_reach(model, z, g),
            f"### Classroom model: decoder tolerance and denoising depth ({n} held-out clips)",
            "",
            "| input | recognisability [95% CI] | identity kept (2nd half vs 1st) |",
            "| --- | --- | --- |",
            *rows,
            "",
            "Denoised rows: the held-out clips' latents noised to step t0, then DDIM (eta 0) from t0 "
            "down on DDIM-50's grid; `signal` is sqrt(alpha_bar_t0), the share of the clip still in "
            "the input. Identity kept: `identity_persistence` (digit sets of the two 8-frame halves).",
            "",
        ]
    )
