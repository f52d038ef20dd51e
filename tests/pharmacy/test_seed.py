"""The API document's pharmacy examples, sent as written, answer with every documented field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.pharmacy.support import (
    INTERACTIONS,
    PRESCRIPTIONS,
    new_patient,
    seed_patient_fields,
    seed_prescription,
    staff,
)
from tests.seed_examples import request_body, response_body


async def test_seed_prescription_returns_every_documented_field(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor.headers, **seed_patient_fields())
    sent = seed_prescription(patient["id"], doctor.provider_id)
    before = datetime.now(UTC)
    response = await client.post(PRESCRIPTIONS, json=sent, headers=doctor.headers)
    assert response.status_code == 201, response.text
    created = response.json()

    documented = response_body("#### Create Prescription")
    assert set(documented) <= set(created)
    assert set(documented["_links"]) <= set(created["_links"])
    for name, value in sent.items():
        assert created[name] == value, name
    assert created["status"] == "active"
    number = created["prescription_number"]
    assert number.startswith(f"RX{before.year}") and len(number) == 10
    written = datetime.fromisoformat(created["date_written"])
    assert before - timedelta(seconds=5) <= written <= datetime.now(UTC)
    expires = datetime.fromisoformat(created["expires_at"])
    months = (expires.year - written.year) * 12 + expires.month - written.month
    assert months == 6 and expires.time() == written.time()
    for stamp in ("date_written", "expires_at", "created_at", "updated_at"):
        assert created[stamp].endswith("Z"), stamp
    # The patient already takes lisinopril: a repeat prescription raises no interaction alert.
    assert created["alerts"]["interactions"] == []

    base = "http://testserver/api/v1"
    assert created["_links"]["self"]["href"] == f"{base}/pharmacy/prescriptions/{created['id']}"
    assert created["_links"]["patient"]["href"] == f"{base}/patients/{patient['id']}"
    assert created["_links"]["provider"]["href"] == f"{base}/providers/{doctor.provider_id}"
    assert response.headers["Location"] == created["_links"]["self"]["href"]
    assert response.headers["ETag"] == '"1"'
    for link in ("self", "patient", "provider", "fills"):
        followed = await client.get(created["_links"][link]["href"], headers=doctor.headers)
        assert followed.status_code == 200, link

    fetched = await client.get(f"{PRESCRIPTIONS}/{number}", headers=doctor.headers)
    assert fetched.status_code == 200
    assert fetched.json() == created
    listed = await client.get(
        PRESCRIPTIONS, params={"patient_id": patient["patient_id"]}, headers=doctor.headers
    )
    assert listed.status_code == 200
    body = listed.json()
    assert body["total"] == 1 and body["prescriptions"][0] == created
    assert body["_links"]["next"] is None


async def test_provider_defaults_to_the_signed_in_doctor(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    other = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor.headers)
    sent = seed_prescription(patient["patient_id"], None)
    del sent["provider_id"]
    response = await client.post(PRESCRIPTIONS, json=sent, headers=doctor.headers)
    assert response.status_code == 201, response.text
    assert response.json()["provider_id"] == doctor.provider_id
    assert response.json()["patient_id"] == patient["id"]
    # A doctor signs its own prescriptions, not a colleague's.
    foreign = seed_prescription(patient["id"], other.provider_id)
    refused = await client.post(PRESCRIPTIONS, json=foreign, headers=doctor.headers)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["field"] == "provider_id"


async def test_seed_interaction_check_finds_lisinopril_with_ibuprofen(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    pharmacist = await staff(client, runtime, Role.PHARMACIST)
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor.headers, **seed_patient_fields())
    sent = request_body("POST /api/v1/pharmacy/drug-interactions")
    sent["patient_id"] = patient["id"]
    before = datetime.now(UTC)
    response = await client.post(INTERACTIONS, json=sent, headers=pharmacist.headers)
    assert response.status_code == 200, response.text
    checked = response.json()

    documented = response_body("#### Drug Interaction Check")
    assert set(documented) <= set(checked)
    assert set(documented["interactions"][0]) <= set(checked["interactions"][0])
    assert set(documented["allergies"][0]) <= set(checked["allergies"][0])
    assert len(checked["interactions"]) == 1
    found = checked["interactions"][0]
    expected = documented["interactions"][0]
    for name in ("severity", "interaction_type", "description", "recommendation"):
        assert found[name] == expected[name], name
    assert found["references"] and all(isinstance(r, str) and r for r in found["references"])
    # Every recorded allergy is listed; none of these drugs hits penicillin or latex.
    assert [a["medication"] for a in checked["allergies"]] == ["Penicillin", "Latex"]
    assert all(a["conflicts_with"] == [] for a in checked["allergies"])
    assert checked["unchecked"] == []
    sources = {(m["name"], m["source"]) for m in checked["medications"]}
    assert ("Lisinopril", "current_medication") in sources
    assert before - timedelta(seconds=5) <= datetime.fromisoformat(checked["checked_at"])
    assert checked["checked_at"].endswith("Z")


async def test_idempotency_key_makes_a_retried_create_return_the_first(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor.headers)
    headers = doctor.headers | {"Idempotency-Key": "rx-2026-0042"}
    sent = seed_prescription(patient["id"], doctor.provider_id)
    first = await client.post(PRESCRIPTIONS, json=sent, headers=headers)
    again = await client.post(PRESCRIPTIONS, json=sent, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    listed = await client.get(PRESCRIPTIONS, params={"patient_id": patient["id"]}, headers=headers)
    assert listed.json()["total"] == 1
