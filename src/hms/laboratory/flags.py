"""Abnormal flags computed from a result and its reference range, never taken from input.

`L`/`H` below or above the reference range (a value equal to a limit of the range is normal),
`LL`/`HH` strictly beyond a critical limit (critical lists are written "< 40", "> 500"), `A` for a
qualitative result other than the expected ones (`positive` where `negative` is expected), and
None when normal or when the result cannot be judged: unparseable text, or a comparator result
(`<0.01`, `>1000`) that reaches both sides of a limit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_RESULT = re.compile(rf"^(<=|>=|≤|≥|<|>)?\s*({_NUMBER})$")
_INTERVAL = re.compile(rf"^({_NUMBER})\s*(?:-|–|to)\s*({_NUMBER})$")
_BOUND = re.compile(rf"^(<=|>=|≤|≥|<|>)\s*({_NUMBER})$")
_OPERATORS = {"≤": "<=", "≥": ">="}
# Words a laboratory reports for qualitative tests; anything else is free text, never flagged.
QUALITATIVE = frozenset(
    {
        "negative",
        "positive",
        "trace",
        "small",
        "moderate",
        "large",
        "1+",
        "2+",
        "3+",
        "4+",
        "detected",
        "not detected",
        "reactive",
        "nonreactive",
        "non-reactive",
        "normal",
        "abnormal",
    }
)


@dataclass(frozen=True)
class Range:
    text: str
    low: float | None = None
    high: float | None = None
    # False when the range itself is written with a strict bound ("<200": 200 is high).
    low_inclusive: bool = True
    high_inclusive: bool = True
    critical_low: float | None = None
    critical_high: float | None = None
    expected: frozenset[str] = frozenset()

    def with_critical(self, low: float | None, high: float | None) -> Range:
        return replace(self, critical_low=low, critical_high=high)


def _words(text: str) -> frozenset[str]:
    return frozenset(w.strip().casefold() for w in re.split(r"[/,;]|\bor\b", text) if w.strip())


def parse_range(text: str | None) -> Range | None:
    """`70-100`, `<200`, `>=40`, or qualitative (`negative`, `negative/trace`); None otherwise."""
    if text is None or not text.strip():
        return None
    clean = text.strip()
    if m := _INTERVAL.match(clean):
        low, high = float(m.group(1)), float(m.group(2))
        return Range(clean, low=low, high=high) if low <= high else None
    if m := _BOUND.match(clean):
        op, value = _OPERATORS.get(m.group(1), m.group(1)), float(m.group(2))
        if op.startswith("<"):
            return Range(clean, high=value, high_inclusive=op == "<=")
        return Range(clean, low=value, low_inclusive=op == ">=")
    words = _words(clean)
    if words and words <= QUALITATIVE:
        return Range(clean, expected=words)
    return None


def parse_result(result: str) -> tuple[str, float] | None:
    """(operator, value) of a numeric result: `=` for a plain number, else its comparator."""
    m = _RESULT.match(result.strip())
    if not m:
        return None
    value = float(m.group(2))
    if not math.isfinite(value):
        return None
    return _OPERATORS.get(m.group(1) or "=", m.group(1) or "="), value


def numeric_value(result: str) -> float | None:
    """The number of a plain numeric result (not of `<0.01`), for queries."""
    parsed = parse_result(result)
    return parsed[1] if parsed and parsed[0] == "=" else None


def _below(op: str, value: float, limit: float, closed: bool) -> bool:
    """Whether every value the result allows lies below `limit` (at it too when `closed`)."""
    if op in ("=", "<"):
        return value < limit or (value == limit and (closed or op == "<"))
    if op == "<=":
        return value < limit or (value == limit and closed)
    return False


def _above(op: str, value: float, limit: float, closed: bool) -> bool:
    if op in ("=", ">"):
        return value > limit or (value == limit and (closed or op == ">"))
    if op == ">=":
        return value > limit or (value == limit and closed)
    return False


def flag(result: str, reference: Range | None) -> str | None:
    if reference is None:
        return None
    parsed = parse_result(result)
    if parsed is None:
        word = " ".join(result.split()).casefold()
        if reference.expected and word in QUALITATIVE and word not in reference.expected:
            return "A"
        return None
    op, value = parsed
    r = reference
    if r.critical_low is not None and _below(op, value, r.critical_low, closed=False):
        return "LL"
    if r.critical_high is not None and _above(op, value, r.critical_high, closed=False):
        return "HH"
    if r.low is not None and _below(op, value, r.low, closed=not r.low_inclusive):
        return "L"
    if r.high is not None and _above(op, value, r.high, closed=not r.high_inclusive):
        return "H"
    return None
