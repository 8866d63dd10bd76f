"""Checkers for notebook 09_long_video."""

from ..methods.long_video.generator import keyframe_count, prediction_calls
from . import ExerciseFailed, checker


@checker("keyframe_count", reference=keyframe_count)
def check_keyframe_count(answer):
    for latent_frames in range(1, 80):
        for stride in (1, 2, 3, 4, 8):
            want, got = keyframe_count(latent_frames, stride), answer(latent_frames, stride)
            if got != want:
                raise ExerciseFailed(
                    f"keyframe_count({latent_frames}, {stride}) = {got}, expected {want}: keyframes sit at "
                    "0, S, 2S, ... and the last must reach frame L - 1 (round up)"
                )


@checker("prediction_calls", reference=prediction_calls)
def check_prediction_calls(answer):
    for keyframes in range(1, 60):
        for clip, given in ((4, 1), (5, 2), (8, 3)):
            want, got = prediction_calls(keyframes, clip, given), answer(keyframes, clip, given)
            if got != want:
                raise ExerciseFailed(
                    f"prediction_calls({keyframes}, {clip}, {given}) = {got}, expected {want}: "
                    "the first call makes `clip` keyframes, each later one clip - given new ones"
                )
