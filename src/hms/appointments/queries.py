"""Reading appointments: one by id or number, and lists filtered by patient, provider, dates
and status. Every appointment returned is audited as a read of its patient's data."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hms.appointments import records
from hms.appointments.models import Appointment
from hms.appointments.schemas import EARLIEST, LATEST
from hms.auth.permissions import Actor, Permission
from hms.errors import ValidationFailed
from hms.patients import service as patients
from hms.periods import DateCriterion, all_of


@dataclass(frozen=True)
class AppointmentFilter:
    patient: str | None = None  # the patient's UUID or number
    provider_id: uuid.UUID | None = None
    start_date: date | None = None  # appointments starting on or after this UTC day
    end_date: date | None = None  # ... and on or before this one
    statuses: tuple[str, ...] = ()
    ids: Sequence[uuid.UUID] | None = None
    patient_ids: Sequence[uuid.UUID] | None = None
    starts: tuple[DateCriterion, ...] = ()  # of the start time


async def get_appointment(session: AsyncSession, *, actor: Actor, ref: str) -> Appointment:
    actor.require(Permission.APPOINTMENTS_READ)
    appointment = await records.load_appointment(session, actor=actor, ref=ref)
    records.record(session, actor, "appointment.read", appointment)
    return appointment


async def list_appointments(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: AppointmentFilter,
    limit: int | None,
    offset: int,
) -> tuple[list[Appointment], int]:
    """Appointments in start order; a patient user's list holds only its own."""
    actor.require(Permission.APPOINTMENTS_READ)
    where = records.appointment_scope(actor)
    for condition in _conditions(filters):
        where = where & condition
    total = (
        await session.execute(select(func.count()).select_from(Appointment).where(where))
    ).scalar_one()
    rows = await session.execute(
        select(Appointment)
        .where(where)
        .order_by(Appointment.start_datetime, Appointment.id)
        .limit(limit)
        .offset(offset)
    )
    appointments = list(rows.scalars())
    for appointment in appointments:
        records.record(session, actor, "appointment.list", appointment)
    return appointments, total


async def patient_appointments(
    session: AsyncSession,
    *,
    actor: Actor,
    patient_ref: str,
    filters: AppointmentFilter,
    limit: int,
    offset: int,
) -> tuple[list[Appointment], int]:
    """One patient's appointments; a patient that the actor may not reach is a 404."""
    actor.require(Permission.APPOINTMENTS_READ)
    patient = await patients.load_patient(session, actor=actor, ref=patient_ref)
    filters = AppointmentFilter(
        patient=str(patient.id),
        provider_id=filters.provider_id,
        start_date=filters.start_date,
        end_date=filters.end_date,
        statuses=filters.statuses,
    )
    return await list_appointments(
        session, actor=actor, filters=filters, limit=limit, offset=offset
    )


async def appointments_for_patients(
    session: AsyncSession, *, actor: Actor, patient_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Appointment]]:
    """Several patients' appointments in one query (start order), for batched readers such as
    GraphQL; the same scope and per-appointment audit as `list_appointments`."""
    actor.require(Permission.APPOINTMENTS_READ)
    found: dict[uuid.UUID, list[Appointment]] = {pid: [] for pid in patient_ids}
    if not patient_ids:
        return found
    rows = await session.execute(
        select(Appointment)
        .where(records.appointment_scope(actor), Appointment.patient_id.in_(patient_ids))
        .order_by(Appointment.start_datetime, Appointment.id)
    )
    for appointment in rows.scalars():
        found[appointment.patient_id].append(appointment)
        records.record(session, actor, "appointment.list", appointment)
    return found


def _conditions(filters: AppointmentFilter) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if filters.patient is not None:
        out.append(patients.named_by(Appointment.patient_id, filters.patient))
    if filters.provider_id is not None:
        out.append(Appointment.provider_id == filters.provider_id)
    for name in ("start_date", "end_date"):
        check_day(name, getattr(filters, name))
    if filters.start_date is not None:
        out.append(Appointment.start_datetime >= _midnight(filters.start_date))
    if filters.end_date is not None:
        if filters.start_date is not None and filters.end_date < filters.start_date:
            raise ValidationFailed("end_date", "end_date must not be before start_date")
        out.append(Appointment.start_datetime < _midnight(filters.end_date) + timedelta(days=1))
    if filters.statuses:
        out.append(Appointment.status.in_(filters.statuses))
    if filters.ids is not None:
        out.append(Appointment.id.in_(filters.ids))
    if filters.patient_ids is not None:
        out.append(Appointment.patient_id.in_(filters.patient_ids))
    out.append(all_of(Appointment.start_datetime, filters.starts))
    return out


def check_day(field: str, day: date | None) -> None:
    if day is not None and not EARLIEST <= day.year <= LATEST:
        raise ValidationFailed(field, f"Must be between the years {EARLIEST} and {LATEST}")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)
