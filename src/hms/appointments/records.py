"""What every appointment operation shares: whose appointments an actor reaches, loading one by
id or number, saving with the database's overlap guards, and the audit and event trail."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from hms import events
from hms.access import scoping
from hms.appointments.models import Appointment
from hms.appointments.schemas import AppointmentSummary
from hms.audit import service as audit
from hms.auth.permissions import Actor
from hms.errors import Conflict, NotFound, PreconditionFailed

NUMBER_PATTERN = re.compile(r"^APT\d{8,}$")

# The names of the exclusion constraints (PostgreSQL) and of the trigger errors (SQLite) that
# refuse overlapping appointments; see the migration that creates them.
OVERLAP_GUARDS = {
    "appointments_provider_overlap": "The provider already has an appointment at this time",
    "appointments_patient_overlap": "The patient already has an appointment at this time",
}


def appointment_scope(actor: Actor) -> ColumnElement[bool]:
    """The appointments of the patients this actor reaches (see hms.access.scoping)."""
    return scoping.patient_condition(actor, Appointment.patient_id)


def reference_condition(ref: str) -> ColumnElement[bool]:
    """A path reference is either the appointment's UUID or its number (APT20240001)."""
    return scoping.reference(
        ref,
        Appointment.id,
        not_found="Appointment not found",
        number_column=Appointment.appointment_number,
        number_pattern=NUMBER_PATTERN,
    )


async def load_appointment(session: AsyncSession, *, actor: Actor, ref: str) -> Appointment:
    """An appointment this actor may reach, without auditing. Another patient's is a 404."""
    row = await session.execute(
        select(Appointment).where(reference_condition(ref), appointment_scope(actor))
    )
    appointment = row.scalar_one_or_none()
    if appointment is None:
        raise NotFound("Appointment not found")
    return appointment


def check_version(appointment: Appointment, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != appointment.version:
        raise PreconditionFailed(
            "The appointment was changed since you read it; fetch it again and retry",
            details={"current_etag": f'"{appointment.version}"'},
        )


async def save(session: AsyncSession) -> None:
    """Flush, turning the database's refusal of an overlapping booking into a 409.

    The check is the database's own (exclusion constraints on PostgreSQL, triggers on SQLite),
    so two requests for the same time arriving together cannot both succeed.
    """
    try:
        await session.flush()
    except StaleDataError:
        raise PreconditionFailed("The appointment was changed by another request; retry") from None
    except IntegrityError as exc:
        text = str(exc.orig)
        for guard, message in OVERLAP_GUARDS.items():
            if guard in text:
                reason = guard.removeprefix("appointments_")
                raise Conflict(message, details={"reason": reason}) from None
        raise


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    appointment: Appointment,
    details: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="appointment",
        resource_id=appointment.id,
        patient_id=appointment.patient_id,
        details=details,
    )


def summary(appointment: Appointment) -> dict[str, Any]:
    fields = {name: getattr(appointment, name) for name in AppointmentSummary.model_fields}
    return AppointmentSummary.model_validate(fields).model_dump(mode="json")


def emit(session: AsyncSession, kind: str, appointment: Appointment) -> None:
    events.emit(
        session,
        events.DomainEvent(
            type=kind,
            resource_type="appointment",
            resource_id=str(appointment.id),
            patient_id=str(appointment.patient_id),
            data={"appointment": summary(appointment)},
        ),
    )
