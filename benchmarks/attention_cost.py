"""Factorized (spatial + temporal) vs joint space-time attention: measured cost per training
step of the same small UNet as the number of latent frames T grows (LVDM's comparison)."""

from minilvdm.core.config import by_profile
from minilvdm.core.cost import ATTENTION_COST_SIZE, attention_cost_config, measure_attention_cost


def run() -> str:
    frames = by_profile(ci=(2, 4), quick=(4, 8, 16, 32), full=(4, 8, 16, 32, 64))
    rows = measure_attention_cost(frames, repeats=by_profile(ci=1, quick=3, full=10))
    lines = [
        "| latent frames T | attention | params | ms / step | saved activations (MB) "
        "| saved, math SDPA kernel (MB) | peak (MB) | attention logits / head (finest level) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        peak = "-" if r["peak_mb"] is None else f"{r['peak_mb']:.0f}"
        lines.append(
            f"| {r['frames']} | {r['kind']} | {r['params']:,} | {r['ms']:.0f} | {r['saved_mb']:.1f} "
            f"| {r['math_saved_mb']:.1f} | {peak} | {r['logits']:,} |"
        )
    cfg, s = attention_cost_config(False), ATTENTION_COST_SIZE
    note = (
        f"One training step (forward, backward, SGD) of a UNet with {cfg.model_channels} base channels, "
        f"levels {cfg.channel_mult}, attention at {s}x{s} and {s // 2}x{s // 2}, batch 1, 4x{s}x{s} latents; "
        "median of the repeats after one warm-up step. Saved activations are the tensors autograd keeps for "
        "backward (counted by a saved-tensor hook); peak memory is only available on CUDA. The default SDPA "
        "kernel is fused, so the attention matrix is never stored; the 'math SDPA kernel' column reruns the "
        "step with the textbook kernel, which stores softmax(QK^T), to show the memory the quadratic term "
        "costs. The logits column is the work attention does: (T HW)^2 for joint, T (HW)^2 + HW T^2 for "
        "factorized attention. Both models keep the temporal convolutions; only the attention differs. "
        "CPU timings were taken while other jobs shared the 2 cores: treat them as rough."
    )
    return "\n".join(lines) + "\n\n" + note
