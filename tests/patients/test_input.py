"""Bad input never answers 500 nor leaves a record behind; odd but valid text is kept as data."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import make_patient, patient_body
from tests.patients.support import (
    PATIENTS,
    error_fields,
    error_of,
    staff,
    stored_patients,
    validation_error,
)


async def test_the_seed_javascript_clients_camel_case_body_is_accepted(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    body = {
        "firstName": "Jane",
        "lastName": "Smith",
        "dateOfBirth": "1985-03-20",
        "gender": "F",
        "contactNumber": "+1234567891",
        "email": "jane.smith@email.com",
        "bloodType": "A+",
        "address": {"street": "9 Pine Rd", "zipCode": "90210"},
        "emergencyContact": {"name": "John Smith", "phone": "+1234567892"},
        "currentMedications": [{"name": "Metformin", "dosage": "500mg"}],
    }
    response = await client.post(PATIENTS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["first_name"] == "Jane" and created["last_name"] == "Smith"
    assert created["date_of_birth"] == "1985-03-20"
    assert created["contact_number"] == "+1234567891"
    assert created["blood_type"] == "A+"
    assert created["address"]["zip_code"] == "90210"
    assert created["emergency_contact"]["phone"] == "+1234567892"
    assert created["current_medications"][0]["dosage"] == "500mg"
    assert "firstName" not in created

    changed = await client.put(
        f"{PATIENTS}/{created['id']}", json={"contactNumber": "+1 555 010 0999"}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["contact_number"] == "+1 555 010 0999"

    # Errors name fields as documented, whichever spelling the client used.
    bad = {"lastName": "Smith", "dateOfBirth": "20/03/1985", "gender": "F"}
    details = validation_error(await client.post(PATIENTS, json=bad, headers=headers))
    assert {"first_name", "date_of_birth"} <= error_fields(details)
    nested = await client.post(
        PATIENTS, json=body | {"address": {"zipCode": 90210}}, headers=headers
    )
    assert "address.zip_code" in error_fields(validation_error(nested))
    assert await stored_patients(runtime) == 1


async def test_malformed_json_is_a_400_envelope(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    json_headers = headers | {"Content-Type": "application/json"}
    for raw in (b'{"first_name": "John",', b"{'first_name': 'John'}", b"\xff\xfe{}"):
        response = await client.post(PATIENTS, content=raw, headers=json_headers)
        error_of(response, 400, "BAD_REQUEST")
    created = await make_patient(client, headers)
    response = await client.put(
        f"{PATIENTS}/{created['id']}", content=b'{"email": ', headers=json_headers
    )
    error_of(response, 400, "BAD_REQUEST")
    assert await stored_patients(runtime) == 1


TOMORROW = (date.today() + timedelta(days=2)).isoformat()

BAD_FIELDS: list[tuple[str, dict[str, Any]]] = [
    ("first_name", {"first_name": 123}),
    ("first_name", {"first_name": ""}),
    ("first_name", {"first_name": "x" * 101}),
    ("first_name", {"first_name": "   "}),
    ("first_name", {"first_name": "Jo\x07hn"}),
    ("last_name", {"last_name": "Doe\x1b[2J"}),
    ("date_of_birth", {"date_of_birth": "15/01/1990"}),
    ("date_of_birth", {"date_of_birth": "1990-02-30"}),
    ("date_of_birth", {"date_of_birth": TOMORROW}),
    ("date_of_birth", {"date_of_birth": "1700-01-01"}),
    ("gender", {"gender": "X"}),
    ("gender", {"gender": 1}),
    ("email", {"email": "not-an-email"}),
    ("email", {"email": "john@"}),
    ("contact_number", {"contact_number": "call me"}),
    ("contact_number", {"contact_number": "+12"}),
    ("contact_number", {"contact_number": "1" * 20}),
    ("blood_type", {"blood_type": "C+"}),
    ("allergies", {"allergies": "Penicillin"}),
    ("allergies.0", {"allergies": ["Latex\x08"]}),
    ("medical_conditions.0", {"medical_conditions": ["Ast\x0chma"]}),
    ("address", {"address": "123 Main St"}),
    ("address.zip_code", {"address": {"zip_code": 12345}}),
    ("address.city", {"address": {"city": "Spring\x1ffield"}}),
    ("emergency_contact.phone", {"emergency_contact": {"phone": "nope"}}),
    ("current_medications.0.name", {"current_medications": [{"dosage": "10mg"}]}),
]


async def test_an_invalid_field_is_a_422_naming_it_and_stores_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    for field, change in BAD_FIELDS:
        response = await client.post(PATIENTS, json=patient_body(**change), headers=headers)
        details = validation_error(response)
        assert field in error_fields(details), (change, details)
        assert await stored_patients(runtime) == 0, change


async def test_invalid_updates_are_refused_and_change_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    created = await make_patient(client, headers)
    url = f"{PATIENTS}/{created['id']}"
    for field, change in BAD_FIELDS:
        details = validation_error(await client.put(url, json=change, headers=headers))
        assert field in error_fields(details), (change, details)
    after = await client.get(url, headers=headers)
    assert after.headers["ETag"] == '"1"'
    assert after.json() == created


async def test_unknown_and_missing_fields_are_named(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    unknown = await client.post(
        PATIENTS, json=patient_body(ssn="123-45-6789", is_active=False), headers=headers
    )
    details = validation_error(unknown)
    assert {"ssn", "is_active"} <= error_fields(details)
    assert {"field": "ssn", "error": "Unknown field"} in details["errors"]

    nested = await client.post(
        PATIENTS, json=patient_body(address={"street": "1 Elm", "planet": "Mars"}), headers=headers
    )
    assert "address.planet" in error_fields(validation_error(nested))

    body = patient_body()
    del body["first_name"], body["date_of_birth"]
    missing = validation_error(await client.post(PATIENTS, json=body, headers=headers))
    assert {"first_name", "date_of_birth"} <= error_fields(missing)

    for not_an_object in ([], "John", 42, None):
        response = await client.post(PATIENTS, json=not_an_object, headers=headers)
        validation_error(response)

    created = await make_patient(client, headers)
    server_owned = await client.put(
        f"{PATIENTS}/{created['id']}",
        json={"patient_id": "P19990001", "id": created["id"], "version": 7},
        headers=headers,
    )
    assert {"patient_id", "id", "version"} <= error_fields(validation_error(server_owned))
    assert await stored_patients(runtime) == 1


async def test_nul_characters_are_refused_anywhere_in_the_body(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    for change in (
        {"first_name": "Jo\x00hn"},
        {"address": {"street": "1\x00 Elm"}},
        {"allergies": ["Latex\x00"]},
        {"medical_conditions": ["\x00"]},
    ):
        response = await client.post(PATIENTS, json=patient_body(**change), headers=headers)
        validation_error(response)
    assert await stored_patients(runtime) == 0
    created = await make_patient(client, headers)
    response = await client.put(
        f"{PATIENTS}/{created['id']}", json={"last_name": "Do\x00e"}, headers=headers
    )
    validation_error(response)
    assert (await client.get(f"{PATIENTS}/{created['id']}", headers=headers)).json() == created


HOSTILE = [
    "Robert'); DROP TABLE patients;--",
    "<script>alert(1)</script>",
    "O'Brien-Łukasiewicz",
    "%_\\ 1=1",
]


async def test_sql_and_script_looking_text_is_stored_verbatim(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    created = []
    for text in HOSTILE:
        body = patient_body(
            first_name=text,
            last_name=text,
            address={"street": text},
            allergies=[text],
            medical_conditions=[text],
        )
        response = await client.post(PATIENTS, json=body, headers=headers)
        assert response.status_code == 201, response.text
        assert response.headers["content-type"] == "application/json"
        created.append(response.json())
    for text, patient in zip(HOSTILE, created, strict=True):
        stored = (await client.get(f"{PATIENTS}/{patient['id']}", headers=headers)).json()
        assert stored["first_name"] == stored["last_name"] == text
        assert stored["address"]["street"] == text
        assert stored["allergies"] == [text] and stored["medical_conditions"] == [text]
        found = await client.get(f"{PATIENTS}/search", params={"query": text}, headers=headers)
        assert found.status_code == 200, found.text
    assert await stored_patients(runtime) == len(HOSTILE)
    listed = (await client.get(PATIENTS, headers=headers)).json()
    assert sorted(p["first_name"] for p in listed["patients"]) == sorted(HOSTILE)
