"""Data sets: Moving MNIST (generated on the fly) and SkyTimelapse (synthetic or real)."""

from .digits import load_digits
from .moving_mnist import MovingMNIST, MovingMNISTConfig, bounce, load_test_file, to_unit_range
from .sky import (
    SKY_LABELS,
    SyntheticSkyConfig,
    find_sky_root,
    generate_synthetic_sky,
    sky_synthetic_config,
    synthetic_sky_clips,
)
from .sky_folder import SkyConfig, SkyTimelapse

__all__ = [
    "SKY_LABELS",
    "MovingMNIST",
    "MovingMNISTConfig",
    "SkyConfig",
    "SkyTimelapse",
    "SyntheticSkyConfig",
    "bounce",
    "find_sky_root",
    "generate_synthetic_sky",
    "load_digits",
    "load_test_file",
    "sky_synthetic_config",
    "synthetic_sky_clips",
    "to_unit_range",
]
