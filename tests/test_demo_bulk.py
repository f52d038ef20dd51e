"""The bulk demo loader: what it writes is what the services would have written, so the API
reads, searches and continues numbering from it."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select, text

from hms.analytics.models import PatientSummary, VisitSummary
from hms.analytics.summaries import summary_rows, visit_rows
from hms.clinical.schemas import EncounterCreate
from hms.clinical.service import CONTENT_FIELDS, _content
from hms.demo_bulk import load_bulk
from hms.demo_records import stored_note
from hms.patients.models import Patient
from hms.runtime import Runtime
from tests.factories import bearer, login, patient_body

DEMO_PASSWORD = "secure_password"


def test_a_bulk_note_is_stored_as_the_service_stores_it() -> None:
    note = stored_note(
        random.Random(3), ["Hypertension", "Diabetes Type 2"], datetime(2026, 3, 2, 9, tzinfo=UTC)
    )
    sent = EncounterCreate.model_validate({"patient_id": "P20260001", **note})
    assert _content(sent, set(CONTENT_FIELDS) & sent.model_fields_set) == note


async def test_bulk_load_is_read_searched_and_numbered_by_the_api(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    summary = await load_bulk(runtime, patients=40, chunk=15)
    assert "40 patients" in summary
    if runtime.engine.dialect.name == "postgresql":
        # The planner has the load's statistics (they were committed, not rolled back).
        async with runtime.engine.connect() as conn:
            analyzed = await conn.execute(
                text("SELECT count(*) FROM pg_stats WHERE tablename = 'patients'")
            )
            assert analyzed.scalar_one() > 0
    doctor = bearer(await login(client, "doctor_smith", DEMO_PASSWORD))

    listed = (await client.get("/api/v1/patients?limit=100", headers=doctor)).json()
    assert listed["total"] == 40
    numbers = sorted(p["patient_id"] for p in listed["patients"])
    assert len(set(numbers)) == 40

    async with runtime.sessionmaker() as session:
        patients = list((await session.execute(select(Patient))).scalars())
    chronic = next(p for p in patients if p.medical_conditions)
    read = await client.get(f"/api/v1/patients/{chronic.patient_number}", headers=doctor)
    assert read.status_code == 200, read.text
    assert read.json()["medical_conditions"] == chronic.medical_conditions

    found = await client.get(
        "/api/v1/patients/search",
        params={"query": f"{chronic.first_name} {chronic.last_name}", "limit": 100},
        headers=doctor,
    )
    assert found.status_code == 200, found.text
    assert chronic.patient_number in {p["patient_id"] for p in found.json()["patients"]}

    notes = await client.get(f"/api/v1/patients/{chronic.id}/encounters", headers=doctor)
    assert notes.status_code == 200, notes.text
    assert notes.json()["total"] >= 1
    encounter = notes.json()["encounters"][0]
    history = await client.get(
        f"/api/v1/clinical/encounters/{encounter['id']}/history", headers=doctor
    )
    assert history.status_code == 200, history.text

    created = await client.post("/api/v1/patients", json=patient_body(), headers=doctor)
    assert created.status_code == 201, created.text
    assert created.json()["patient_id"] not in numbers
    assert int(created.json()["patient_id"][1:]) > int(numbers[-1][1:])

    again = await load_bulk(runtime, patients=20, chunk=20)
    assert "20 patients" in again
    relisted = (await client.get("/api/v1/patients?limit=1", headers=doctor)).json()
    assert relisted["total"] == 61


async def test_bulk_load_fills_the_analytics_summaries(runtime: Runtime) -> None:
    # Two runs: the second adds patients beside those already summarised.
    await load_bulk(runtime, patients=12, chunk=5)
    await load_bulk(runtime, patients=8, seed=8)
    async with runtime.engine.connect() as conn:
        for table, rows in ((PatientSummary, summary_rows()), (VisitSummary, visit_rows())):
            kept = sorted(map(tuple, await conn.execute(select(table.__table__))))
            assert kept == sorted(map(tuple, await conn.execute(rows)))
        patients = await conn.scalar(select(func.count()).select_from(PatientSummary))
        visits = await conn.scalar(select(func.count()).select_from(VisitSummary))
    assert patients == 20
    assert visits and visits >= 20
