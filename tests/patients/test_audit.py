"""Every patient read and write leaves an audit entry naming the patient by id, never by data."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import bearer, login, make_patient, make_user, patient_body
from tests.patients.support import PATIENTS, staff

AUDIT = "/api/v1/audit"

PERSONAL = {
    "first_name": "Zebulon",
    "last_name": "Quartermaine",
    "date_of_birth": "1977-07-07",
    "contact_number": "+15550107777",
    "email": "zebulon.q@example.org",
    "address": {"street": "42 Wallaby Way", "city": "Sydneyville"},
    "allergies": ["Sulfonamides"],
}


async def _entries(
    client: httpx.AsyncClient, admin: dict[str, str], **filters: str
) -> list[dict[str, Any]]:
    response = await client.get(AUDIT, params={"limit": 100, **filters}, headers=admin)
    assert response.status_code == 200, response.text
    return list(response.json()["entries"])


async def test_each_patient_operation_is_audited_with_the_patients_id(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await staff(client, runtime, Role.ADMIN)
    doctor = await make_user(runtime, role=Role.DOCTOR)
    headers = bearer(await login(client, doctor["username"]))
    created = await client.post(
        PATIENTS, json=patient_body(**PERSONAL), headers=headers | {"X-Request-ID": "reg-42"}
    )
    assert created.status_code == 201, created.text
    patient = created.json()
    pid = patient["id"]
    bystander = await make_patient(client, headers, last_name="Bystander")

    await client.get(f"{PATIENTS}/{pid}", headers=headers)
    await client.get(f"{PATIENTS}/{patient['patient_id']}", headers=headers)
    changed = await client.put(
        f"{PATIENTS}/{pid}",
        json={"email": "zeb.new@example.org", "contact_number": "+15550108888"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    await client.get(PATIENTS, headers=headers)
    await client.get(f"{PATIENTS}/search", params={"query": "Quartermaine"}, headers=headers)
    assert (await client.delete(f"{PATIENTS}/{pid}", headers=admin)).status_code == 204

    entries = await _entries(client, admin, patient_id=pid)
    actions = [e["action"] for e in reversed(entries)]
    assert actions == [
        "patient.create",
        "patient.read",
        "patient.read",
        "patient.update",
        "patient.list",
        "patient.search",
        "patient.deactivate",
    ]
    for entry in entries:
        assert entry["patient_id"] == pid
        assert entry["resource_type"] == "patient" and entry["resource_id"] == pid
        assert entry["outcome"] == "success"
        assert entry["request_id"]
    by_doctor = [e for e in entries if e["action"] != "patient.deactivate"]
    assert {(e["user_id"], e["role"]) for e in by_doctor} == {(doctor["id"], "doctor")}
    assert entries[-1]["request_id"] == "reg-42"
    update = next(e for e in entries if e["action"] == "patient.update")
    assert update["details"] == {"fields": ["contact_number", "email"]}

    # The bystander was listed, not searched: its own entries say so, under its own id.
    other = [e["action"] for e in await _entries(client, admin, patient_id=bystander["id"])]
    assert sorted(other) == ["patient.create", "patient.list"]

    reads = await _entries(client, admin, patient_id=pid, action="patient.read")
    assert len(reads) == 2


async def test_audit_entries_carry_no_patient_data(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await staff(client, runtime, Role.ADMIN)
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    created = await make_patient(client, headers, **PERSONAL)
    url = f"{PATIENTS}/{created['id']}"
    await client.get(url, headers=headers)
    await client.put(url, json={"last_name": "Quillfeather", "blood_type": "AB-"}, headers=headers)
    await client.get(f"{PATIENTS}/search", params={"query": "Zebulon"}, headers=headers)
    await client.get(f"{PATIENTS}/search", params={"query": PERSONAL["email"]}, headers=headers)

    everything = orjson.dumps(await _entries(client, admin)).decode()
    values = [
        "Zebulon",
        "Quartermaine",
        "Quillfeather",
        "1977-07-07",
        "5550107777",
        "zebulon.q",
        "Wallaby",
        "Sulfonamides",
        created["patient_id"],
    ]
    for value in values:
        assert value.lower() not in everything.lower(), value
    update = await _entries(client, admin, action="patient.update")
    assert update[0]["details"] == {"fields": ["blood_type", "last_name"]}


async def test_refused_requests_leave_no_patient_entries(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await staff(client, runtime, Role.ADMIN)
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    created = await make_patient(client, headers)
    url = f"{PATIENTS}/{created['id']}"
    stale = await client.put(url, json={"blood_type": "O+"}, headers=headers | {"If-Match": '"9"'})
    assert stale.status_code == 412
    invalid = await client.put(url, json={"email": "nope"}, headers=headers)
    assert invalid.status_code == 422
    billing = await staff(client, runtime, Role.BILLING)
    assert (await client.put(url, json={"blood_type": "O+"}, headers=billing)).status_code == 403
    refused_create = await client.post(PATIENTS, json=patient_body(), headers=billing)
    assert refused_create.status_code == 403

    actions = [e["action"] for e in await _entries(client, admin, patient_id=created["id"])]
    assert actions == ["patient.create"]
    creations = await _entries(client, admin, action="patient.create")
    assert len(creations) == 1
    denials = await _entries(client, admin, action="access.denied")
    assert len(denials) == 2 and all(e["outcome"] == "denied" for e in denials)
