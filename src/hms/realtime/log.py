"""Reading and trimming the retained event log (events.emit writes it)."""

from __future__ import annotations

import dataclasses

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hms.events import DomainEvent
from hms.realtime.models import EventLogEntry

_FIELDS = {f.name for f in dataclasses.fields(DomainEvent)}


class GapTooOld(Exception):
    """The client's last event is older than what the log still holds."""

    def __init__(self, oldest: int | None) -> None:
        super().__init__(oldest)
        self.oldest = oldest


async def events_after(session: AsyncSession, since: int) -> list[DomainEvent]:
    """Every retained event after `since`, in order; GapTooOld if some were already trimmed."""
    oldest = (await session.execute(select(func.min(EventLogEntry.id)))).scalar_one_or_none()
    newest = (await session.execute(select(func.max(EventLogEntry.id)))).scalar_one_or_none()
    if since < 0 or (oldest is not None and since < oldest - 1):
        raise GapTooOld(oldest)
    if oldest is None or newest is None or since >= newest:
        return []
    rows = (
        await session.execute(
            select(EventLogEntry).where(EventLogEntry.id > since).order_by(EventLogEntry.id)
        )
    ).scalars()
    return [_event(row) for row in rows]


def _event(row: EventLogEntry) -> DomainEvent:
    values = {k: v for k, v in row.event.items() if k in _FIELDS}
    values["seq"] = row.id
    return DomainEvent(**values)


async def trim(session: AsyncSession, keep: int) -> int:
    """Keep the newest `keep` events; answer how many were removed."""
    newest = (await session.execute(select(func.max(EventLogEntry.id)))).scalar_one_or_none()
    if newest is None or newest <= keep:
        return 0
    result = await session.execute(delete(EventLogEntry).where(EventLogEntry.id <= newest - keep))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
