"""What one training step of the quick short-clip LVDM costs, and how far it is from the CPU's
limit (issue 19): the step's FLOPs (counted by torch's FlopCounterMode, forward + backward),
its wall time, the achieved GFLOP/s against a large fp32 matmul on this machine, and the
operators that take the time (torch.profiler), so a speed-up is looked for where it can pay."""

from __future__ import annotations

import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from minilvdm.core.config import by_profile
from minilvdm.core.cost import loss_step_seconds
from minilvdm.methods.lvdm import LatentVideoDiffusion, default_lvdm_config, default_train_config
from minilvdm.vae import default_vae_config


def matmul_peak_gflops(size: int, repeats: int = 5, dtype=torch.float32) -> float:
    """Best GFLOP/s of a (size x size) @ (size x size) matmul: 2 size^3 FLOPs."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def bf16_loss(model, z):
    def loss():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return model(z)

    return loss


def gradient_gap(model, first, second) -> float:
    """||g_second - g_first|| / ||g_first|| of two losses' gradients over the UNet's parameters,
    each drawn with the same seed, so the same noise and t."""
    grads = []
    for loss in (first, second):
        torch.manual_seed(1)
        model.unet.zero_grad(set_to_none=True)
        loss().backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.unet.parameters() if p.grad is not None]))
    model.unet.zero_grad(set_to_none=True)
    return ((grads[1] - grads[0]).norm() / grads[0].norm()).item()


def lvdm_and_latents():
    """The profile's short-clip Moving MNIST LVDM (its UNet and loss; no VAE) and a training batch
    of random latents, (B, c, t, h, w)."""
    cfg = default_lvdm_config("mnist")
    batch = default_train_config("latent", "mnist").batch_size
    torch.manual_seed(0)
    model = LatentVideoDiffusion(cfg, vae=torch.nn.Identity())
    return model, torch.randn(batch, *default_vae_config("mnist").latent_shape(16, 64, 64))


def lvdm_step_seconds(repeats: int = 10) -> float:
    """Median seconds of one training step of that LVDM: what the notebooks' training does on this
    host now (convolutions mostly, whose speed a matmul's rate does not tell)."""
    model, z = lvdm_and_latents()
    return loss_step_seconds(lambda: model(z), model.unet.parameters(), repeats=repeats)


def run() -> str:
    model, z = lvdm_and_latents()
    batch = z.shape[0]

    with FlopCounterMode(display=False) as counter:
        model(z).backward()
    flops = counter.get_total_flops()
    seconds = loss_step_seconds(lambda: model(z), model.unet.parameters(), repeats=by_profile(2, 10, 10))
    peak = matmul_peak_gflops(by_profile(256, 2048, 4096))
    # bf16 autocast, a speed lever where the CPU has bf16 instructions (the trainer autocasts on
    # CUDA only): its speed, and how far its gradients stray from fp32's
    bf16_seconds = loss_step_seconds(
        bf16_loss(model, z), model.unet.parameters(), repeats=by_profile(2, 10, 10)
    )
    bf16_peak = matmul_peak_gflops(by_profile(256, 2048, 4096), dtype=torch.bfloat16)
    grad_error = gradient_gap(model, lambda: model(z), bf16_loss(model, z))

    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(by_profile(1, 3, 3)):
            model.unet.zero_grad(set_to_none=True)
            model(z).backward()
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events) or 1
    lines = [
        f"UNet {sum(p.numel() for p in model.unet.parameters()) / 1e6:.2f} M parameters, batch {batch} "
        f"of {'x'.join(map(str, z.shape[1:]))} latents, {torch.get_num_threads()} threads.",
        "",
        "| FLOPs / step (fwd + bwd) | s / step (incl. AdamW) | achieved GFLOP/s | fp32 matmul peak GFLOP/s "
        "| share of peak |",
        "| --- | --- | --- | --- | --- |",
        f"| {flops / 1e9:.2f} G | {seconds:.3f} | {flops / seconds / 1e9:.1f} | {peak:.1f} "
        f"| {flops / seconds / 1e9 / peak:.0%} |",
        "",
        f"With bf16 autocast on this CPU: {bf16_seconds:.3f} s / step ({seconds / bf16_seconds:.2f}x fp32's "
        f"speed; a bf16 matmul peaks at {bf16_peak:.1f} GFLOP/s, {bf16_peak / peak:.1f}x fp32's), with "
        f"gradients {grad_error:.1%} away from fp32's (relative L2 over all parameters, same noise "
        "and t). The trainer autocasts on CUDA only.",
        "",
        "Where the time goes (self CPU time of forward + backward, top operators):",
        "",
        "| operator | calls | self CPU ms | share |",
        "| --- | --- | --- | --- |",
    ]
    for event in events[:10]:
        lines.append(
            f"| `{event.key}` | {event.count} | {event.self_cpu_time_total / 1e3:.1f} "
            f"| {event.self_cpu_time_total / total:.0%} |"
        )
    slow = [e for e in events if "slow_conv3d" in e.key]
    slow_ms = sum(e.self_cpu_time_total for e in slow) / 1e3
    lines += [
        "",
        "`slow_conv3d` (the unfused 3D convolution the (3, 1, 1) temporal convs can fall back to): "
        + (f"{slow_ms:.1f} ms, {slow_ms * 1e3 / total:.0%} of the time." if slow else "not called here.")
        + " CPU timings taken while other jobs share the 2 cores are rough.",
    ]
    return "\n".join(lines)
