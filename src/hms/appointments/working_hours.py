"""Providers' working hours (a weekly template in their time zone) and days off. Anyone who
books may read them; administrators and the provider itself change them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from hms.appointments.availability import DEFAULT_DAY, DEFAULT_ZONE
from hms.appointments.models import ProviderDayOff, ProviderWorkingHours
from hms.appointments.schemas import WEEKDAYS, DayOffCreate, WorkingHoursUpdate
from hms.audit import service as audit
from hms.auth.permissions import Actor, Permission
from hms.db import utcnow
from hms.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from hms.providers.models import Provider
from hms.providers.service import get_provider


@dataclass(frozen=True)
class WorkingHours:
    provider: Provider
    template: ProviderWorkingHours | None
    days_off: list[ProviderDayOff]

    @property
    def version(self) -> int:
        return self.template.version if self.template else 0

    @property
    def configured(self) -> bool:
        return self.template is not None and bool(self.template.hours)

    @property
    def time_zone(self) -> str:
        return self.template.time_zone if self.template else DEFAULT_ZONE

    @property
    def hours(self) -> list[dict[str, str]]:
        if self.template is not None and self.template.hours:
            return self.template.hours
        start, end = (t.strftime("%H:%M") for t in DEFAULT_DAY)
        return [{"weekday": day, "start_time": start, "end_time": end} for day in WEEKDAYS]


async def get_working_hours(
    session: AsyncSession, *, actor: Actor, provider_ref: str
) -> WorkingHours:
    provider = await get_provider(session, actor=actor, ref=provider_ref)
    return await _load(session, provider)


async def update_working_hours(
    session: AsyncSession,
    *,
    actor: Actor,
    provider_ref: str,
    data: WorkingHoursUpdate,
    expected_version: int | None = None,
) -> WorkingHours:
    """Change the time zone and/or replace the weekly template. Appointments already booked
    stay as they are, even where they now fall outside the hours."""
    provider = await _managed_provider(session, actor, provider_ref)
    template = await _writable_template(session, provider, expected_version)
    changes = data.model_dump(exclude_unset=True)
    for name in ("time_zone", "hours"):
        if name in changes and changes[name] is None:
            raise ValidationFailed(name, "This field cannot be empty")
    if data.time_zone is not None:
        template.time_zone = data.time_zone
    if data.hours is not None:
        template.hours = [
            {
                "weekday": item.weekday,
                "start_time": item.start_time.strftime("%H:%M"),
                "end_time": item.end_time.strftime("%H:%M"),
            }
            for item in sorted(data.hours, key=lambda i: (WEEKDAYS.index(i.weekday), i.start_time))
        ]
    await _flush(session)
    _audit(session, actor, "provider.working_hours.update", provider, {"fields": sorted(changes)})
    return await _load(session, provider)


async def add_day_off(
    session: AsyncSession,
    *,
    actor: Actor,
    provider_ref: str,
    data: DayOffCreate,
    expected_version: int | None = None,
) -> WorkingHours:
    """A day (in the provider's time zone) on which it cannot be booked. Appointments already on
    that day are not cancelled: the clinic reschedules them."""
    provider = await _managed_provider(session, actor, provider_ref)
    template = await _writable_template(session, provider, expected_version)
    if await _day_off(session, provider.id, data.date) is not None:
        raise Conflict(f"{data.date} is already a day off")
    session.add(
        ProviderDayOff(id=uuid.uuid4(), provider_id=provider.id, day=data.date, reason=data.reason)
    )
    template.updated_at = utcnow()
    await _flush(session)
    _audit(session, actor, "provider.day_off.add", provider, {"date": data.date.isoformat()})
    return await _load(session, provider)


async def remove_day_off(
    session: AsyncSession,
    *,
    actor: Actor,
    provider_ref: str,
    day: date,
    expected_version: int | None = None,
) -> None:
    provider = await _managed_provider(session, actor, provider_ref)
    template = await _writable_template(session, provider, expected_version)
    day_off = await _day_off(session, provider.id, day)
    if day_off is None:
        raise NotFound(f"{day} is not a day off")
    await session.delete(day_off)
    template.updated_at = utcnow()
    await _flush(session)
    _audit(session, actor, "provider.day_off.remove", provider, {"date": day.isoformat()})


async def _managed_provider(session: AsyncSession, actor: Actor, ref: str) -> Provider:
    provider = await get_provider(session, actor=actor, ref=ref)
    if actor.provider_id != provider.id:
        actor.require(Permission.PROVIDERS_WRITE)
    return provider


async def _writable_template(
    session: AsyncSession, provider: Provider, expected_version: int | None
) -> ProviderWorkingHours:
    """The provider's template row, created on first change. Every change, days off included,
    advances its version, which is the ETag of the whole working-hours document."""
    template = await session.get(ProviderWorkingHours, provider.id)
    current = template.version if template else 0
    if expected_version is not None and expected_version != current:
        raise PreconditionFailed(
            "The working hours were changed since you read them; fetch them again",
            details={"current_etag": f'"{current}"'},
        )
    if template is None:
        template = ProviderWorkingHours(provider_id=provider.id, time_zone=DEFAULT_ZONE, hours=[])
        session.add(template)
    return template


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except StaleDataError:
        raise PreconditionFailed("The working hours were changed by another request") from None


async def _load(session: AsyncSession, provider: Provider) -> WorkingHours:
    template = await session.get(ProviderWorkingHours, provider.id)
    days_off = await session.execute(
        select(ProviderDayOff)
        .where(ProviderDayOff.provider_id == provider.id)
        .order_by(ProviderDayOff.day)
    )
    return WorkingHours(provider, template, list(days_off.scalars()))


async def _day_off(
    session: AsyncSession, provider_id: uuid.UUID, day: date
) -> ProviderDayOff | None:
    row = await session.execute(
        select(ProviderDayOff).where(
            ProviderDayOff.provider_id == provider_id, ProviderDayOff.day == day
        )
    )
    return row.scalar_one_or_none()


def _audit(
    session: AsyncSession, actor: Actor, action: str, provider: Provider, details: dict[str, object]
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="provider",
        resource_id=provider.id,
        details=details,
    )
