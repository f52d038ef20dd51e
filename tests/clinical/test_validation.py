"""What an encounter may say: real ICD-10-CM codes, possible vital signs, real patients and
providers. A refusal is the error envelope naming the field, and nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.clinical.support import (
    ENCOUNTERS,
    document,
    new_patient,
    refused_field,
    seed_encounter,
    staff,
    stored_rows,
)

VITALS = "physical_examination.vital_signs"


def with_vitals(body: dict[str, Any], **vitals: Any) -> dict[str, Any]:
    body["physical_examination"]["vital_signs"].update(vitals)
    return body


def with_code(body: dict[str, Any], where: str, code: str) -> dict[str, Any]:
    key = "icd10_code" if where == "assessment" else "code"
    body[where][0][key] = code
    return body


UNKNOWN_CODES = [
    ("diagnoses", "X99.999", "diagnoses.0.code"),
    ("diagnoses", "A00-A09", "diagnoses.0.code"),  # a block heading, not a code
    ("diagnoses", "G44.19999", "diagnoses.0.code"),
    ("assessment", "ZZZ", "assessment.0.icd10_code"),
    ("assessment", "G4", "assessment.0.icd10_code"),
]


async def test_unknown_icd10_codes_are_refused_by_field(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor)
    for where, code, field in UNKNOWN_CODES:
        body = with_code(seed_encounter(patient["id"]), where, code)
        response = await client.post(ENCOUNTERS, json=body, headers=doctor.headers)
        assert refused_field(response) == field, code
    assert set((await stored_rows(runtime)).values()) == {0}


async def test_real_codes_are_accepted_with_or_without_the_dot(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor)
    sent = ["G44.1", "Z0000", "I10", "e11.9", "G441"]
    diagnoses = [{"code": code, "type": "secondary", "confirmed": True} for code in sent]
    created = await document(
        client,
        doctor,
        patient["id"],
        diagnoses=diagnoses,
        assessment=[{"condition": "Hypertension", "icd10_code": "I10"}],
    )
    assert [d["code"] for d in created["diagnoses"]] == ["G44.1", "Z00.00", "I10", "E11.9", "G44.1"]
    titles = [d["code_description"] for d in created["diagnoses"]]
    assert titles[2] == "Essential (primary) hypertension"
    assert "Type 2 diabetes" in titles[3]
    assert created["assessment"][0]["code_description"] == titles[2]
    assert created["diagnoses"][0]["description"] is None  # the clinician gave none


IMPOSSIBLE_VITALS = [
    ({"heart_rate": 900}, "heart_rate"),
    ({"heart_rate": 0}, "heart_rate"),
    ({"blood_pressure": "300/20"}, "blood_pressure"),
    ({"blood_pressure": "80/120"}, "blood_pressure"),  # systolic below diastolic
    ({"blood_pressure": "120-80"}, "blood_pressure"),
    ({"blood_pressure": "120/5"}, "blood_pressure"),
    ({"oxygen_saturation": 101}, "oxygen_saturation"),
    ({"temperature": 150}, "temperature"),
    ({"temperature": 60}, "temperature"),  # neither a °C nor a °F body temperature
    ({"temperature": 98.6, "temperature_unit": "C"}, "temperature"),
    ({"respiratory_rate": 200}, "respiratory_rate"),
    ({"weight": 80}, "weight"),  # not a vital sign this API knows
]


async def test_impossible_vital_signs_are_refused_by_field(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    nurse = await staff(client, runtime, Role.NURSE)
    patient = await new_patient(client, nurse)
    for vitals, field in IMPOSSIBLE_VITALS:
        body = with_vitals(seed_encounter(patient["id"]), **vitals)
        response = await client.post(ENCOUNTERS, json=body, headers=nurse.headers)
        assert refused_field(response) == f"{VITALS}.{field}", vitals
    assert set((await stored_rows(runtime)).values()) == {0}


async def test_a_bad_update_changes_nothing(client: httpx.AsyncClient, runtime: Runtime) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor)
    created = await document(client, doctor, patient["id"])
    url = f"{ENCOUNTERS}/{created['id']}"
    before = await stored_rows(runtime)
    exam = seed_encounter(patient["id"])["physical_examination"]
    exam["vital_signs"]["heart_rate"] = 900
    for body, field in (
        ({"physical_examination": exam}, f"{VITALS}.heart_rate"),
        ({"diagnoses": [{"code": "Q99.99X"}]}, "diagnoses.0.code"),
        ({"encounter_type": None}, "encounter_type"),
        ({"status": None}, "status"),
        ({"patient_id": patient["id"]}, "patient_id"),  # an encounter never moves patient
        ({"status": "signed"}, "status"),
    ):
        assert refused_field(await client.put(url, json=body, headers=doctor.headers)) == field
    assert await stored_rows(runtime) == before
    now = await client.get(url, headers=doctor.headers)
    assert now.json() == created and now.headers["ETag"] == '"1"'


async def test_patient_provider_date_and_status_are_checked(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    admin = await staff(client, runtime, Role.ADMIN)
    patient = await new_patient(client, doctor, date_of_birth="2000-05-01")
    unknown = "00000000-0000-4000-8000-000000000000"
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    for author, overrides, field in (
        (doctor, {"patient_id": unknown}, "patient_id"),
        (doctor, {"provider_id": unknown}, "provider_id"),
        (admin, {}, "provider_id"),  # an administrator is nobody's provider: name one
        (doctor, {"encounter_date": tomorrow}, "encounter_date"),
        (doctor, {"encounter_date": "1999-12-31T10:00:00Z"}, "encounter_date"),
        (doctor, {"status": "amended"}, "status"),
        (doctor, {"encounter_type": "a visit!"}, "encounter_type"),
        (doctor, {"follow_up": "soon"}, "follow_up"),
    ):
        body = seed_encounter(patient["id"]) | overrides
        response = await client.post(ENCOUNTERS, json=body, headers=author.headers)
        assert refused_field(response) == field, overrides
    assert set((await stored_rows(runtime)).values()) == {0}

    by_admin = await document(client, admin, patient["id"], provider_id=doctor.provider_id)
    assert by_admin["provider_id"] == doctor.provider_id
    camel = seed_encounter(patient["id"], status="in_progress")
    del camel["encounter_type"], camel["chief_complaint"]
    camel |= {
        "encounterType": "Urgent Care",
        "encounterDate": "2026-02-01T08:30:00+02:00",
        "chiefComplaint": "Fever",
    }
    response = await client.post(ENCOUNTERS, json=camel, headers=doctor.headers)
    assert response.status_code == 201, response.text
    draft = response.json()
    assert draft["status"] == "in_progress"
    assert draft["encounter_type"] == "urgent_care"
    assert draft["encounter_date"] == "2026-02-01T06:30:00Z"
    assert draft["chief_complaint"] == "Fever"
