"""The closing tables' verdicts follow the numbers, by one rule on 95% intervals."""

import math

import pytest

from minilvdm.eval import Claim, claims_table, higher, lower, proportion, within
from minilvdm.eval.claims import FAILS, HOLDS, UNMEASURABLE


def test_disjoint_intervals_hold_or_fail_by_their_order_and_overlap_is_not_measurable():
    below, above, across = (1.0, 0.8, 1.2), (3.0, 2.5, 3.5), (2.0, 1.1, 2.6)
    assert lower("c", "s", below, above).verdict == HOLDS
    assert lower("c", "s", above, below).verdict == FAILS
    overlap = lower("c", "s", below, across)
    assert overlap.verdict == UNMEASURABLE and overlap.holds is None and "overlap" in overlap.why
    assert higher("c", "s", above, below).verdict == HOLDS
    assert higher("c", "s", below, above).verdict == FAILS
    assert higher("c", "s", across, above).verdict == UNMEASURABLE


def test_point_values_are_intervals_of_width_zero_and_say_so():
    row = lower("c", "s", 1.0, 2.0, names=("lifted", "image"))
    assert row.holds is True and "point values" in row.why
    assert row.measured == "lifted 1 vs image 2"
    assert lower("c", "s", 2.0, 1.0).holds is False
    assert lower("c", "s", 1.0, 1.0).holds is None  # equal: cannot tell them apart
    mixed = lower("c", "s", (5.0, 4.0, 6.0), 4.5)  # a point inside an interval: overlap
    assert mixed.holds is None and "intervals" in mixed.why
    assert lower("c", "s", float("nan"), 1.0).holds is None


def test_within_a_range():
    assert within("c", "s", 0.0, 0, 1e-5).holds is True
    assert within("c", "s", 0.1, 0, 1e-5).holds is False
    assert within("c", "s", (1.0, 0.9, 1.1), 0.95, 1.05).holds is None  # straddles an edge
    assert within("c", "s", (1.0, 0.97, 1.03), 0.95, 1.05).holds is True


def test_only_if_turns_a_verdict_into_not_measurable_with_its_reason():
    row = lower("c", "s", 1.0, 2.0).only_if(False, "the samples are not digits yet")
    assert row.verdict == UNMEASURABLE and row.why == "the samples are not digits yet"
    assert lower("c", "s", 1.0, 2.0).only_if(True, "unused").holds is True


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="low"):
        lower("c", "s", (1.0, 2.0, 0.5), 3.0)  # low > high
    with pytest.raises(ValueError):
        higher("c", "s", 1.0, (1.0, 2.0))  # not a triple
    with pytest.raises(ValueError):
        within("c", "s", 1.0, 2.0, 1.0)
    with pytest.raises(ValueError):
        proportion(1.5, 10)
    with pytest.raises(TypeError):
        claims_table([("claim", "source")])


def test_the_table_has_one_row_per_claim_with_its_verdict():
    rows = [
        lower("FVD | drops", "Video LDM, Sec. 3", (1.0, 0.5, 1.5), (4.0, 3.0, 5.0)),
        higher("more", "LVDM", 1.0, 2.0),
        Claim("not comparable", "LVDM Tab. 1", "FVD 47", None, "other features"),
    ]
    table = claims_table(rows)
    text = table._repr_markdown_()
    assert text == str(table) == repr(table)
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert lines[0].split("|")[4].strip() == "verdict"
    body = lines[2:]
    assert len(body) == len(rows)
    assert "FVD \\| drops" in body[0]  # a | inside a cell is escaped: the row keeps 5 columns
    for line, row in zip(body, rows):
        assert f"**{row.verdict}**" in line
    assert [r.verdict for r in table.rows] == [HOLDS, FAILS, UNMEASURABLE]


def test_proportion_interval_is_wilson_and_stays_in_0_1():
    value, low, high = proportion(0.5, 12)
    assert (
        value == 0.5 and math.isclose(low, 0.2538, abs_tol=1e-3) and math.isclose(high, 0.7462, abs_tol=1e-3)
    )
    assert proportion(0.0, 12)[1] == 0.0 and proportion(1.0, 12)[2] == 1.0
