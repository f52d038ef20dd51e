"""Nested lists load in batches: a query's SQL statement count does not grow with the number
of encounters, appointments or patients it returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hms.runtime import Runtime
from tests.appointments.support import Clinician, book, clinician, slot
from tests.factories import make_patient
from tests.graphql.support import get_patient_query, gql, statements
from tests.pharmacy.support import Staff, prescribe, prescriber

GET_PATIENT = get_patient_query()
SEARCH = """
query Search($q: String!, $limit: Int!) {
  patients(search: $q, limit: $limit) {
    total
    patients {
      patientId
      lastName
      clinicalEncounters { id encounterType provider { lastName } }
      appointments { id startDateTime provider { lastName } }
    }
  }
}
"""


async def _encounter(client: httpx.AsyncClient, doctor: Clinician, patient_id: str) -> None:
    response = await client.post(
        "/api/v1/clinical/encounters",
        json={"patient_id": patient_id, "encounter_type": "office_visit"},
        headers=doctor.headers,
    )
    assert response.status_code == 201, response.text


async def _patient_with(
    client: httpx.AsyncClient, doctor: Clinician, signer: Staff, items: int, day: int
) -> dict[str, Any]:
    patient = await make_patient(client, doctor.headers)
    start = datetime(2024, 1, day, 9, tzinfo=UTC)
    for n in range(items):
        await _encounter(client, doctor, patient["id"])
        await prescribe(client, signer, patient["id"])
        begins = start + timedelta(minutes=15 * n)
        body = slot(
            patient["id"],
            doctor.provider_id,
            start=begins.isoformat(),
            end=(begins + timedelta(minutes=15)).isoformat(),
        )
        await book(client, doctor.headers, body)
    return patient


async def _count(
    client: httpx.AsyncClient, runtime: Runtime, query: str, variables: dict[str, Any], headers: Any
) -> tuple[int, dict[str, Any]]:
    with statements(runtime) as seen:
        body = await gql(client, query, variables, headers)
    assert "errors" not in body, body
    return len(seen), body["data"]


async def test_one_patients_query_costs_the_same_for_1_or_20_items(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await clinician(client, runtime)
    signer = await prescriber(client, runtime)
    few = await _patient_with(client, doctor, signer, 1, day=19)
    many = await _patient_with(client, doctor, signer, 20, day=20)

    small, data = await _count(
        client, runtime, GET_PATIENT, {"id": few["patient_id"]}, doctor.headers
    )
    assert len(data["patient"]["clinicalEncounters"]) == 1
    large, data = await _count(
        client, runtime, GET_PATIENT, {"id": many["patient_id"]}, doctor.headers
    )
    assert len(data["patient"]["clinicalEncounters"]) == 20
    assert len(data["patient"]["appointments"]) == 20
    assert len(data["patient"]["prescriptions"]) == 20
    assert {a["provider"]["lastName"] for a in data["patient"]["appointments"]} != {None}
    assert large == small
    assert small <= 12, small


async def test_a_search_costs_the_same_for_5_or_50_patients(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await clinician(client, runtime)
    for n in range(50):
        patient = await make_patient(client, doctor.headers, last_name=f"Batchelor{n:02d}")
        await _encounter(client, doctor, patient["id"])

    small, data = await _count(
        client, runtime, SEARCH, {"q": "Batchelor", "limit": 5}, doctor.headers
    )
    assert data["patients"]["total"] == 50 and len(data["patients"]["patients"]) == 5
    large, data = await _count(
        client, runtime, SEARCH, {"q": "Batchelor", "limit": 50}, doctor.headers
    )
    found = data["patients"]["patients"]
    assert len(found) == 50
    assert all(len(p["clinicalEncounters"]) == 1 for p in found)
    assert large == small
