"""Paper claims against what a notebook measured: one table row per claim, its verdict computed.

    from minilvdm.eval.claims import claims_table, higher, lower, within
    claims_table([
        lower("temporal layers lower the FVD", "Video LDM, Sec. 3.1", m_lift["fvd"], m_image["fvd"],
              names=("lifted", "image LDM")),
        within("the lift starts as the image model", "Video LDM, Sec. 3.1", gap, 0, 1e-5, name="max |diff|"),
    ])  # the last expression of a cell: Jupyter and GitHub render the markdown table

A measurement is a number or a (value, low, high) triple, the 95% interval that `score`,
`bootstrap_ci` and `drift_curves` return. A number is an interval of width 0, so one rule covers
both (the row then says it compares point values, where any difference counts):

    holds                          the intervals are disjoint, in the claimed order
    does not hold here             the intervals are disjoint, in the opposite order
    not measurable at this scale   the intervals overlap (this run cannot tell them apart), a
                                   value is NaN, or a precondition fails (`Claim.only_if`)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

HOLDS, FAILS, UNMEASURABLE = "holds", "does not hold here", "not measurable at this scale"
RULE = (
    "Verdicts are computed from this run's numbers: *holds* / *does not hold here* when the 95% "
    "intervals (a point value is an interval of width 0) are disjoint, in the claimed / the opposite "
    "order; *not measurable at this scale* when they overlap."
)


@dataclass(frozen=True)
class Claim:
    """One row: `holds` is True, False or None (not measurable); `why` is one sentence."""

    claim: str
    source: str
    measured: str
    holds: bool | None
    why: str

    @property
    def verdict(self) -> str:
        return {True: HOLDS, False: FAILS, None: UNMEASURABLE}[self.holds]

    def only_if(self, ok: bool, why: str) -> Claim:
        """Not measurable, for the reason `why`, unless `ok` (e.g. the samples are digits at all)."""
        return self if ok else dataclasses.replace(self, holds=None, why=why)


def interval(x) -> tuple[float, float, float]:
    """A number or a (value, low, high) triple -> (value, low, high) as floats."""
    if isinstance(x, (tuple, list)):
        if len(x) != 3:
            raise ValueError(f"a measurement is a number or (value, low, high), got {x!r}")
        value, low, high = (float(v) for v in x)
        if low > high:
            raise ValueError(f"interval low {low} > high {high}")
        return value, low, high
    return float(x), float(x), float(x)


def show(x, fmt: str = ".4g") -> str:
    """'12.3 [10.1, 14.2]' for a triple, '12.3' for a number."""
    value, low, high = interval(x)
    return f"{value:{fmt}} [{low:{fmt}}, {high:{fmt}}]" if isinstance(x, (tuple, list)) else f"{value:{fmt}}"


def _kind(*xs) -> str:
    if any(isinstance(x, (tuple, list)) for x in xs):
        return "intervals" if len(xs) > 1 else "interval"
    return "point values (no interval)" if len(xs) > 1 else "point value (no interval)"


def _compare(claim: str, source: str, a, b, names, fmt: str, claimed: str) -> Claim:
    (_, a_low, a_high), (_, b_low, b_high) = interval(a), interval(b)
    kind, (na, nb) = _kind(a, b), names
    measured = f"{na} {show(a, fmt)} vs {nb} {show(b, fmt)}"
    if any(math.isnan(v) for v in (a_low, a_high, b_low, b_high)):
        return Claim(claim, source, measured, None, "a value is not a number")
    if a_low <= b_high and b_low <= a_high:
        return Claim(claim, source, measured, None, f"{kind} overlap: this run cannot tell {na} from {nb}")
    side = "below" if a_high < b_low else "above"
    return Claim(claim, source, measured, side == claimed, f"{kind}: {na} lies {side} {nb}")


def lower(claim: str, source: str, a, b, names=("a", "b"), fmt: str = ".4g") -> Claim:
    """The claim 'a is lower than b'."""
    return _compare(claim, source, a, b, names, fmt, "below")


def higher(claim: str, source: str, a, b, names=("a", "b"), fmt: str = ".4g") -> Claim:
    """The claim 'a is higher than b'."""
    return _compare(claim, source, a, b, names, fmt, "above")


def within(claim: str, source: str, a, low: float, high: float, name: str = "a", fmt: str = ".4g") -> Claim:
    """The claim 'a lies in [low, high]' (a tolerance, e.g. 'equal up to 1e-5': within(gap, 0, 1e-5))."""
    if low > high:
        raise ValueError(f"bound low {low} > high {high}")
    _, a_low, a_high = interval(a)
    kind = _kind(a)
    measured = f"{name} {show(a, fmt)} (claimed range [{low:{fmt}}, {high:{fmt}}])"
    if math.isnan(a_low) or math.isnan(a_high):
        return Claim(claim, source, measured, None, "the value is not a number")
    if low <= a_low and a_high <= high:
        return Claim(claim, source, measured, True, f"{kind}: {name} lies inside the claimed range")
    if a_high < low or a_low > high:
        return Claim(claim, source, measured, False, f"{kind}: {name} lies outside the claimed range")
    return Claim(claim, source, measured, None, f"the interval of {name} straddles the claimed range's edge")


def proportion(share: float, n: int, z: float = 1.96) -> tuple[float, float, float]:
    """(share, low, high): the Wilson 95% interval of a share of `n` trials (e.g. an accuracy)."""
    if n < 1 or not 0 <= share <= 1:
        raise ValueError(f"need n >= 1 and 0 <= share <= 1, got n={n}, share={share}")
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return share, max(0.0, centre - half), min(1.0, centre + half)


class ClaimsTable:
    """Rows as a markdown table; a cell ending in one shows it rendered (text/markdown)."""

    def __init__(self, rows: list[Claim]):
        self.rows = list(rows)

    def markdown(self) -> str:
        def cell(text: str) -> str:
            return str(text).replace("|", "\\|").replace("\n", " ")

        lines = ["| claim | source | measured | verdict | why |", "|---|---|---|---|---|"]
        for r in self.rows:
            fields = (r.claim, r.source, r.measured, f"**{r.verdict}**", r.why)
            lines.append("| " + " | ".join(cell(f) for f in fields) + " |")
        return "\n".join(lines) + "\n\n" + RULE

    _repr_markdown_ = __str__ = __repr__ = markdown


def claims_table(rows: list[Claim]) -> ClaimsTable:
    """The closing table of a notebook: claim | source | measured | verdict | why."""
    if not all(isinstance(r, Claim) for r in rows):
        raise TypeError("claims_table takes Claim rows (from lower, higher, within or Claim(...))")
    return ClaimsTable(rows)
