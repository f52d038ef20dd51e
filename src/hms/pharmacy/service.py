"""Prescriptions: write (sign), read, list, and move along their statuses. Every step checks the
permission map, audits with the patient and queues its event."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from hms.auth.permissions import Actor, Permission
from hms.db import utcnow
from hms.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from hms.numbering import next_number
from hms.patients.service import load_patient
from hms.periods import DateCriterion, all_of
from hms.pharmacy import checking, controlled, records
from hms.pharmacy.models import Prescription
from hms.pharmacy.schemas import PrescriptionCreate, PrescriptionUpdate
from hms.providers.models import Provider

CONTENT_FIELDS = (
    "medication",
    "dosage",
    "substitutions",
    "refills",
    "pharmacy",
    "diagnosis_codes",
    "notes",
    "controlled_substance",
    "schedule",
    "dea_number",
)
# Where each status may go; cancelled, completed and expired are final.
TRANSITIONS = {
    "active": frozenset({"on_hold", "cancelled", "completed", "expired"}),
    "on_hold": frozenset({"active", "cancelled", "expired"}),
}


async def create_prescription(
    session: AsyncSession, *, actor: Actor, data: PrescriptionCreate
) -> Prescription:
    actor.require(Permission.PRESCRIPTIONS_SIGN)
    try:
        patient = await load_patient(session, actor=actor, ref=data.patient_id)
    except NotFound:
        raise ValidationFailed("patient_id", "No such patient") from None
    if not patient.is_active:
        raise Conflict("The patient is deactivated; no prescription can be written")
    provider = await _prescriber(session, actor, data.provider_id)
    refills = data.refills
    if refills.remaining is not None and refills.remaining != refills.authorized:
        raise ValidationFailed(
            "refills.remaining", "A new prescription has all its authorized refills remaining"
        )
    schedule = controlled.schedule_of(data)
    # A DEA number sent with any prescription must be the prescriber's, never kept unchecked.
    needs_dea = schedule is not None or data.dea_number is not None
    dea = controlled.prescriber_dea(provider, data.dea_number) if needs_dea else None
    alerts = await checking.check_new_prescription(
        session, patient=patient, medication=data.medication.name
    )
    overridden = alerts.needing_override()
    if overridden and not data.override_reason:
        error = ValidationFailed(
            "override_reason",
            "This prescription is contraindicated with the patient's medications or allergies; "
            "give override_reason to prescribe it anyway",
        )
        error.details["alerts"] = asdict(alerts)
        raise error
    if schedule:
        # Last, so that a refused request does not spend the prescriber's code.
        await controlled.verify_second_factor(session, actor=actor, code=data.mfa_code)
    now = utcnow()
    prescription = Prescription(
        id=uuid.uuid4(),
        prescription_number=await next_number(session, "RX"),
        patient_id=patient.id,
        provider_id=provider.id,
        signed_by_user_id=actor.user_id,
        medication=data.medication.model_dump(mode="json"),
        dosage=data.dosage.model_dump(mode="json"),
        substitutions=data.substitutions,
        refills_authorized=refills.authorized,
        refills_remaining=refills.authorized,
        fill_count=0,
        pharmacy=data.pharmacy.model_dump(mode="json", exclude_none=True)
        if data.pharmacy
        else None,
        diagnosis_codes=list(data.diagnosis_codes),
        notes=data.notes,
        status="active",
        date_written=now,
        expires_at=records.six_months_after(now),
        controlled_substance=data.controlled_substance,
        schedule=schedule,
        dea_number=dea,
        alerts=asdict(alerts),
        override_reason=data.override_reason if overridden else None,
        created_at=now,
        updated_at=now,
    )
    session.add(prescription)
    await session.flush()
    records.record(
        session,
        actor,
        "prescription.create",
        prescription,
        {
            "controlled_substance": prescription.controlled_substance,
            "schedule": schedule,
            "alerts": [i["id"] for i in alerts.interactions],
        },
    )
    if overridden:
        records.record(
            session, actor, "prescription.alert_override", prescription, {"alerts": overridden}
        )
    records.emit(session, "prescription_created", prescription)
    return prescription


async def get_prescription(session: AsyncSession, *, actor: Actor, ref: str) -> Prescription:
    actor.require(Permission.PRESCRIPTIONS_READ)
    prescription = await records.load_prescription(session, actor=actor, ref=ref)
    records.record(session, actor, "prescription.read", prescription)
    return prescription


async def prescriptions_for_patients(
    session: AsyncSession, *, actor: Actor, patient_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Prescription]]:
    """Several patients' prescriptions in one query (newest first), for batched readers such as
    GraphQL; the same scope and per-prescription audit as `list_prescriptions`."""
    actor.require(Permission.PRESCRIPTIONS_READ)
    found: dict[uuid.UUID, list[Prescription]] = {pid: [] for pid in patient_ids}
    if not patient_ids:
        return found
    rows = await session.execute(
        select(Prescription)
        .where(records.prescription_scope(actor), Prescription.patient_id.in_(patient_ids))
        .order_by(Prescription.date_written.desc(), Prescription.id)
    )
    for prescription in rows.scalars():
        found[prescription.patient_id].append(prescription)
        records.record(session, actor, "prescription.list", prescription)
    return found


async def list_prescriptions(
    session: AsyncSession,
    *,
    actor: Actor,
    limit: int | None,
    offset: int,
    patient_ref: str | None = None,
    status: str | None = None,
    ids: Sequence[uuid.UUID] | None = None,
    patient_ids: Sequence[uuid.UUID] | None = None,
    statuses: Sequence[str] | None = None,
    dates: tuple[DateCriterion, ...] = (),
) -> tuple[list[Prescription], int]:
    """Newest first; for one patient (UUID or number) when asked, or narrowed to some ids,
    patients, statuses (as of now) or dates written."""
    actor.require(Permission.PRESCRIPTIONS_READ)
    where = records.prescription_scope(actor) & all_of(Prescription.date_written, dates)
    if ids is not None:
        where = where & Prescription.id.in_(ids)
    if patient_ids is not None:
        where = where & Prescription.patient_id.in_(patient_ids)
    if statuses is not None:
        now = utcnow()
        where = where & or_(false(), *(records.status_condition(s, now) for s in statuses))
    if patient_ref is not None:
        patient = await load_patient(session, actor=actor, ref=patient_ref)
        where = where & (Prescription.patient_id == patient.id)
    if status is not None:
        where = where & records.status_condition(status, utcnow())
    total = (
        await session.execute(select(func.count()).select_from(Prescription).where(where))
    ).scalar_one()
    rows = await session.execute(
        select(Prescription)
        .where(where)
        .order_by(Prescription.date_written.desc(), Prescription.id)
        .limit(limit)
        .offset(offset)
    )
    found = list(rows.scalars())
    for prescription in found:
        records.record(session, actor, "prescription.list", prescription)
    return found, total


async def update_prescription(
    session: AsyncSession,
    *,
    actor: Actor,
    ref: str,
    data: PrescriptionUpdate,
    expected_version: int | None = None,
) -> Prescription:
    """Change the status of a signed prescription; its clinical content is fixed."""
    if not (
        actor.can(Permission.PRESCRIPTIONS_SIGN) or actor.can(Permission.PRESCRIPTIONS_DISPENSE)
    ):
        actor.require(Permission.PRESCRIPTIONS_SIGN)
    prescription = await records.load_prescription(session, actor=actor, ref=ref)
    records.check_version(prescription, expected_version)
    changed = [
        name
        for name in CONTENT_FIELDS
        if name in data.model_fields_set and _differs(prescription, name, getattr(data, name))
    ]
    if changed:
        raise Conflict(
            "A signed prescription cannot be edited; cancel it and write a new one",
            details={"fields": changed},
        )
    current = records.current_status(prescription)
    target = data.status
    if target is None or target == current:
        records.record(session, actor, "prescription.update", prescription, {"unchanged": True})
        return prescription
    if target == "cancelled" and not actor.can(Permission.PRESCRIPTIONS_SIGN):
        raise Forbidden("Only a prescriber cancels a prescription")
    if target not in TRANSITIONS.get(current, frozenset()):
        raise Conflict(
            f"A {current} prescription cannot become {target}",
            details={"status": current, "target": target},
        )
    prescription.status = target
    prescription.status_reason = data.status_reason
    prescription.updated_at = utcnow()
    try:
        await session.flush()
    except StaleDataError:
        raise PreconditionFailed("The prescription was changed by another request; retry") from None
    records.record(
        session, actor, "prescription.update", prescription, {"from": current, "to": target}
    )
    records.emit(session, "prescription_updated", prescription)
    return prescription


def _differs(prescription: Prescription, name: str, value: Any) -> bool:
    if name == "refills":
        if value is None:  # `"refills": null` would clear them: a change of content
            return True
        sent = {"authorized": value.authorized, "remaining": value.remaining}
        stored = {
            "authorized": prescription.refills_authorized,
            "remaining": prescription.refills_remaining if value.remaining is not None else None,
        }
        return sent != stored
    if name == "pharmacy" and value is not None:
        value = value.model_dump(mode="json", exclude_none=True)
    elif hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    if name == "dea_number" and value is not None:
        value = value.upper()
    return bool(getattr(prescription, name) != value)


async def _prescriber(
    session: AsyncSession, actor: Actor, provider_id: uuid.UUID | None
) -> Provider:
    """The signed-in doctor's provider record: a prescription is signed by its prescriber."""
    if actor.provider_id is None:
        raise ValidationFailed("provider_id", "The signed-in user has no provider record")
    if provider_id is not None and provider_id != actor.provider_id:
        raise ValidationFailed(
            "provider_id", "A prescription is signed by its prescriber: name your own provider"
        )
    provider = await session.get(Provider, actor.provider_id)
    if provider is None or not provider.is_active:
        raise ValidationFailed("provider_id", "The prescriber's provider record is deactivated")
    return provider
