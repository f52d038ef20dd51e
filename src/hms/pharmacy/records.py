"""What every prescription operation shares: whose prescriptions an actor reaches, loading one
by id or number, its status as of now, and the audit and event trail."""

from __future__ import annotations

import calendar
import re
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hms import events
from hms.access import scoping
from hms.audit import service as audit
from hms.auth.permissions import Actor
from hms.db import utcnow
from hms.errors import NotFound, PreconditionFailed
from hms.pharmacy.models import Prescription

NUMBER_PATTERN = re.compile(r"^RX\d{8,}$")
# Statuses that still allow fills, until `expires_at` passes.
LIVE_STATUSES = ("active", "on_hold")


def prescription_scope(actor: Actor) -> ColumnElement[bool]:
    """The prescriptions of the patients this actor reaches (see hms.access.scoping)."""
    return scoping.patient_condition(actor, Prescription.patient_id)


def reference_condition(ref: str) -> ColumnElement[bool]:
    """A path reference is either the prescription's UUID or its number (RX20240001)."""
    return scoping.reference(
        ref,
        Prescription.id,
        not_found="Prescription not found",
        number_column=Prescription.prescription_number,
        number_pattern=NUMBER_PATTERN,
    )


async def load_prescription(session: AsyncSession, *, actor: Actor, ref: str) -> Prescription:
    """A prescription this actor may reach, without auditing. Another patient's is a 404."""
    row = await session.execute(
        select(Prescription).where(reference_condition(ref), prescription_scope(actor))
    )
    prescription = row.scalar_one_or_none()
    if prescription is None:
        raise NotFound("Prescription not found")
    return prescription


def current_status(prescription: Prescription, now: datetime | None = None) -> str:
    """The stored status, except that a live prescription past `expires_at` is expired."""
    now = now or utcnow()
    if prescription.status in LIVE_STATUSES and prescription.expires_at <= now:
        return "expired"
    return prescription.status


def status_condition(status: str, now: datetime) -> ColumnElement[bool]:
    """Prescriptions whose `current_status` is `status`."""
    live = Prescription.status.in_(LIVE_STATUSES)
    if status == "expired":
        return or_(Prescription.status == "expired", live & (Prescription.expires_at <= now))
    if status in LIVE_STATUSES:
        return (Prescription.status == status) & (Prescription.expires_at > now)
    return Prescription.status == status


def six_months_after(moment: datetime) -> datetime:
    """The same day and time six months later (the month's last day when it has no such day)."""
    month = moment.month + 6
    year, month = moment.year + (month - 1) // 12, (month - 1) % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def check_version(prescription: Prescription, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != prescription.version:
        raise PreconditionFailed(
            "The prescription was changed since you read it; fetch it again and retry",
            details={"current_etag": f'"{prescription.version}"'},
        )


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    prescription: Prescription,
    details: dict[str, Any] | None = None,
) -> None:
    # Identifiers, statuses and alert ids only: drug names and notes stay out of the trail.
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="prescription",
        resource_id=prescription.id,
        patient_id=prescription.patient_id,
        details=details,
    )


def summary(prescription: Prescription) -> dict[str, Any]:
    return {
        "id": str(prescription.id),
        "prescription_number": prescription.prescription_number,
        "patient_id": str(prescription.patient_id),
        "provider_id": str(prescription.provider_id),
        "medication": prescription.medication,
        "status": current_status(prescription),
        "refills": {
            "authorized": prescription.refills_authorized,
            "remaining": prescription.refills_remaining,
        },
        "fill_count": prescription.fill_count,
        "controlled_substance": prescription.controlled_substance,
        "expires_at": prescription.expires_at.isoformat().replace("+00:00", "Z"),
    }


def emit(session: AsyncSession, kind: str, prescription: Prescription, **extra: Any) -> None:
    events.emit(
        session,
        events.DomainEvent(
            type=kind,
            resource_type="prescription",
            resource_id=str(prescription.id),
            patient_id=str(prescription.patient_id),
            data={"prescription": summary(prescription), **extra},
        ),
    )
