"""Date criteria for searches: a comparison with a stretch of time, as a query condition.

A date given as `2024`, `2024-03` or `2024-03-05` stands for the whole year, month or day, so
a criterion holds the stretch [start, end) and a comparison: `eq` (within it), `ne`, `lt`/`eb`
(before it starts), `le` (before it ends), `gt`/`sa` (after it ends) and `ge` (from its start).
This is how FHIR compares a point in time with a date of lower precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, not_, true

Comparison = Literal["eq", "ne", "lt", "le", "gt", "ge", "sa", "eb"]
COMPARISONS: tuple[Comparison, ...] = ("eq", "ne", "lt", "le", "gt", "ge", "sa", "eb")


@dataclass(frozen=True)
class DateCriterion:
    comparison: Comparison
    start: datetime
    end: datetime

    def condition(self, column: Any, *, as_date: bool = False) -> ColumnElement[bool]:
        """The condition on a timestamp column (or, `as_date`, on a date column)."""
        start: datetime | date = self.start.date() if as_date else self.start
        end: datetime | date = self.end.date() if as_date else self.end
        within = and_(column >= start, column < end)
        match self.comparison:
            case "eq":
                return within
            case "ne":
                return not_(within)
            case "lt" | "eb":
                return column < start
            case "le":
                return column < end
            case "gt" | "sa":
                return column >= end
            case "ge":
                return column >= start
        raise ValueError(self.comparison)

    def holds(self, moment: datetime) -> bool:
        """Whether a point in time meets the criterion (as `condition` would in a query)."""
        within = self.start <= moment < self.end
        return {
            "eq": within,
            "ne": not within,
            "lt": moment < self.start,
            "eb": moment < self.start,
            "le": moment < self.end,
            "gt": moment >= self.end,
            "sa": moment >= self.end,
            "ge": moment >= self.start,
        }[self.comparison]


def all_of(column: Any, criteria: tuple[DateCriterion, ...], *, as_date: bool = False) -> Any:
    """Every criterion on one column (a range is two of them: `ge` a start and `lt` an end)."""
    if not criteria:
        return true()
    return and_(*(c.condition(column, as_date=as_date) for c in criteria))
