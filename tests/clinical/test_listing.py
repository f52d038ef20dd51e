"""Listing encounters: by patient (UUID or number), newest first, paginated, at both URLs."""

from __future__ import annotations

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.clinical.support import ENCOUNTERS, document, error_of, new_patient, staff
from tests.seed_examples import response_body


async def test_list_by_patient_is_paginated_newest_first(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor)
    other = await new_patient(client, doctor)
    dates = ["2026-01-10T09:00:00Z", "2026-03-05T14:30:00Z", "2026-02-20T11:15:00Z"]
    ids = {
        d: (await document(client, doctor, patient["id"], encounter_date=d))["id"] for d in dates
    }
    await document(client, doctor, other["id"])

    first = await client.get(
        ENCOUNTERS,
        params={"patient_id": patient["id"], "limit": 2, "offset": 0},
        headers=doctor.headers,
    )
    assert first.status_code == 200, first.text
    page = first.json()
    assert set(page) == {"encounters", "total", "limit", "offset", "_links"}
    assert page["total"] == 3 and page["limit"] == 2 and page["offset"] == 0
    assert [e["id"] for e in page["encounters"]] == [
        ids["2026-03-05T14:30:00Z"],
        ids["2026-02-20T11:15:00Z"],
    ]
    assert page["_links"]["prev"] is None
    assert page["encounters"][0]["_links"]["self"]["href"].endswith(
        f"/clinical/encounters/{ids['2026-03-05T14:30:00Z']}"
    )
    assert set(response_body("#### Create Clinical Encounter")) <= set(page["encounters"][0])

    second = await client.get(page["_links"]["next"]["href"], headers=doctor.headers)
    rest = second.json()
    assert [e["id"] for e in rest["encounters"]] == [ids["2026-01-10T09:00:00Z"]]
    assert rest["offset"] == 2 and rest["_links"]["next"] is None
    assert rest["_links"]["prev"] is not None

    everything = await client.get(ENCOUNTERS, params={"limit": 100}, headers=doctor.headers)
    assert everything.json()["total"] == 4


async def test_the_patients_encounters_link_lists_the_same(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    nurse = await staff(client, runtime, Role.NURSE)
    patient = await new_patient(client, nurse)
    created = await document(client, nurse, patient["id"])
    await document(client, nurse, (await new_patient(client, nurse))["id"])

    link = patient["_links"]["clinical_encounters"]["href"]
    by_link = await client.get(link, headers=nurse.headers)
    by_number = await client.get(
        f"/api/v1/patients/{patient['patient_id']}/encounters", headers=nurse.headers
    )
    by_query = await client.get(
        f"{ENCOUNTERS}?patient_id={patient['patient_id']}&limit=10&offset=0",
        headers=nurse.headers,
    )
    for response in (by_link, by_number, by_query):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == 1
        assert body["encounters"] == [created]


async def test_unknown_patients_and_bad_parameters(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor)
    created = await document(client, doctor, patient["id"])
    for ref in ("00000000-0000-4000-8000-000000000000", "P20999999", "nobody"):
        error_of(
            await client.get(f"/api/v1/patients/{ref}/encounters", headers=doctor.headers),
            404,
            "NOT_FOUND",
        )
        error_of(
            await client.get(ENCOUNTERS, params={"patient_id": ref}, headers=doctor.headers),
            404,
            "NOT_FOUND",
        )
    for ref in ("00000000-0000-4000-8000-000000000000", "not-an-id"):
        error_of(await client.get(f"{ENCOUNTERS}/{ref}", headers=doctor.headers), 404, "NOT_FOUND")
    for params in ({"limit": 0}, {"limit": 101}, {"offset": -1}, {"status": "signed"}):
        response = await client.get(ENCOUNTERS, params=params, headers=doctor.headers)
        error_of(response, 422, "VALIDATION_ERROR")

    completed = await client.get(ENCOUNTERS, params={"status": "completed"}, headers=doctor.headers)
    assert [e["id"] for e in completed.json()["encounters"]] == [created["id"]]
    drafts = await client.get(ENCOUNTERS, params={"status": "in_progress"}, headers=doctor.headers)
    assert drafts.json()["total"] == 0
