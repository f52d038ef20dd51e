"""GET /api/v1/audit: administrators read the trail with filters; a patient account sees who
touched its own record and nothing else."""

from __future__ import annotations

from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import bearer, login, make_patient, make_user, signed_in

AUDIT = "/api/v1/audit"


async def audit(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await client.get(AUDIT, params={"limit": 100, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_only_admins_read_the_trail(client: httpx.AsyncClient, runtime: Runtime) -> None:
    assert (await client.get(AUDIT)).status_code == 401
    for role in (Role.DOCTOR, Role.NURSE, Role.RECEPTIONIST, Role.BILLING):
        response = await client.get(AUDIT, headers=await signed_in(client, runtime, role=role))
        assert response.status_code == 403, role
        assert response.json()["error"]["code"] == "FORBIDDEN"
    admin = await signed_in(client, runtime, role=Role.ADMIN)
    body = await audit(client, admin, action="access.denied")
    # Each refusal above is itself on the record, with the role that was refused.
    assert sorted(e["role"] for e in body["entries"]) == sorted(
        ["doctor", "nurse", "receptionist", "billing"]
    )
    assert {e["outcome"] for e in body["entries"]} == {"denied"}


async def test_filters_narrow_the_trail(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await signed_in(client, runtime, role=Role.ADMIN)
    doctor_user = await make_user(runtime, role=Role.DOCTOR)
    doctor = bearer(await login(client, doctor_user["username"]))
    first = await make_patient(client, admin)
    second = await make_patient(client, admin)
    for patient in (first, first, second):
        response = await client.get(f"/api/v1/patients/{patient['patient_id']}", headers=doctor)
        assert response.status_code == 200
    assert (await client.get(AUDIT, headers=doctor)).status_code == 403

    reads = await audit(client, admin, action="patient.read")
    assert reads["total"] == 3
    assert {e["action"] for e in reads["entries"]} == {"patient.read"}

    of_first = await audit(client, admin, patient_id=first["id"])
    assert {e["patient_id"] for e in of_first["entries"]} == {first["id"]}
    assert sorted(e["action"] for e in of_first["entries"]) == [
        "patient.create",
        "patient.read",
        "patient.read",
    ]

    by_doctor = await audit(client, admin, user_id=doctor_user["id"])
    assert {e["user_id"] for e in by_doctor["entries"]} == {doctor_user["id"]}
    assert {e["username"] for e in by_doctor["entries"]} == {doctor_user["username"]}
    assert sorted(e["action"] for e in by_doctor["entries"]) == [
        "access.denied",
        "auth.login",
        "patient.read",
        "patient.read",
        "patient.read",
    ]

    denied = await audit(client, admin, outcome="denied")
    assert [e["user_id"] for e in denied["entries"]] == [doctor_user["id"]]
    combined = await audit(client, admin, user_id=doctor_user["id"], patient_id=second["id"])
    assert combined["total"] == 1 and combined["entries"][0]["action"] == "patient.read"
    assert (await audit(client, admin, action="no.such.action"))["total"] == 0

    bad = await client.get(AUDIT, params={"outcome": "maybe"}, headers=admin)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["field"] == "outcome"


async def test_since_and_until_bound_the_time(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await signed_in(client, runtime, role=Role.ADMIN)
    for _ in range(3):
        await make_patient(client, admin)
    created = (await audit(client, admin, action="patient.create"))["entries"]
    assert len(created) == 3
    middle = created[1]["occurred_at"]  # newest first, so this is the second one created
    assert middle.endswith("Z")

    since = await audit(client, admin, action="patient.create", since=middle)
    assert [e["seq"] for e in since["entries"]] == [created[0]["seq"], created[1]["seq"]]
    until = await audit(client, admin, action="patient.create", until=middle)
    assert [e["seq"] for e in until["entries"]] == [created[2]["seq"]]
    window = await audit(client, admin, action="patient.create", since=middle, until=middle)
    assert window["total"] == 0
    assert (await audit(client, admin, since="2999-01-01T00:00:00Z"))["total"] == 0
    assert (await audit(client, admin, until="2000-01-01T00:00:00Z"))["total"] == 0

    bad = await client.get(AUDIT, params={"since": "yesterday"}, headers=admin)
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["field"] == "since"


async def test_pagination_envelope_newest_first(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await signed_in(client, runtime, role=Role.ADMIN)
    for _ in range(4):
        await make_patient(client, admin)
    everything = await audit(client, admin)
    total = everything["total"]
    assert total >= 5 and len(everything["entries"]) == total
    seqs = [e["seq"] for e in everything["entries"]]
    assert seqs == sorted(seqs, reverse=True)

    first = await client.get(AUDIT, params={"limit": 2}, headers=admin)
    body = first.json()
    assert set(body) == {"entries", "total", "limit", "offset", "_links"}
    assert (body["limit"], body["offset"]) == (2, 0)
    assert [e["seq"] for e in body["entries"]] == seqs[:2]
    assert body["_links"]["prev"] is None
    assert body["_links"]["self"]["href"].startswith("http://testserver/api/v1/audit")

    second = await client.get(body["_links"]["next"]["href"], headers=admin)
    page = second.json()
    assert page["offset"] == 2 and [e["seq"] for e in page["entries"]] == seqs[2:4]
    assert page["_links"]["prev"] is not None

    last = await client.get(AUDIT, params={"limit": 2, "offset": total - 1}, headers=admin)
    assert len(last.json()["entries"]) == 1 and last.json()["_links"]["next"] is None
    entry = last.json()["entries"][0]
    for name in ("id", "occurred_at", "user_id", "role", "ip_address", "action", "request_id"):
        assert name in entry
    assert (await client.get(AUDIT, params={"limit": 101}, headers=admin)).status_code == 422


async def test_patient_sees_who_touched_its_own_record_only(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await signed_in(client, runtime, role=Role.RECEPTIONIST)
    own = await make_patient(client, staff)
    other = await make_patient(client, staff)
    nurse_user = await make_user(runtime, role=Role.NURSE)
    nurse = bearer(await login(client, nurse_user["username"]))
    for patient in (own, other):
        response = await client.get(f"/api/v1/patients/{patient['id']}", headers=nurse)
        assert response.status_code == 200
    patient_headers = await signed_in(client, runtime, role=Role.PATIENT, patient=own["patient_id"])

    mine = await audit(client, patient_headers)
    assert mine["total"] >= 2
    assert {e["patient_id"] for e in mine["entries"]} == {own["id"]}
    readers = {e["username"] for e in mine["entries"] if e["action"] == "patient.read"}
    assert nurse_user["username"] in readers

    # Asking for someone else's record, or for everything a user did, stays within its own.
    assert (await audit(client, patient_headers, patient_id=other["id"]))["total"] == 0
    by_nurse = await audit(client, patient_headers, user_id=nurse_user["id"])
    assert [e["patient_id"] for e in by_nurse["entries"]] == [own["id"]]
