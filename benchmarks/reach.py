"""How long a training curve takes to reach a quality level (issue 19's figure of merit and its
"what it would take"). A curve is a list of recipe rows, each with `budget_min` and the EMA
recognisability (value, low, high) it scored."""

from __future__ import annotations

import math


def _points(rows: list[dict]) -> list[tuple[float, float]]:
    return [(r["budget_min"], r["ema"]["recognisability"][0]) for r in rows]


def minutes_to_reach(rows: list[dict], target: float) -> tuple[float, bool]:
    """Budget minutes at which a curve first reaches `target` (linear between scored points,
    from 0 at minute 0); (minutes, True) or, when it never does, (its last minute, False)."""
    points = [(0.0, 0.0)] + _points(rows)
    for (m0, v0), (m1, v1) in zip(points, points[1:]):
        if v1 >= target:
            return m0 + (m1 - m0) * (target - v0) / max(v1 - v0, 1e-9), True
    return points[-1][0], False


def log_fit(rows: list[dict]) -> tuple[float, float]:
    """(a, b) of the least-squares line value = a + b ln(minutes) through the scored points:
    b is what each e-fold (2.7x) of training minutes buys. Needs two points at distinct minutes."""
    points = [(math.log(m), v) for m, v in _points(rows) if m > 0]
    if len({x for x, _ in points}) < 2:
        raise ValueError(f"a log fit needs points at two or more distinct minutes, got {len(points)}")
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    b = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)
    return mean_y - b * mean_x, b


def extrapolated_minutes(rows: list[dict], target: float) -> float:
    """Budget minutes at which `log_fit`'s line reaches `target`: inf where the curve does not
    rise. An extrapolation, rough far past the last point."""
    a, b = log_fit(rows)
    return math.exp((target - a) / b) if b > 0 else math.inf
