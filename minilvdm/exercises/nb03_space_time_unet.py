"""Checkers for notebook 03_space_time_unet."""

import torch
from einops import rearrange

from . import ExerciseFailed, checker


def fold_for_temporal_reference(x: torch.Tensor) -> torch.Tensor:
    """(B, C, T, H, W) -> (B*H*W, T, C): one sequence of T frames per pixel."""
    return rearrange(x, "b c t h w -> (b h w) t c")


def attention_logits_reference(frames: int, hw: int) -> tuple[int, int]:
    """Attention logits per head for one clip: (factorized, joint)."""
    factorized = frames * hw**2 + hw * frames**2  # spatial in every frame + temporal at every pixel
    joint = (frames * hw) ** 2
    return factorized, joint


def temporal_receptive_field_reference(layers: int, kernel: int = 3) -> int:
    """Frames one output frame can see after `layers` temporal convs of size `kernel`."""
    return 1 + layers * (kernel - 1)


@checker("fold_for_temporal", reference=fold_for_temporal_reference)
def check_fold(answer):
    x = torch.randn(2, 3, 5, 4, 6)
    got = answer(x)
    want = fold_for_temporal_reference(x)
    if tuple(got.shape) != tuple(want.shape):
        raise ExerciseFailed(f"shape {tuple(got.shape)}, expected {tuple(want.shape)} = (B*H*W, T, C)")
    if not torch.equal(got, want):
        raise ExerciseFailed(
            "right shape, wrong order: sequence i must be pixel (b, h, w) in that order, b slowest."
        )


@checker("attention_logits", reference=attention_logits_reference)
def check_logits(answer):
    for frames, hw in ((4, 256), (16, 64), (1, 100), (32, 1024)):
        got = tuple(int(v) for v in answer(frames, hw))
        if got != attention_logits_reference(frames, hw):
            raise ExerciseFailed(
                f"T={frames}, HW={hw}: got {got}. Hint: spatial attention is T attentions over HW tokens; "
                "temporal is HW attentions over T tokens; joint is one attention over T*HW tokens."
            )


@checker("temporal_receptive_field", reference=temporal_receptive_field_reference)
def check_receptive_field(answer):
    for layers in range(0, 12):
        for kernel in (3, 5):
            if int(answer(layers, kernel)) != temporal_receptive_field_reference(layers, kernel):
                raise ExerciseFailed(
                    f"layers={layers}, kernel={kernel}: each conv widens the view by kernel - 1."
                )
