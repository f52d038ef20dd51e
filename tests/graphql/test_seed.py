"""The API document's GraphQL query and mutation, sent exactly as written."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from hms.audit.models import AuditEntry
from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.appointments.support import book, clinician, slot
from tests.clinical.support import document
from tests.clinical.support import staff as clinical_staff
from tests.factories import make_patient
from tests.graphql.support import codes, get_patient_query, gql, seed_encounter_input, seed_graphql
from tests.pharmacy.support import prescribe, prescriber

GET_PATIENT = get_patient_query()
CREATE_ENCOUNTER = seed_graphql("#### Clinical Encounter Mutation")


async def test_seed_mutation_documents_an_encounter(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await clinical_staff(client, runtime, Role.DOCTOR)
    patient = await make_patient(client, doctor.headers)
    variables = {"input": seed_encounter_input(patient["patient_id"], doctor.provider_id or "")}

    body = await gql(client, CREATE_ENCOUNTER, variables, doctor.headers)

    assert "errors" not in body, body
    created = body["data"]["createClinicalEncounter"]
    assert created["patientId"] == patient["id"]
    assert created["encounterType"] == "office_visit"
    assert created["chiefComplaint"].startswith("Patient presents with persistent headache")
    assert created["assessment"] == [
        {"condition": "Tension Headache", "icd10Code": "G44.1", "severity": "mild"}
    ]
    assert [p["type"] for p in created["plan"]] == ["medication", "education", "follow_up"]
    assert created["status"] == "completed"
    assert created["createdAt"] and created["encounterDate"]
    # The same service as REST: the encounter is readable there and the write is audited.
    rest = await client.get(f"/api/v1/clinical/encounters/{created['id']}", headers=doctor.headers)
    assert rest.status_code == 200 and rest.json()["chief_complaint"] == created["chiefComplaint"]
    async with runtime.sessionmaker() as session:
        actions = (
            await session.execute(
                select(AuditEntry.action).where(AuditEntry.resource_id == created["id"])
            )
        ).scalars()
        assert "encounter.create" in list(actions)


async def test_seed_query_returns_the_patient_with_its_records(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await clinician(client, runtime)
    patient = await make_patient(client, doctor.headers)
    author = await clinical_staff(client, runtime, Role.DOCTOR)
    encounter = await document(client, author, patient["id"])
    appointment = await book(client, doctor.headers, slot(patient["id"], doctor.provider_id))
    signer = await prescriber(client, runtime)
    prescription = await prescribe(client, signer, patient["id"])

    body = await gql(client, GET_PATIENT, {"id": patient["patient_id"]}, doctor.headers)

    assert "errors" not in body, body
    found = body["data"]["patient"]
    assert found["id"] == patient["id"] and found["patientId"].startswith("P")
    assert found["firstName"] == "John" and found["dateOfBirth"] == "1990-01-15"
    assert found["address"] is None
    [seen] = found["clinicalEncounters"]
    assert seen["id"] == encounter["id"]
    assert seen["diagnoses"][0]["code"] == "G44.1"
    assert seen["provider"]["id"] == author.provider_id
    assert set(seen["provider"]) == {"id", "firstName", "lastName", "specialty"}
    [booked] = found["appointments"]
    assert booked["id"] == appointment["id"]
    assert booked["startDateTime"] == "2024-01-20T14:00:00Z"
    assert booked["status"] == "scheduled"
    assert booked["provider"]["id"] == doctor.provider_id
    [rx] = found["prescriptions"]
    assert rx["id"] == prescription["id"]
    assert rx["medication"] == {
        key: prescription["medication"][key] for key in ("name", "strength", "form")
    }
    assert rx["dosage"]["frequency"] == prescription["dosage"]["frequency"]
    assert rx["dosage"]["instructions"] == prescription["dosage"]["instructions"]
    assert rx["status"] == prescription["status"]
    assert rx["dateWritten"] == prescription["date_written"]
    # Each record read is audited, as the REST lists audit theirs.
    async with runtime.sessionmaker() as session:
        rows = await session.execute(
            select(AuditEntry.action, AuditEntry.resource_id).where(
                AuditEntry.patient_id == uuid.UUID(patient["id"]),
                AuditEntry.action.in_(
                    ("patient.read", "encounter.list", "appointment.list", "prescription.list")
                ),
            )
        )
        audited = set(rows.tuples())
    assert audited == {
        ("patient.read", patient["id"]),
        ("encounter.list", encounter["id"]),
        ("appointment.list", appointment["id"]),
        ("prescription.list", prescription["id"]),
    }


async def test_unknown_patient_is_null_with_not_found(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await clinician(client, runtime)
    body = await gql(client, GET_PATIENT, {"id": "P209900000001"}, doctor.headers)
    assert body["data"] == {"patient": None}
    assert codes(body) == ["NOT_FOUND"]
    assert body["errors"][0]["path"] == ["patient"]


async def test_without_a_token_the_answer_is_unauthorized(client: httpx.AsyncClient) -> None:
    body = await gql(client, GET_PATIENT, {"id": "P20260001"})
    assert body["data"] == {"patient": None}
    assert codes(body) == ["UNAUTHORIZED"]
