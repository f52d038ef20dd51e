"""Running the interaction and allergy check against a patient's record: the medications
listed, the patient's current medications and its active prescriptions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hms.audit import service as audit
from hms.auth.permissions import Actor, Permission
from hms.db import utcnow
from hms.patients.models import Patient
from hms.patients.service import load_patient
from hms.pharmacy.interactions import CheckResult, Medication, check
from hms.pharmacy.knowledge import knowledge
from hms.pharmacy.models import Prescription
from hms.pharmacy.records import LIVE_STATUSES
from hms.pharmacy.schemas import InteractionCheckRequest

SOURCES = {"listed": "listed", "current": "current_medication", "prescription": "prescription"}


async def regimen(session: AsyncSession, patient: Patient) -> list[Medication]:
    """What the patient takes now: its recorded current medications, then the medications of
    its live, unexpired prescriptions."""
    found = [
        Medication(str(m.get("name")), "current")
        for m in patient.current_medications or []
        if isinstance(m, dict) and m.get("name")
    ]
    rows = await session.execute(
        select(Prescription.medication)
        .where(
            Prescription.patient_id == patient.id,
            Prescription.status.in_(LIVE_STATUSES),
            Prescription.expires_at > utcnow(),
        )
        .order_by(Prescription.date_written)
    )
    found += [Medication(str(m.get("name")), "prescription") for m in rows.scalars()]
    return found


async def check_new_prescription(
    session: AsyncSession, *, patient: Patient, medication: str
) -> CheckResult:
    """The alerts a new prescription raises against what the patient already takes."""
    medications = [Medication(medication), *await regimen(session, patient)]
    result = check(medications, list(patient.allergies or []), focus=0)
    # An alert is an allergy the new drug hits; the others are not news to the prescriber.
    result.allergies = [a for a in result.allergies if a["conflicts_with"]]
    return result


async def check_interactions(
    session: AsyncSession, *, actor: Actor, data: InteractionCheckRequest
) -> tuple[CheckResult, list[dict[str, Any]]]:
    """The check of the API's drug-interaction endpoint, and what it covered."""
    actor.require(Permission.PRESCRIPTIONS_READ)
    medications = [Medication(m.name) for m in data.medications]
    allergies: list[Any] = []
    patient = None
    if data.patient_id is not None:
        patient = await load_patient(session, actor=actor, ref=data.patient_id)
        medications += await regimen(session, patient)
        allergies = list(patient.allergies or [])
    result = check(medications, allergies)
    kb = knowledge()
    covered = [
        {"name": m.name, "source": SOURCES[m.source], "recognized": bool(kb.resolve(m.name))}
        for m in medications
    ]
    audit.record(
        session,
        actor=actor,
        action="drug_interaction.check",
        resource_type="patient" if patient else None,
        resource_id=patient.id if patient else None,
        patient_id=patient.id if patient else None,
        details={
            "medications": len(medications),
            "interactions": [i["id"] for i in result.interactions],
            "unchecked": len(result.unchecked),
        },
    )
    return result, covered
