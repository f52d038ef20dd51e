"""The period an analytics request asks about, and the one before it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from hms.errors import ValidationFailed

# The previous period and look-backs reach back from these dates; keep them inside what dates hold.
EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)


@dataclass(frozen=True)
class Period:
    """Whole days in UTC, both ends included: [start 00:00, the day after end 00:00)."""

    start: date
    end: date

    @classmethod
    def checked(cls, start: date, end: date) -> Period:
        for name, value in (("start_date", start), ("end_date", end)):
            if not EARLIEST <= value <= LATEST:
                raise ValidationFailed(name, f"Dates must lie between {EARLIEST} and {LATEST}")
        if start > end:
            raise ValidationFailed("start_date", "start_date must not be after end_date")
        return cls(start, end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time.min, UTC)

    @property
    def until(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time.min, UTC)

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier (28 February for a 29 February)."""
    year = day.year - years
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)
