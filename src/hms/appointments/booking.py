"""Booking and rescheduling: the times, the provider's working hours, and no double booking."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hms.appointments import records
from hms.appointments.availability import load_availability
from hms.appointments.models import Appointment
from hms.appointments.schemas import (
    REQUIRED_FIELDS,
    SELF_SERVICE_FIELDS,
    AppointmentCreate,
    AppointmentUpdate,
)
from hms.auth.permissions import Actor, Permission, Role
from hms.errors import Conflict, Forbidden, ValidationFailed
from hms.numbering import next_number
from hms.patients.service import load_patient
from hms.providers.models import Provider

MINUTE = timedelta(minutes=1)
# What a patient may send when booking through the portal; the rest is the clinic's to set.
PATIENT_BOOKING_FIELDS = frozenset(
    {
        "patient_id",
        "provider_id",
        "appointment_type",
        "start_datetime",
        "end_datetime",
        "duration",
        "reason",
        "status",
        "reminder_method",
        "telehealth",
    }
)
TIMING_FIELDS = frozenset({"provider_id", "start_datetime", "end_datetime", "duration"})


def resolve_times(
    start: datetime, end: datetime | None, duration: int | None
) -> tuple[datetime, datetime, int]:
    """Start, end and whole minutes between them; the end comes from the duration if absent."""
    if end is None:
        if duration is None:
            raise ValidationFailed("end_datetime", "Give end_datetime or duration")
        end = start + duration * MINUTE
    if end <= start:
        raise ValidationFailed("end_datetime", "end_datetime must be after start_datetime")
    minutes, rest = divmod(end - start, MINUTE)
    if rest:
        raise ValidationFailed("end_datetime", "The appointment must last whole minutes")
    if duration is not None and duration != minutes:
        raise ValidationFailed(
            "duration", f"duration is {duration} minutes but the times are {minutes} minutes apart"
        )
    if minutes > 1440:
        raise ValidationFailed("end_datetime", "An appointment lasts at most 24 hours")
    return start, end, minutes


async def book_appointment(
    session: AsyncSession, *, actor: Actor, data: AppointmentCreate
) -> Appointment:
    actor.require(Permission.APPOINTMENTS_WRITE)
    if actor.is_patient and (denied := sorted(data.model_fields_set - PATIENT_BOOKING_FIELDS)):
        raise Forbidden(f"Patients may not set {', '.join(denied)} when booking")
    patient_ref = data.patient_id or (str(actor.patient_scope) if actor.is_patient else None)
    if patient_ref is None:
        raise ValidationFailed("patient_id", "Field required")
    patient = await load_patient(session, actor=actor, ref=patient_ref)
    if not patient.is_active:
        raise Conflict("The patient is deactivated; it cannot be booked")
    provider = await _provider(session, data.provider_id or actor.provider_id)
    start, end, duration = resolve_times(data.start_datetime, data.end_datetime, data.duration)
    overridden = await _check_working_hours(
        session, actor, provider, start, end, override=data.override_working_hours
    )
    values = data.model_dump(
        exclude={"patient_id", "provider_id", "start_datetime", "end_datetime", "duration"}
        | {"override_working_hours", "status"}
    )
    appointment = Appointment(
        id=uuid.uuid4(),
        patient_id=patient.id,
        provider_id=provider.id,
        start_datetime=start,
        end_datetime=end,
        duration=duration,
        status="scheduled",
        **values,
    )
    appointment.appointment_number = await next_number(session, "APT")
    session.add(appointment)
    await records.save(session)
    details = {"override_working_hours": True} if overridden else None
    records.record(session, actor, "appointment.create", appointment, details)
    records.emit(session, "appointment_scheduled", appointment)
    return appointment


async def update_appointment(
    session: AsyncSession,
    *,
    actor: Actor,
    ref: str,
    data: AppointmentUpdate,
    expected_version: int | None = None,
) -> Appointment:
    actor.require(Permission.APPOINTMENTS_WRITE)
    appointment = await records.load_appointment(session, actor=actor, ref=ref)
    records.check_version(appointment, expected_version)
    changes = data.model_dump(exclude_unset=True)
    override = bool(changes.pop("override_working_hours", False))
    for name in REQUIRED_FIELDS:
        if name in changes and changes[name] is None:
            raise ValidationFailed(name, "This field cannot be empty")
    if actor.is_patient and (denied := sorted(set(changes) - SELF_SERVICE_FIELDS)):
        raise Forbidden(f"Patients may change only the time and reason, not {', '.join(denied)}")
    status = changes.pop("status", None)
    if status is not None and status != appointment.status:
        raise ValidationFailed(
            "status",
            "Change the status with POST /api/v1/appointments/{id}/check-in, /complete, "
            "/no-show or /cancel",
        )
    if appointment.status in ("completed", "cancelled", "no_show"):
        raise Conflict(f"A {appointment.status} appointment can no longer be changed")
    details: dict[str, Any] = {"fields": sorted(changes)}
    if TIMING_FIELDS & set(changes):
        if appointment.status != "scheduled":
            raise Conflict("Only a scheduled appointment can be moved")
        provider = await _provider(session, changes.pop("provider_id", appointment.provider_id))
        if "end_datetime" in changes:
            end, duration = changes.pop("end_datetime"), changes.pop("duration", None)
        else:
            end, duration = None, changes.pop("duration", appointment.duration)
        start = changes.pop("start_datetime", appointment.start_datetime)
        start, end, duration = resolve_times(start, end, duration)
        if await _check_working_hours(session, actor, provider, start, end, override=override):
            details["override_working_hours"] = True
        appointment.provider_id = provider.id
        appointment.start_datetime, appointment.end_datetime = start, end
        appointment.duration = duration
    for name, value in changes.items():
        setattr(appointment, name, value)
    await records.save(session)
    records.record(session, actor, "appointment.update", appointment, details)
    records.emit(session, "appointment_updated", appointment)
    return appointment


async def _provider(session: AsyncSession, provider_id: uuid.UUID | None) -> Provider:
    if provider_id is None:
        raise ValidationFailed("provider_id", "Name the provider: you have no provider record")
    provider = await session.get(Provider, provider_id)
    if provider is None:
        raise ValidationFailed("provider_id", "No such provider")
    if not provider.is_active:
        raise ValidationFailed("provider_id", "This provider is deactivated")
    return provider


async def _check_working_hours(
    session: AsyncSession,
    actor: Actor,
    provider: Provider,
    start: datetime,
    end: datetime,
    *,
    override: bool,
) -> bool:
    """Refuse a time outside the provider's hours (422) unless an administrator or the provider
    itself overrides. True when the override was needed, so that it is audited."""
    if override and actor.role != Role.ADMIN and actor.provider_id != provider.id:
        raise Forbidden("Only administrators and the provider itself may book outside its hours")
    availability = await load_availability(
        session, provider.id, first=start.date(), last=end.date()
    )
    if availability.covers(start, end):
        return False
    if override:
        return True
    day = availability.local_date(start)
    why = "a day off" if day in availability.days_off else "outside the working hours"
    raise ValidationFailed(
        "start_datetime",
        f"The time is {why} of the provider ({availability.time_zone}); "
        "see GET /api/v1/providers/{provider_id}/working-hours",
    )
