"""Who may do what on the patient endpoints."""

from __future__ import annotations

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import make_patient, patient_body
from tests.patients.support import PATIENTS, error_of, staff, stored_patients

READERS_ONLY = (Role.BILLING, Role.LAB_TECHNICIAN, Role.PHARMACIST)
REGISTRARS = (Role.RECEPTIONIST, Role.NURSE, Role.DOCTOR, Role.ADMIN)


async def test_every_staff_role_reads_but_billing_and_lab_staff_do_not_register(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    created = await make_patient(client, desk, last_name="Readable")
    for role in READERS_ONLY:
        headers = await staff(client, runtime, role)
        read = await client.get(f"{PATIENTS}/{created['patient_id']}", headers=headers)
        assert read.status_code == 200, (role, read.text)
        listed = await client.get(PATIENTS, headers=headers)
        assert listed.json()["total"] == 1, role
        found = await client.get(f"{PATIENTS}/search?query=Readable", headers=headers)
        assert found.json()["total"] == 1, role

        refused = await client.post(PATIENTS, json=patient_body(), headers=headers)
        error = error_of(refused, 403, "FORBIDDEN")
        assert error["details"]["permission"] == "patients:create"
        changed = await client.put(
            f"{PATIENTS}/{created['id']}", json={"blood_type": "O+"}, headers=headers
        )
        error_of(changed, 403, "FORBIDDEN")
    assert await stored_patients(runtime) == 1
    after = await client.get(f"{PATIENTS}/{created['id']}", headers=desk)
    assert after.headers["ETag"] == '"1"'


async def test_receptionists_nurses_doctors_and_admins_register_and_update(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    for role in REGISTRARS:
        headers = await staff(client, runtime, role)
        created = await make_patient(client, headers)
        changed = await client.put(
            f"{PATIENTS}/{created['id']}", json={"blood_type": "B-"}, headers=headers
        )
        assert changed.status_code == 200, (role, changed.text)
    assert await stored_patients(runtime) == len(REGISTRARS)


async def test_only_an_admin_deactivates(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await staff(client, runtime, Role.ADMIN)
    created = await make_patient(client, admin)
    url = f"{PATIENTS}/{created['id']}"
    for role in (*READERS_ONLY, Role.RECEPTIONIST, Role.NURSE, Role.DOCTOR):
        headers = await staff(client, runtime, role)
        error = error_of(await client.delete(url, headers=headers), 403, "FORBIDDEN")
        assert error["details"]["permission"] == "patients:deactivate", role
    assert (await client.get(url, headers=admin)).json()["is_active"] is True
    assert (await client.delete(url, headers=admin)).status_code == 204
    assert (await client.get(url, headers=admin)).json()["is_active"] is False


async def test_without_a_valid_token_every_patient_endpoint_is_401(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    created = await make_patient(client, desk)
    url = f"{PATIENTS}/{created['id']}"
    calls = (
        ("POST", PATIENTS, patient_body()),
        ("GET", PATIENTS, None),
        ("GET", f"{PATIENTS}/search?query=John", None),
        ("GET", url, None),
        ("PUT", url, {"blood_type": "O+"}),
        ("DELETE", url, None),
    )
    for auth in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic dXNlcg=="}):
        for method, path, body in calls:
            response = await client.request(method, path, json=body, headers=auth)
            error_of(response, 401, "UNAUTHORIZED")
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, path)
            assert created["last_name"] not in response.text
    assert await stored_patients(runtime) == 1
    after = await client.get(url, headers=desk)
    assert after.headers["ETag"] == '"1"' and after.json()["is_active"] is True
