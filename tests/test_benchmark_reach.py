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


def test_the_recipe_section_says_what_each_curve_would_take():
    from benchmarks.recipe_report import what_it_would_take
    from benchmarks.recipe_variants import LONG_FLOW, LONG_SELFCOND, LONG_SELFCOND_2X, LONG_SELFCOND_W48

    winner = "some-row"
    rows = curve((5.0, 0.5), (10.0, 0.55), (15.0, 0.58))
    results = {f"{winner}|abc|{i}": {**r, "step": i} for i, r in enumerate(rows)}
    current = {
        winner: "abc",
        LONG_FLOW: "",
        LONG_SELFCOND: "",
        LONG_SELFCOND_2X: "",
        LONG_SELFCOND_W48: "",
    }  # long rows: not trained
    (text,) = what_it_would_take(winner, results, current)
    minutes = extrapolated_minutes(rows, 0.80)
    assert f"`{winner}` (3 points, 5-15 min)" in text and f"0.80 after about {minutes:,.0f}" in text
    assert LONG_FLOW not in text
    assert what_it_would_take(winner, {}, current) == []  # nothing scored, nothing said


def test_samplers_names_the_best_eta_and_whether_its_lead_is_clear():
    from benchmarks.samplers import best_eta

    def row(eta, rec, steps=20):
        return {"sampler": "ddim", "steps": steps, "eta": eta, "rec": rec}

    rows = [row(0.0, (0.65, 0.61, 0.68)), row(1.0, (0.54, 0.49, 0.58)), row(1.0, (0.9, 0.8, 1.0), steps=50)]
    assert best_eta(rows, 20) == "eta 0 (ahead, disjoint intervals)"
    rows[1] = row(1.0, (0.62, 0.58, 0.66))  # its upper end above the leader's lower end
    assert best_eta(rows, 20) == "eta 0 (ahead within the intervals)"


def test_samplers_best_row_names_its_grid_and_sampler():
    from benchmarks.recipe_report import grid_name
    from benchmarks.samplers import best_row

    assert [grid_name(s) for s in (1.0, 3.0, 1 / 3)] == ["even", "shift 3", "shift 1/3"]
    rows = [
        {"sampler": "ddim", "steps": 50, "eta": 0.0, "shift": 3.0, "rec": (0.80, 0.76, 0.84)},
        {"sampler": "ddpm", "steps": 1000, "eta": 0.0, "shift": 1.0, "rec": (0.70, 0.66, 0.74)},
    ]
    best = "DDIM 50, eta 0, shift 3 grid: 0.800 [0.760, 0.840] (disjoint from every other row)"
    assert best_row(rows) == best
    rows[1]["rec"] = (0.85, 0.80, 0.90)  # DDPM ahead, its interval overlapping the other's
    assert best_row(rows) == "DDPM 1000, even grid: 0.850 [0.800, 0.900] (within the intervals of others)"


def test_the_learning_rate_rows_are_read_against_the_winner_at_1e_3():
    from benchmarks.recipe_report import lr_lines
    from benchmarks.recipe_variants import FLOW

    def row(v, spread=0.03):
        return {"ema": {"recognisability": (v, v - spread, v + spread), "identity_kept": 0.05}}

    winner = f"{FLOW}+clipctx+selfcond"
    assert lr_lines({f"{winner}+lr2e-3": row(0.6)}) == []  # nothing to compare against
    head, *rows = lr_lines(
        {
            winner: row(0.6),
            f"{winner}+lr2e-3": row(0.62),
            f"{winner}+lr2e-3+seed1": row(0.7),
            f"{winner}+lr4e-3": row(0.4),
        }
    )
    assert "lr 1e-3 (0.600 [0.570, 0.630])" in head
    assert rows == [
        "- lr 2e-3: 0.620 [0.590, 0.650], identity kept 0.050: level (overlapping intervals)",
        "- lr 2e-3 (second seed): 0.700 [0.670, 0.730], identity kept 0.050: ahead",
        "- lr 4e-3: 0.400 [0.370, 0.430], identity kept 0.050: behind",
    ]


def test_the_capacity_and_todays_budget_rows_are_read_against_their_references():
    from benchmarks.recipe_report import capacity_lines, todays_budget_lines
    from benchmarks.recipe_variants import FLOW, LONG_SELFCOND, LONG_SELFCOND_W48

    def row(step, v, wall=10.0):
        rec = (v, v - 0.03, v + 0.03)
        return {
            "step": step,
            "steps": 3,
            "budget_min": step,
            "wall_min": wall,
            "ema": {"recognisability": rec},
        }

    results = {f"{LONG_SELFCOND}|a|{s}": row(s, 0.7) for s in (1, 2, 3)}
    results |= {f"{LONG_SELFCOND_W48}|b|{s}": row(s, v) for s, v in ((1, 0.6), (3, 0.8))}
    current = {LONG_SELFCOND: "a", LONG_SELFCOND_W48: "b"}
    (line,) = capacity_lines(results, current)
    assert "step 1: 0.600 [0.570, 0.630] against 0.700 [0.670, 0.730], behind" in line
    assert "step 3: 0.800 [0.770, 0.830] against 0.700 [0.670, 0.730], ahead" in line
    assert "step 2" not in line  # compared at the steps both scored only
    assert capacity_lines(results, {**current, LONG_SELFCOND_W48: "other config"}) == []

    winner = f"{FLOW}+clipctx+selfcond"
    assert todays_budget_lines({winner: row(3, 0.6)}) == []
    (line,) = todays_budget_lines({winner: row(3, 0.6), f"{winner}@3900": row(3, 0.62, wall=14.9)})
    assert "14.9 wall-minutes" in line and "level (overlapping intervals)" in line


def test_the_winner_is_the_best_mean_over_seeds_among_budget_rows():
    from benchmarks.recipe_report import pick_winner
    from benchmarks.recipe_variants import FLOW

    def row(v):
        return {"ema": {"recognisability": (v, v - 0.03, v + 0.03)}}

    winner = f"{FLOW}+clipctx+selfcond"
    finished = {winner: row(0.605), f"{winner}+lr2e-3": row(0.617), f"{FLOW}+clipctx+selfcond@1500": row(0.9)}
    assert pick_winner(finished) == f"{winner}+lr2e-3"  # fixed-step rows do not compete
    finished |= {f"{winner}+seed1": row(0.640), f"{winner}+lr2e-3+seed1": row(0.618)}
    assert pick_winner(finished) == winner  # 0.6225 against 0.6175
