"""Register, read, partially update and deactivate a patient through the REST API."""

from __future__ import annotations

import re

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import make_patient, patient_body
from tests.patients.support import (
    PATIENTS,
    error_of,
    staff,
    stored_patients,
    this_year,
    validation_error,
)


async def test_create_answers_201_with_location_etag_and_a_number_of_this_year(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    sent = patient_body(first_name="Ada", last_name="Lovelace", blood_type="AB-")
    response = await client.post(PATIENTS, json=sent, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"http://testserver{PATIENTS}/{created['id']}"
    assert re.fullmatch(rf"P{this_year()}\d{{4}}", created["patient_id"])
    for name, value in sent.items():
        assert created[name] == value, name
    assert created["is_active"] is True
    assert created["allergies"] == [] and created["current_medications"] == []

    second = await make_patient(client, headers)
    assert second["patient_id"] != created["patient_id"]
    assert int(second["patient_id"][5:]) > int(created["patient_id"][5:])


async def test_a_patient_is_read_by_uuid_and_by_number_alike(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.NURSE)
    created = await make_patient(client, headers, first_name="Grace", last_name="Hopper")
    by_id = await client.get(f"{PATIENTS}/{created['id']}", headers=headers)
    by_number = await client.get(f"{PATIENTS}/{created['patient_id']}", headers=headers)
    lower_number = await client.get(f"{PATIENTS}/{created['patient_id'].lower()}", headers=headers)
    for response in (by_id, by_number, lower_number):
        assert response.status_code == 200, response.text
        assert response.json() == created
        assert response.headers["ETag"] == '"1"'


async def test_unknown_or_malformed_references_are_404(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.DOCTOR)
    for ref in (
        "00000000-0000-4000-8000-000000000000",
        f"P{this_year()}9999",
        "not-a-patient",
        "P2024",
    ):
        error_of(await client.get(f"{PATIENTS}/{ref}", headers=headers), 404, "NOT_FOUND")


async def test_put_changes_only_the_fields_sent(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    created = await make_patient(
        client,
        headers,
        allergies=["Penicillin"],
        address={"street": "1 Elm St", "city": "Springfield"},
    )
    response = await client.put(
        f"{PATIENTS}/{created['patient_id']}",
        json={"contact_number": "+1 555 010 0200", "blood_type": "O-"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"2"'
    stored = (await client.get(f"{PATIENTS}/{created['id']}", headers=headers)).json()
    assert stored["contact_number"] == "+1 555 010 0200"
    assert stored["blood_type"] == "O-"
    unchanged = {k: v for k, v in created.items() if k not in ("contact_number", "blood_type")}
    unchanged.pop("updated_at")
    assert {k: stored[k] for k in unchanged} == unchanged


async def test_an_optional_field_can_be_cleared_but_a_required_one_cannot(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    created = await make_patient(client, headers, blood_type="A+")
    url = f"{PATIENTS}/{created['id']}"
    cleared = await client.put(url, json={"blood_type": None}, headers=headers)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["blood_type"] is None

    for name in ("first_name", "last_name", "date_of_birth", "gender"):
        details = validation_error(await client.put(url, json={name: None}, headers=headers))
        assert details["field"] == name
    after = await client.get(url, headers=headers)
    assert after.headers["ETag"] == '"2"'
    assert after.json()["first_name"] == created["first_name"]


async def test_delete_deactivates_and_hides_the_record_from_the_default_views(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await staff(client, runtime, Role.ADMIN)
    kept = await make_patient(client, admin, last_name="Keepwell")
    gone = await make_patient(client, admin, last_name="Leftward")
    url = f"{PATIENTS}/{gone['id']}"

    deleted = await client.delete(url, headers=admin)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert await stored_patients(runtime) == 2  # never erased

    fetched = await client.get(url, headers=admin)
    assert fetched.status_code == 200
    assert fetched.json()["is_active"] is False
    assert fetched.headers["ETag"] == '"2"'

    active = (await client.get(PATIENTS, headers=admin)).json()
    assert [p["id"] for p in active["patients"]] == [kept["id"]]
    assert active["total"] == 1
    inactive = (await client.get(f"{PATIENTS}?is_active=false", headers=admin)).json()
    assert [p["id"] for p in inactive["patients"]] == [gone["id"]]
    searched = await client.get(f"{PATIENTS}/search", params={"query": "Leftward"}, headers=admin)
    assert searched.json()["patients"] == [] and searched.json()["total"] == 0

    refused = await client.put(url, json={"contact_number": "+15550100300"}, headers=admin)
    error_of(refused, 409, "CONFLICT")
    again = await client.get(url, headers=admin)
    assert again.json()["contact_number"] == gone["contact_number"]
    assert again.headers["ETag"] == '"2"'


async def test_list_pages_with_total_and_links(client: httpx.AsyncClient, runtime: Runtime) -> None:
    headers = await staff(client, runtime, Role.DOCTOR)
    for n in range(5):
        await make_patient(client, headers, last_name=f"Pager{n}")

    first = (await client.get(f"{PATIENTS}?limit=2", headers=headers)).json()
    assert (first["total"], first["limit"], first["offset"]) == (5, 2, 0)
    assert [p["last_name"] for p in first["patients"]] == ["Pager0", "Pager1"]
    assert first["_links"]["prev"] is None
    assert first["_links"]["self"]["href"] == f"http://testserver{PATIENTS}?limit=2"

    middle = await client.get(first["_links"]["next"]["href"], headers=headers)
    page = middle.json()
    assert page["offset"] == 2
    assert [p["last_name"] for p in page["patients"]] == ["Pager2", "Pager3"]
    prev = await client.get(page["_links"]["prev"]["href"], headers=headers)
    assert prev.json()["patients"] == first["patients"]

    last = (await client.get(page["_links"]["next"]["href"], headers=headers)).json()
    assert [p["last_name"] for p in last["patients"]] == ["Pager4"]
    assert last["_links"]["next"] is None
    assert last["_links"]["prev"] is not None

    beyond = (await client.get(f"{PATIENTS}?limit=2&offset=50", headers=headers)).json()
    assert beyond["patients"] == [] and beyond["total"] == 5

    default = (await client.get(PATIENTS, headers=headers)).json()
    assert default["limit"] == 10 and default["offset"] == 0
    assert default["_links"]["next"] is None and default["_links"]["prev"] is None


async def test_list_refuses_page_sizes_outside_1_to_100(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.DOCTOR)
    for query in ("limit=0", "limit=101", "offset=-1", "limit=ten"):
        details = validation_error(await client.get(f"{PATIENTS}?{query}", headers=headers))
        assert details["field"] == query.split("=")[0]
    ok = await client.get(f"{PATIENTS}?limit=100", headers=headers)
    assert ok.status_code == 200 and ok.json()["limit"] == 100
