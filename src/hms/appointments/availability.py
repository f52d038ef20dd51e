"""When a provider can be seen: its weekly hours in its own time zone, minus its days off, and
the free slots of a provider's schedule."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hms.appointments.models import ProviderDayOff, ProviderWorkingHours
from hms.appointments.schemas import WEEKDAYS

Interval = tuple[datetime, datetime]

# Without a weekly template a provider works 08:00-17:00 every day in its time zone, which is
# UTC until one is set: the contract's default for a provider nobody has configured.
DEFAULT_ZONE = "UTC"
DEFAULT_DAY = (time(8), time(17))


@dataclass(frozen=True)
class Availability:
    time_zone: str
    configured: bool
    hours: dict[int, list[tuple[time, time]]]  # weekday (Monday 0) -> local intervals
    days_off: frozenset[date]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def local_date(self, instant: datetime) -> date:
        return instant.astimezone(self.zone).date()

    def bounds(self, first: date, last: date) -> Interval:
        """From local midnight of `first` to local midnight after `last`, in UTC."""
        start = datetime.combine(first, time(0), self.zone).astimezone(UTC)
        end = datetime.combine(last + timedelta(days=1), time(0), self.zone).astimezone(UTC)
        return start, end

    def windows(self, first: date, last: date) -> list[Interval]:
        """The working intervals of the local days `first`..`last`, in UTC."""
        out: list[Interval] = []
        day = first
        while day <= last:
            if day not in self.days_off:
                for start, end in self.hours.get(day.weekday(), ()):
                    # Wall-clock times in the provider's zone: a 09:00 start stays 09:00 across
                    # daylight-saving changes, so its UTC instant moves with them.
                    utc_start = datetime.combine(day, start, self.zone).astimezone(UTC)
                    utc_end = datetime.combine(day, end, self.zone).astimezone(UTC)
                    if utc_end > utc_start:
                        out.append((utc_start, utc_end))
            day += timedelta(days=1)
        return sorted(out)

    def covers(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) lies within one working interval (shifts never cross midnight)."""
        day = self.local_date(start)
        return any(ws <= start and end <= we for ws, we in self.windows(day, day))


def default_hours() -> dict[int, list[tuple[time, time]]]:
    return {weekday: [DEFAULT_DAY] for weekday in range(7)}


def template_hours(hours: Iterable[dict[str, str]]) -> dict[int, list[tuple[time, time]]]:
    out: dict[int, list[tuple[time, time]]] = {}
    for item in hours:
        interval = (time.fromisoformat(item["start_time"]), time.fromisoformat(item["end_time"]))
        out.setdefault(WEEKDAYS.index(item["weekday"]), []).append(interval)
    return {weekday: sorted(intervals) for weekday, intervals in out.items()}


async def load_availability(
    session: AsyncSession, provider_id: uuid.UUID, *, first: date, last: date
) -> Availability:
    """The provider's availability, with the days off that may fall between `first` and `last`
    (UTC dates; a day either side is read, since local dates can differ from UTC ones)."""
    row = await session.get(ProviderWorkingHours, provider_id)
    days_off = await session.execute(
        select(ProviderDayOff.day).where(
            ProviderDayOff.provider_id == provider_id,
            ProviderDayOff.day >= first - timedelta(days=1),
            ProviderDayOff.day <= last + timedelta(days=1),
        )
    )
    configured = row is not None and bool(row.hours)
    return Availability(
        time_zone=row.time_zone if row is not None else DEFAULT_ZONE,
        configured=configured,
        hours=template_hours(row.hours) if row is not None and configured else default_hours(),
        days_off=frozenset(days_off.scalars()),
    )


def free_slots(windows: list[Interval], busy: list[Interval], minutes: int) -> list[Interval]:
    """The working windows cut into slots of `minutes` from each window's start, leaving out
    every slot that touches booked time."""
    step = timedelta(minutes=minutes)
    booked = sorted(busy)
    out: list[Interval] = []
    i = 0
    for window_start, window_end in windows:
        slot = window_start
        while slot + step <= window_end:
            slot_end = slot + step
            # Bookings that end before this slot can be skipped for good: slots only move later.
            while i < len(booked) and booked[i][1] <= slot:
                i += 1
            if not any(bs < slot_end and slot < be for bs, be in _from(booked, i, slot_end)):
                out.append((slot, slot_end))
            slot = slot_end
    return out


def _from(booked: list[Interval], i: int, before: datetime) -> Iterable[Interval]:
    for interval in booked[i:]:
        if interval[0] >= before:
            return
        yield interval
