"""A patient user reaches over GraphQL exactly what it reaches over REST: its own record."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from hms.audit.models import AuditEntry
from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.clinical.support import document, portal, staff
from tests.factories import make_patient
from tests.graphql.support import codes, get_patient_query, gql

OWN_RECORDS = """
query Mine($id: ID!) {
  patient(id: $id) { patientId clinicalEncounters { id status } appointments { id } }
}
"""
SEARCH = "query S($q: String) { patients(search: $q) { total patients { patientId } } }"
CREATE = """
mutation New($input: CreatePatientInput!) { createPatient(input: $input) { patientId } }
"""


async def _setting(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, Any]:
    doctor = await staff(client, runtime, Role.DOCTOR)
    mine = await make_patient(client, doctor.headers)
    other = await make_patient(client, doctor.headers)
    signed = await document(client, doctor, mine["id"])
    await document(client, doctor, mine["id"], status="in_progress")
    headers = await portal(client, runtime, mine["patient_id"])
    return {"mine": mine, "other": other, "signed": signed, "headers": headers}


async def test_another_patient_is_not_found_as_over_rest(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    s = await _setting(client, runtime)
    ref = s["other"]["patient_id"]

    body = await gql(client, get_patient_query(), {"id": ref}, s["headers"])

    assert body["data"] == {"patient": None}
    assert codes(body) == ["NOT_FOUND"]
    rest = await client.get(f"/api/v1/patients/{ref}", headers=s["headers"])
    assert rest.status_code == 404
    encounters = "query E($p: ID) { clinicalEncounters(patientId: $p) { total } }"
    listed = await gql(client, encounters, {"p": s["other"]["id"]}, s["headers"])
    assert codes(listed) == ["NOT_FOUND"]
    # As REST's filtered list: another patient's appointments are simply not among its own.
    appointments = "query A($p: ID) { appointments(patientId: $p) { total } }"
    listed = await gql(client, appointments, {"p": s["other"]["id"]}, s["headers"])
    assert listed["data"] == {"appointments": {"total": 0}}


async def test_own_record_shows_signed_notes_only(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    s = await _setting(client, runtime)
    body = await gql(client, OWN_RECORDS, {"id": s["mine"]["patient_id"]}, s["headers"])
    assert "errors" not in body, body
    notes = body["data"]["patient"]["clinicalEncounters"]
    assert notes == [{"id": s["signed"]["id"], "status": "completed"}]
    rest = await client.get(f"/api/v1/patients/{s['mine']['id']}/encounters", headers=s["headers"])
    assert [e["id"] for e in rest.json()["encounters"]] == [s["signed"]["id"]]


async def test_search_and_list_hold_only_the_patient_itself(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    s = await _setting(client, runtime)
    for q in ("John", None):
        body = await gql(client, SEARCH, {"q": q}, s["headers"])
        assert "errors" not in body, body
        page = body["data"]["patients"]
        assert page["total"] == 1
        assert page["patients"] == [{"patientId": s["mine"]["patient_id"]}]


async def test_a_refused_mutation_is_forbidden_audited_and_leaves_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    s = await _setting(client, runtime)
    new = {"firstName": "Eve", "lastName": "Intruder", "dateOfBirth": "1990-01-01", "gender": "F"}

    body = await gql(client, CREATE, {"input": new}, s["headers"])

    assert body["data"] is None
    assert codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["details"] == {"permission": "patients:create"}
    async with runtime.sessionmaker() as session:
        denied = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "access.denied"))
        ).scalar_one()
        assert denied.role == "patient" and denied.outcome == "denied"
    doctor = await staff(client, runtime, Role.DOCTOR)
    found = await gql(client, SEARCH, {"q": "Intruder"}, doctor.headers)
    assert found["data"]["patients"]["total"] == 0
