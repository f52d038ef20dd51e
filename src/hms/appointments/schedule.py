"""A provider's schedule for some days: its appointments and the slots still free."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hms.appointments import records
from hms.appointments.availability import Availability, Interval, free_slots, load_availability
from hms.appointments.models import FREEING_STATUSES, Appointment
from hms.appointments.queries import check_day
from hms.auth.permissions import Actor, Permission
from hms.errors import ValidationFailed
from hms.patients.models import Patient
from hms.providers.models import Provider
from hms.providers.service import get_provider

MAX_DAYS = 31
SLOT_MINUTES = (5, 480)


@dataclass(frozen=True)
class ScheduledVisit:
    appointment: Appointment
    patient_name: str


@dataclass(frozen=True)
class Schedule:
    provider: Provider
    start_date: date
    end_date: date
    duration: int
    availability: Availability
    visits: list[ScheduledVisit]
    slots: list[Interval]


async def provider_schedule(
    session: AsyncSession,
    *,
    actor: Actor,
    provider_id: uuid.UUID | None,
    start_date: date,
    end_date: date | None = None,
    duration: int = 30,
) -> Schedule:
    """The provider's (by default the signed-in clinician's) appointments on the local days
    `start_date`..`end_date` of its time zone, cancelled ones left out, and its working hours
    cut into slots of `duration` minutes minus the booked time. A patient user sees every free
    slot but only its own appointments."""
    actor.require(Permission.APPOINTMENTS_READ)
    provider_id = provider_id or actor.provider_id
    if provider_id is None:
        raise ValidationFailed("provider_id", "Field required")
    end_date = end_date or start_date
    if not SLOT_MINUTES[0] <= duration <= SLOT_MINUTES[1]:
        raise ValidationFailed("duration", "Slots last from 5 to 480 minutes")
    check_day("start_date", start_date)
    check_day("end_date", end_date)
    if end_date < start_date:
        raise ValidationFailed("end_date", "end_date must not be before start_date")
    if (end_date - start_date).days >= MAX_DAYS:
        raise ValidationFailed("end_date", f"A schedule covers at most {MAX_DAYS} days")
    provider = await get_provider(session, actor=actor, ref=str(provider_id))
    availability = await load_availability(session, provider.id, first=start_date, last=end_date)
    range_start, range_end = availability.bounds(start_date, end_date)
    in_range = (
        (Appointment.provider_id == provider.id)
        & (Appointment.start_datetime < range_end)
        & (Appointment.end_datetime > range_start)
    )
    # Busy time is read without patient data: it is every patient's booking, whoever asks.
    busy = await session.execute(
        select(Appointment.start_datetime, Appointment.end_datetime).where(
            in_range, Appointment.status.not_in(FREEING_STATUSES)
        )
    )
    rows = await session.execute(
        select(Appointment, Patient.first_name, Patient.last_name)
        .join(Patient, Patient.id == Appointment.patient_id)
        .where(in_range, Appointment.status != "cancelled", records.appointment_scope(actor))
        .order_by(Appointment.start_datetime, Appointment.id)
    )
    visits = [ScheduledVisit(a, f"{first} {last}") for a, first, last in rows.tuples()]
    for visit in visits:
        records.record(session, actor, "appointment.schedule", visit.appointment)
    windows = availability.windows(start_date, end_date)
    return Schedule(
        provider=provider,
        start_date=start_date,
        end_date=end_date,
        duration=duration,
        availability=availability,
        visits=visits,
        slots=free_slots(windows, [(s, e) for s, e in busy.tuples()], duration),
    )
