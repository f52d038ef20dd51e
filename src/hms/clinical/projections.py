"""The queryable copies of a note's numbers: its vital signs and coded diagnoses in tables of
their own, rewritten with the note in the same transaction, so they never disagree with it.

An encounter marked entered in error keeps its note (and history) but leaves these tables:
analytics must not count a reading or a diagnosis that was never true.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from hms.analytics import summaries
from hms.clinical import coding, vitals
from hms.clinical.models import Diagnosis, Encounter, VitalSignsReading


async def refresh(session: AsyncSession, encounter: Encounter) -> None:
    for table in (VitalSignsReading, Diagnosis):
        await session.execute(delete(table).where(table.encounter_id == encounter.id))
    if encounter.status != "entered_in_error":
        _add_projections(session, encounter)
    await session.flush()
    # The patient's first coded diagnosis of a condition may have come or gone.
    await summaries.refresh_patient(session, encounter.patient_id)


def _add_projections(session: AsyncSession, encounter: Encounter) -> None:
    reading = vitals.reading(encounter.physical_examination.get("vital_signs"))
    if not reading.is_empty:
        session.add(
            VitalSignsReading(
                patient_id=encounter.patient_id,
                encounter_id=encounter.id,
                recorded_at=encounter.encounter_date,
                systolic=reading.systolic,
                diastolic=reading.diastolic,
                heart_rate=reading.heart_rate,
                respiratory_rate=reading.respiratory_rate,
                temperature_c=reading.temperature_c,
                oxygen_saturation=reading.oxygen_saturation,
            )
        )
    for position, entry in enumerate(encounter.diagnoses):
        session.add(
            Diagnosis(
                patient_id=encounter.patient_id,
                encounter_id=encounter.id,
                position=position,
                code=entry["code"],
                description=entry.get("description") or coding.describe(entry["code"]),
                type=entry.get("type"),
                confirmed=bool(entry.get("confirmed", True)),
                encounter_date=encounter.encounter_date,
            )
        )
