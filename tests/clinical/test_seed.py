"""The API document's encounter examples, sent as written, answer with every documented field."""

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
    seed_encounter,
    seed_update,
    staff,
)
from tests.seed_examples import response_body


def assert_items_match(sent: list[dict[str, Any]], returned: list[dict[str, Any]]) -> None:
    """Each returned entry keeps what was sent (it may add the code set's description)."""
    assert len(returned) == len(sent)
    for given, got in zip(sent, returned, strict=True):
        assert {name: got[name] for name in given} == given


async def test_seed_create_returns_every_documented_field(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor)
    sent = seed_encounter(patient["id"])
    before = datetime.now(UTC)
    response = await client.post(ENCOUNTERS, json=sent, headers=doctor.headers)
    assert response.status_code == 201, response.text
    created = response.json()

    documented = response_body("#### Create Clinical Encounter")
    assert set(documented) <= set(created)
    assert set(documented["_links"]) <= set(created["_links"])
    for name, value in sent.items():
        if name in ("assessment", "plan", "diagnoses"):
            assert_items_match(value, created[name])
        else:
            assert created[name] == value, name
    # The vital signs come back exactly as the document shows them.
    assert (
        created["physical_examination"]["vital_signs"]
        == documented["physical_examination"]["vital_signs"]
    )
    assert created["provider_id"] == doctor.provider_id
    assert created["status"] == "completed"
    assert created["diagnoses"][0]["code_description"]
    assert (
        created["assessment"][0]["code_description"] == created["diagnoses"][0]["code_description"]
    )
    encounter_date = datetime.fromisoformat(created["encounter_date"])
    assert before - timedelta(seconds=5) <= encounter_date <= datetime.now(UTC)
    assert created["created_at"].endswith("Z") and created["updated_at"].endswith("Z")

    base = "http://testserver/api/v1"
    assert created["_links"]["self"]["href"] == f"{base}/clinical/encounters/{created['id']}"
    assert created["_links"]["patient"]["href"] == f"{base}/patients/{patient['id']}"
    assert created["_links"]["provider"]["href"] == f"{base}/providers/{doctor.provider_id}"
    assert response.headers["Location"] == created["_links"]["self"]["href"]
    assert response.headers["ETag"] == '"1"'
    for link in ("self", "patient", "provider"):
        followed = await client.get(created["_links"][link]["href"], headers=doctor.headers)
        assert followed.status_code == 200, link

    fetched = await client.get(f"{ENCOUNTERS}/{created['id']}", headers=doctor.headers)
    assert fetched.status_code == 200
    assert fetched.json() == created
    assert fetched.headers["ETag"] == '"1"'


async def test_a_nurse_documents_for_a_named_provider(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    nurse = await staff(client, runtime, Role.NURSE)
    patient = await new_patient(client, nurse)
    created = await document(client, nurse, patient["patient_id"], provider_id=doctor.provider_id)
    assert created["provider_id"] == doctor.provider_id
    assert created["patient_id"] == patient["id"]  # a patient number is accepted and resolved
    own = await document(client, nurse, patient["id"])
    assert own["provider_id"] == nurse.provider_id


async def test_seed_update_amends_only_what_it_sends(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor)
    created = await document(client, doctor, patient["id"])
    url = f"{ENCOUNTERS}/{created['id']}"
    update = seed_update()
    response = await client.put(url, json=update, headers=doctor.headers | {"If-Match": '"1"'})
    assert response.status_code == 200, response.text
    changed = response.json()
    assert response.headers["ETag"] == '"2"'
    assert_items_match(update["assessment"], changed["assessment"])
    assert_items_match(update["plan"], changed["plan"])
    assert changed["status"] == "amended"
    for name in (
        "chief_complaint",
        "history_of_present_illness",
        "review_of_systems",
        "physical_examination",
        "diagnoses",
        "encounter_date",
        "provider_id",
        "created_at",
    ):
        assert changed[name] == created[name], name
    assert changed["updated_at"] >= created["updated_at"]

    fetched = await client.get(url, headers=doctor.headers)
    assert fetched.json() == changed
    assert fetched.headers["ETag"] == '"2"'


async def test_idempotency_key_makes_a_retried_create_return_the_first(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor)
    headers = doctor.headers | {"Idempotency-Key": "visit-2026-0042"}
    sent = seed_encounter(patient["id"])
    first = await client.post(ENCOUNTERS, json=sent, headers=headers)
    again = await client.post(ENCOUNTERS, json=sent, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    listed = await client.get(ENCOUNTERS, params={"patient_id": patient["id"]}, headers=headers)
    assert listed.json()["total"] == 1
