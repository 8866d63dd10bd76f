"""Checkers for notebook 00_data."""

import numpy as np

from ..data.moving_mnist import bounce
from . import ExerciseFailed, checker


@checker("bounce", reference=bounce)
def check_bounce(answer):
    rng = np.random.default_rng(0)
    for _ in range(500):
        lo, hi = 0.0, float(rng.uniform(10, 40))
        pos = rng.uniform(lo, hi, size=3)
        vel = rng.uniform(-0.9, 0.9, size=3) * (hi - lo)
        want_p, want_v = bounce(pos, vel, lo, hi)
        got_p, got_v = (np.asarray(a, dtype=float) for a in answer(pos.copy(), vel.copy(), lo, hi))
        if not (np.allclose(got_p, want_p) and np.allclose(got_v, want_v)):
            raise ExerciseFailed(
                f"bounce(pos={pos}, vel={vel}, lo={lo}, hi={hi:.2f}) gave ({got_p}, {got_v}), "
                f"expected ({want_p}, {want_v}). Hint: a wall mirrors the position and flips the velocity."
            )


@checker("to_unit_range")
def check_to_unit_range(answer):
    x = np.arange(256, dtype=np.uint8)
    got = np.asarray(answer(x), dtype=float)
    if got.shape != x.shape or not np.allclose(got, x / 127.5 - 1, atol=1e-5):
        raise ExerciseFailed("map 0 -> -1 and 255 -> +1 linearly: x / 127.5 - 1")
