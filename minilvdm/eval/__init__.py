"""Measuring video: evaluator networks, Fréchet distances, corruptions, reconstruction metrics,
and the closing tables that hold paper claims against the numbers (`claims`).

from minilvdm.eval import frechet_video_distance, recognisability, corrupt
fvd = frechet_video_distance(generated, real_clips("mnist", 256)[0], dataset="mnist")
"""

from .claims import Claim, claims_table, higher, lower, proportion, within
from .corruptions import SEVERITIES, corrupt
from .evaluators import KINDS, load_evaluator
from .frechet import (
    frechet_distance,
    frechet_distance_diagonal,
    frechet_from_stats,
    gaussian_stats,
    sqrtm_psd,
)
from .metrics import (
    block_windows,
    bootstrap_ci,
    boundary_change_ratio,
    clip_diversity,
    clip_features,
    condition_accuracy,
    format_score,
    frame_change,
    frame_change_by_phase,
    frame_features,
    frame_frechet_distance,
    frechet_video_distance,
    identity_persistence,
    most_frequent_digit_share,
    motion_amount,
    real_clips,
    recognisability,
    score,
    segment_digits,
    segment_distances,
)
from .reconstruction import flicker, psnr, ssim

__all__ = [
    "Claim",
    "KINDS",
    "SEVERITIES",
    "block_windows",
    "bootstrap_ci",
    "claims_table",
    "clip_diversity",
    "clip_features",
    "condition_accuracy",
    "flicker",
    "corrupt",
    "format_score",
    "boundary_change_ratio",
    "frame_change",
    "frame_change_by_phase",
    "frame_features",
    "frame_frechet_distance",
    "frechet_distance",
    "frechet_distance_diagonal",
    "frechet_from_stats",
    "frechet_video_distance",
    "gaussian_stats",
    "higher",
    "identity_persistence",
    "most_frequent_digit_share",
    "load_evaluator",
    "lower",
    "motion_amount",
    "proportion",
    "psnr",
    "real_clips",
    "recognisability",
    "score",
    "segment_digits",
    "segment_distances",
    "sqrtm_psd",
    "ssim",
    "within",
]
