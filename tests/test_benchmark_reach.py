"""benchmarks.reach: minutes to a quality level, read off a training curve and extrapolated."""

import math

import pytest

from benchmarks.reach import extrapolated_minutes, log_fit, minutes_to_reach


def curve(*points):
    return [{"budget_min": m, "ema": {"recognisability": (v, v - 0.03, v + 0.03)}} for m, v in points]


def test_minutes_to_reach_interpolates_between_scored_points_from_zero():
    rows = curve((5.0, 0.4), (10.0, 0.6))
    assert minutes_to_reach(rows, 0.5) == pytest.approx((7.5, True))
    assert minutes_to_reach(rows, 0.2) == pytest.approx((2.5, True))  # on the line from (0, 0)
    assert minutes_to_reach(rows, 0.7) == (10.0, False)


def test_log_fit_recovers_the_line_through_exact_points():
    a, b = 0.2, 0.05
    rows = curve(*((m, a + b * math.log(m)) for m in (5.0, 20.0, 61.0)))
    assert log_fit(rows) == pytest.approx((a, b))
    # the inverse: where the line reaches a level, e.g. 0.8 at exp((0.8 - a) / b)
    assert extrapolated_minutes(rows, 0.8) == pytest.approx(math.exp(12.0))


def test_a_curve_that_does_not_rise_never_reaches_a_higher_level():
    assert extrapolated_minutes(curve((5.0, 0.6), (15.0, 0.6)), 0.8) == math.inf
    assert extrapolated_minutes(curve((5.0, 0.6), (15.0, 0.5)), 0.8) == math.inf


def test_log_fit_needs_two_distinct_minutes():
    with pytest.raises(ValueError, match="two or more distinct minutes"):
        log_fit(curve((5.0, 0.4)))
    with pytest.raises(ValueError, match="two or more distinct minutes"):
        log_fit(curve((5.0, 0.4), (5.0, 0.5)))
