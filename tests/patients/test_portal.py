"""A patient account reaches its own record only, and changes only its contact details."""

from __future__ import annotations

from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import make_patient, patient_body
from tests.patients.support import PATIENTS, error_of, portal, staff


async def _two_patients(
    client: httpx.AsyncClient, runtime: Runtime
) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    own = await make_patient(client, desk, first_name="Olivia", last_name="Owens")
    other = await make_patient(client, desk, first_name="Oscar", last_name="Owens")
    return desk, own, other


async def test_a_patient_reads_its_own_record_by_id_and_by_number(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, own, _ = await _two_patients(client, runtime)
    me = await portal(client, runtime, own["patient_id"])
    for ref in (own["id"], own["patient_id"]):
        response = await client.get(f"{PATIENTS}/{ref}", headers=me)
        assert response.status_code == 200, response.text
        assert response.json() == own


async def test_another_patient_is_invisible_by_every_route(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, own, other = await _two_patients(client, runtime)
    me = await portal(client, runtime, own["patient_id"])
    for ref in (other["id"], other["patient_id"]):
        error_of(await client.get(f"{PATIENTS}/{ref}", headers=me), 404, "NOT_FOUND")
        refused = await client.put(
            f"{PATIENTS}/{ref}", json={"contact_number": "+15550100777"}, headers=me
        )
        error_of(refused, 404, "NOT_FOUND")
        # The same answer as for a record that does not exist: nothing is learned.
        assert "Oscar" not in refused.text

    listed = (await client.get(PATIENTS, headers=me)).json()
    assert [p["id"] for p in listed["patients"]] == [own["id"]]
    assert listed["total"] == 1
    assert listed["_links"]["next"] is None

    for query in ("Owens", "Oscar", other["patient_id"], other["email"]):
        found = (await client.get(f"{PATIENTS}/search", params={"query": query}, headers=me)).json()
        assert other["id"] not in {p["id"] for p in found["patients"]}, query
        assert found["total"] == len(found["patients"]) <= 1
    both_name = (await client.get(f"{PATIENTS}/search?query=Owens", headers=me)).json()
    assert [p["id"] for p in both_name["patients"]] == [own["id"]]
    assert both_name["total"] == 1


async def test_a_patient_may_change_its_contact_details_only(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk, own, _ = await _two_patients(client, runtime)
    me = await portal(client, runtime, own["patient_id"])
    url = f"{PATIENTS}/{own['id']}"
    contact = {
        "contact_number": "+1 555 010 0400",
        "email": "olivia.new@email.com",
        "address": {"street": "7 Harbour Way", "city": "Portside"},
        "emergency_contact": {"name": "Oscar Owens", "phone": "+15550100401"},
    }
    changed = await client.put(url, json=contact, headers=me)
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"2"'
    body = changed.json()
    assert body["contact_number"] == contact["contact_number"]
    assert body["email"] == contact["email"]
    assert body["address"]["street"] == "7 Harbour Way"
    assert body["emergency_contact"]["phone"] == "+15550100401"

    for forbidden in (
        {"first_name": "Liv"},
        {"allergies": []},
        {"date_of_birth": "1991-01-01"},
        {"blood_type": "AB+"},
        {"email": "olivia@email.com", "medical_conditions": []},
    ):
        error_of(await client.put(url, json=forbidden, headers=me), 403, "FORBIDDEN")
    error_of(await client.delete(url, headers=me), 403, "FORBIDDEN")

    stored = await client.get(url, headers=desk)
    assert stored.headers["ETag"] == '"2"'
    assert stored.json()["first_name"] == "Olivia"
    assert stored.json()["email"] == "olivia.new@email.com"
    assert stored.json()["is_active"] is True


async def test_a_patient_cannot_register_patients(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    _, own, _ = await _two_patients(client, runtime)
    me = await portal(client, runtime, own["patient_id"])
    error_of(await client.post(PATIENTS, json=patient_body(), headers=me), 403, "FORBIDDEN")
