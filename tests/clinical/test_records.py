"""The vital signs and diagnoses tables: the parsed numbers and codes of every encounter, kept
in step with the note, queryable by patient, period and code range without parsing JSON."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, select

from hms.auth.permissions import Role
from hms.clinical.models import Diagnosis, VitalSignsReading
from hms.models import Base
from hms.runtime import Runtime
from tests.clinical.support import (
    ENCOUNTERS,
    document,
    new_patient,
    seed_encounter,
    seed_update,
    staff,
)

CLINICAL_TABLES = {"encounters", "encounter_versions", "vital_signs", "diagnoses"}


async def vitals_of(runtime: Runtime, encounter_id: str) -> list[VitalSignsReading]:
    async with runtime.sessionmaker() as session:
        rows = await session.execute(
            select(VitalSignsReading).where(
                VitalSignsReading.encounter_id == uuid.UUID(encounter_id)
            )
        )
        return list(rows.scalars())


async def diagnoses_of(runtime: Runtime, encounter_id: str) -> list[Diagnosis]:
    async with runtime.sessionmaker() as session:
        rows = await session.execute(
            select(Diagnosis)
            .where(Diagnosis.encounter_id == uuid.UUID(encounter_id))
            .order_by(Diagnosis.position)
        )
        return list(rows.scalars())


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_create_and_update_keep_the_tables_in_step(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor)
    created = await document(client, doctor, patient["id"])

    [reading] = await vitals_of(runtime, created["id"])
    assert (reading.systolic, reading.diastolic) == (120, 80)
    assert (reading.heart_rate, reading.respiratory_rate) == (72, 16)
    assert reading.temperature_c == pytest.approx(37.0)  # 98.6 °F
    assert reading.oxygen_saturation == 98
    assert str(reading.patient_id) == patient["id"]
    assert reading.recorded_at == when(created["encounter_date"])
    [diagnosis] = await diagnoses_of(runtime, created["id"])
    assert (diagnosis.code, diagnosis.description, diagnosis.type, diagnosis.confirmed) == (
        "G44.1",
        "Tension headache",
        "primary",
        True,
    )
    assert str(diagnosis.patient_id) == patient["id"]
    assert diagnosis.encounter_date == when(created["encounter_date"])

    exam = seed_encounter(patient["id"])["physical_examination"]
    exam["vital_signs"] = {"blood_pressure": "150 / 95", "temperature": 38.4}
    response = await client.put(
        f"{ENCOUNTERS}/{created['id']}",
        json={
            "physical_examination": exam,
            "encounter_date": "2026-03-01T10:00:00Z",
            "diagnoses": [
                {"code": "I10", "type": "primary", "confirmed": True},
                {"code": "R51.9", "description": "Headache", "confirmed": False},
            ],
            "amendment_reason": "Repeat blood pressure reading; hypertension diagnosed",
        },
        headers=doctor.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["physical_examination"]["vital_signs"] == {
        "blood_pressure": "150/95",
        "temperature": 38.4,
    }
    [reading] = await vitals_of(runtime, created["id"])
    assert (reading.systolic, reading.diastolic, reading.temperature_c) == (150, 95, 38.4)
    assert reading.heart_rate is None and reading.oxygen_saturation is None
    assert reading.recorded_at == when("2026-03-01T10:00:00+00:00")
    rows = await diagnoses_of(runtime, created["id"])
    assert [(d.code, d.description, d.type, d.confirmed) for d in rows] == [
        ("I10", "Essential (primary) hypertension", "primary", True),
        ("R51.9", "Headache", None, False),
    ]
    assert {d.encounter_date for d in rows} == {when("2026-03-01T10:00:00+00:00")}


TEMPERATURES = [
    ({"temperature": 37.2}, 37.2),
    ({"temperature": 100.4}, 38.0),
    ({"temperature": 39, "temperature_unit": "C"}, 39.0),
    ({"temperature": 95, "temperature_unit": "F"}, 35.0),
]


async def test_temperatures_are_stored_in_celsius(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    nurse = await staff(client, runtime, Role.NURSE)
    patient = await new_patient(client, nurse)
    for vitals, celsius in TEMPERATURES:
        body = seed_encounter(patient["id"])
        body["physical_examination"]["vital_signs"] = vitals
        response = await client.post(ENCOUNTERS, json=body, headers=nurse.headers)
        assert response.status_code == 201, response.text
        assert response.json()["physical_examination"]["vital_signs"] == vitals
        [reading] = await vitals_of(runtime, response.json()["id"])
        assert reading.temperature_c == pytest.approx(celsius), vitals


async def test_analytics_queries_need_no_json(client: httpx.AsyncClient, runtime: Runtime) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    hypertensive = await new_patient(client, doctor)
    diabetic = await new_patient(client, doctor)
    for date, bp in (("2026-01-05T09:00:00Z", "150/95"), ("2026-02-05T09:00:00Z", "132/84")):
        body = seed_encounter(hypertensive["id"], encounter_date=date)
        body["physical_examination"]["vital_signs"]["blood_pressure"] = bp
        body["diagnoses"] = [{"code": "I10", "type": "primary"}]
        assert (await client.post(ENCOUNTERS, json=body, headers=doctor.headers)).status_code == 201
    await document(client, doctor, diabetic["id"], diagnoses=[{"code": "E119"}])

    async with runtime.sessionmaker() as session:
        # Patients with a hypertensive disease, I10-I16.
        in_range = select(func.count(func.distinct(Diagnosis.patient_id))).where(
            Diagnosis.code >= "I10", Diagnosis.code < "I17"
        )
        assert (await session.execute(in_range)).scalar_one() == 1
        latest = (
            await session.execute(
                select(VitalSignsReading.systolic, VitalSignsReading.diastolic)
                .where(VitalSignsReading.patient_id == uuid.UUID(hypertensive["id"]))
                .order_by(VitalSignsReading.recorded_at.desc())
                .limit(1)
            )
        ).one()
        assert tuple(latest) == (132, 84)
        diabetes = select(Diagnosis.code).where(Diagnosis.code.like("E11%"))
        assert (await session.execute(diabetes)).scalars().all() == ["E11.9"]


async def test_an_encounter_entered_in_error_leaves_the_tables(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor)
    created = await document(client, doctor, patient["id"])
    voided = await client.put(
        f"{ENCOUNTERS}/{created['id']}",
        json={"status": "entered_in_error", "amendment_reason": "Documented on the wrong chart"},
        headers=doctor.headers,
    )
    assert voided.status_code == 200, voided.text
    assert await vitals_of(runtime, created["id"]) == []
    assert await diagnoses_of(runtime, created["id"]) == []
    # The note itself is kept, as it was written.
    assert voided.json()["diagnoses"] == created["diagnoses"]


async def test_the_migration_builds_the_tables_the_models_describe(runtime: Runtime) -> None:
    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with runtime.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    ours = [d for d in diff if CLINICAL_TABLES & set(_tables(d))]
    assert ours == []


def _tables(difference: Any) -> list[str]:
    """The table names an Alembic difference mentions (it may be a list of column changes)."""
    if isinstance(difference, list):
        return [name for item in difference for name in _tables(item)]
    names = []
    for part in difference:
        name = getattr(part, "name", None)
        table = getattr(part, "table", None)
        if table is not None:
            names.append(table.name)
        elif isinstance(part, str):
            names.append(part)
        elif name:
            names.append(name)
    return names


async def test_encounters_of_one_patient_written_at_once_all_land(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """Several clinicians documenting the same patient at the same moment (new notes and an
    amendment): every write succeeds, none is lost to a deadlock between them."""
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor)
    first = await document(client, doctor, patient["id"])
    writes = [
        client.post(ENCOUNTERS, json=seed_encounter(patient["id"]), headers=doctor.headers)
        for _ in range(10)
    ]
    writes.append(
        client.put(f"{ENCOUNTERS}/{first['id']}", json=seed_update(), headers=doctor.headers)
    )
    answers = await asyncio.gather(*writes)
    assert [a.status_code for a in answers] == [201] * 10 + [200], [a.text for a in answers]
    async with runtime.sessionmaker() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(Diagnosis)
            .where(Diagnosis.patient_id == uuid.UUID(patient["id"]))
        )
    assert stored == 11 * len(seed_encounter(patient["id"])["diagnoses"])
