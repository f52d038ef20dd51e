"""Clinical history for the demo hospital: a signed visit note per patient with its vitals and
coded diagnoses, and upcoming appointments, all written through the services."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from hms.appointments.booking import book_appointment
from hms.appointments.schemas import AppointmentCreate
from hms.auth.permissions import Actor, Role
from hms.clinical.schemas import EncounterCreate
from hms.clinical.service import create_encounter
from hms.db import commit
from hms.patients.models import Patient
from hms.runtime import Runtime

# The ICD-10-CM code a clinician would record for each demo condition.
CONDITION_CODES = {
    "Hypertension": ("I10", "Essential hypertension"),
    "Diabetes Type 2": ("E11.9", "Type 2 diabetes mellitus without complications"),
    "Asthma": ("J45.909", "Asthma, uncomplicated"),
    "Hyperlipidemia": ("E78.5", "Hyperlipidemia"),
    "Hypothyroidism": ("E03.9", "Hypothyroidism"),
    "Osteoarthritis": ("M19.90", "Osteoarthritis"),
    "Depression": ("F32.A", "Depression"),
    "GERD": ("K21.9", "Gastro-esophageal reflux disease"),
}


def visit_note(rng: random.Random, patient: Patient, when: datetime) -> EncounterCreate:
    coded = [CONDITION_CODES[c] for c in patient.medical_conditions if c in CONDITION_CODES]
    if not coded:
        coded = [("Z00.00", "General adult medical examination")]
    hypertensive = "Hypertension" in patient.medical_conditions
    systolic = rng.randint(128, 158) if hypertensive else rng.randint(104, 132)
    return EncounterCreate.model_validate(
        {
            "patient_id": str(patient.id),
            "encounter_type": "office_visit",
            "encounter_date": when,
            "location": "Main Clinic - Room 101",
            "chief_complaint": "Routine follow-up" if len(coded) else "Annual examination",
            "physical_examination": {
                "vital_signs": {
                    "blood_pressure": f"{systolic}/{rng.randint(64, min(systolic - 30, 96))}",
                    "heart_rate": rng.randint(58, 96),
                    "respiratory_rate": rng.randint(12, 18),
                    "temperature": round(rng.uniform(97.5, 99.1), 1),
                    "oxygen_saturation": rng.randint(95, 100),
                },
                "general": "Well-appearing, no acute distress",
            },
            "assessment": [
                {"condition": text, "icd10_code": code, "severity": "mild", "onset": "chronic"}
                for code, text in coded
            ],
            "plan": [
                {
                    "type": "follow_up",
                    "description": "Follow up in 3 months",
                    "reason": "Monitoring",
                }
            ],
            "diagnoses": [
                {
                    "code": code,
                    "description": text,
                    "type": "primary" if i == 0 else "secondary",
                    "confirmed": True,
                }
                for i, (code, text) in enumerate(coded)
            ],
        }
    )


async def load_history(
    runtime: Runtime, *, patients: list[Patient], doctor: dict[str, str], rng: random.Random
) -> tuple[int, int]:
    """One signed visit per patient in the last year, and a visit next week for some."""
    actor = Actor.for_user(
        user_id=uuid.UUID(doctor["id"]),
        role=Role.DOCTOR,
        username=doctor["username"],
        provider_id=uuid.UUID(doctor["provider_id"]),
    )
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    booked = 0
    async with runtime.sessionmaker() as session:
        for index, patient in enumerate(patients):
            when = now - timedelta(days=rng.randint(1, 360), hours=rng.randint(0, 6))
            await create_encounter(session, actor=actor, data=visit_note(rng, patient, when))
            if index % 3 == 0:
                day = (now + timedelta(days=7 + index // 24)).replace(hour=8)
                start = day + timedelta(minutes=30 * (index // 3 % 16))
                await book_appointment(
                    session,
                    actor=actor,
                    data=AppointmentCreate.model_validate(
                        {
                            "patient_id": str(patient.id),
                            "start_datetime": start,
                            "duration": 30,
                            "appointment_type": "office_visit",
                            "location": "Main Clinic - Room 101",
                            "reason": "Follow-up visit",
                        }
                    ),
                )
                booked += 1
        await commit(session)
    return len(patients), booked
