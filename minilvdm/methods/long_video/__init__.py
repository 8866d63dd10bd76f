"""LVDM's long videos: keyframes by prediction, the frames between by interpolation.

generator   the hierarchical generator, streamed to disk and resumable (re-exported here)
models      training the prediction and interpolation models (re-exported here)
"""

from ..classroom import warm_start_init  # the long models take its init
from .generator import (
    STATE_FORMAT,
    LongVideoConfig,
    LongVideoGenerator,
    StreamingDecoder,
    keyframe_count,
    load_long_video,
    prediction_calls,
    resolve_stride,
    trained_stride,
)
from .models import (
    CLASSROOM_LONG_NAME,
    LongModel,
    LongModelConfig,
    build_generator,
    classroom_long_configs,
    classroom_long_pair,
    default_long_config,
    default_long_train_config,
    default_train_config,
    examples,
    generate_long_videos,
    long_data_config,
    long_stride,
    long_video_config,
    train_long_model,
)

__all__ = [
    "CLASSROOM_LONG_NAME",
    "STATE_FORMAT",
    "LongModel",
    "LongModelConfig",
    "LongVideoConfig",
    "LongVideoGenerator",
    "StreamingDecoder",
    "build_generator",
    "classroom_long_configs",
    "classroom_long_pair",
    "default_long_config",
    "default_long_train_config",
    "default_train_config",
    "examples",
    "generate_long_videos",
    "keyframe_count",
    "load_long_video",
    "long_data_config",
    "long_stride",
    "long_video_config",
    "prediction_calls",
    "resolve_stride",
    "train_long_model",
    "trained_stride",
    "warm_start_init",
]
