"""How analytics round: rates and percentages to one decimal, null over an empty denominator."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

ONE_DECIMAL = Decimal("0.1")


def _rounded(value: Decimal) -> float:
    # Half up, as people round by hand (12.25 -> 12.3), which binary floats would not do.
    return float(value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP))


def percent(part: int | Decimal, whole: int | Decimal) -> float | None:
    if not whole:
        return None
    return _rounded(Decimal(part) * 100 / Decimal(whole))


def growth(current: int | Decimal, previous: int | Decimal) -> float | None:
    """Change from the previous period in percent; null when the previous period had nothing."""
    if not previous:
        return None
    return _rounded((Decimal(current) - Decimal(previous)) * 100 / Decimal(previous))


def mean(total: int | Decimal | None, count: int) -> float | None:
    if not count or total is None:
        return None
    return _rounded(Decimal(total) / Decimal(count))
