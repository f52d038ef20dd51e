"""The provider directory over REST: who may change it, and the checks on what goes in."""

from __future__ import annotations

from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import bearer, login, make_patient, make_user, signed_in

PROVIDERS = "/api/v1/providers"
VALID_NPI, OTHER_VALID_NPI, INVALID_NPI = "1234567893", "1245319599", "1234567890"
VALID_DEA, INVALID_DEA = "AS1234563", "AS1234567"


def provider_body(**overrides: Any) -> dict[str, Any]:
    return {"first_name": "Gregory", "last_name": "House", "specialty": "Nephrology"} | overrides


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> httpx.Response:
    return await client.post(PROVIDERS, json=provider_body(**overrides), headers=headers)


async def test_admin_creates_and_everyone_signed_in_reads(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await signed_in(client, runtime, role=Role.ADMIN)
    response = await create(client, admin, npi=VALID_NPI, dea_number=VALID_DEA)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["npi"] == VALID_NPI and created["dea_number"] == VALID_DEA
    assert created["is_active"] is True and created["user_id"] is None
    self_href = f"http://testserver/api/v1/providers/{created['id']}"
    assert created["_links"]["self"]["href"] == self_href
    assert response.headers["Location"] == self_href
    assert response.headers["ETag"] == '"1"'

    assert (await client.get(PROVIDERS)).status_code == 401
    for role in Role:
        headers = admin if role == Role.ADMIN else await _reader(client, runtime, role)
        listed = await client.get(PROVIDERS, headers=headers)
        assert listed.status_code == 200, role
        # Clinicians signed in along the way have their own entries too.
        assert created["id"] in [p["id"] for p in listed.json()["providers"]]
        one = await client.get(f"{PROVIDERS}/{created['id']}", headers=headers)
        assert one.status_code == 200 and one.json() == created, role


async def _reader(client: httpx.AsyncClient, runtime: Runtime, role: Role) -> dict[str, str]:
    if role != Role.PATIENT:
        return await signed_in(client, runtime, role=role)
    staff = await signed_in(client, runtime, role=Role.RECEPTIONIST)
    record = await make_patient(client, staff)
    return await signed_in(client, runtime, role=role, patient=record["patient_id"])


async def test_only_admins_create_or_deactivate(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await signed_in(client, runtime, role=Role.ADMIN)
    existing = (await create(client, admin)).json()
    for role in (Role.DOCTOR, Role.NURSE, Role.RECEPTIONIST, Role.BILLING):
        someone = await signed_in(client, runtime, role=role)
        refused = await create(client, someone, npi=VALID_NPI)
        assert refused.status_code == 403, role
        assert refused.json()["error"]["code"] == "FORBIDDEN"
        gone = await client.delete(f"{PROVIDERS}/{existing['id']}", headers=someone)
        assert gone.status_code == 403, role
    kept = await client.get(f"{PROVIDERS}/{existing['id']}", headers=admin)
    assert kept.json()["is_active"] is True
    listed = (await client.get(PROVIDERS, params={"limit": 100}, headers=admin)).json()
    assert VALID_NPI not in {p["npi"] for p in listed["providers"]}


async def test_npi_and_dea_check_digits(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await signed_in(client, runtime, role=Role.ADMIN)
    for field, value in (("npi", INVALID_NPI), ("npi", "12345"), ("dea_number", INVALID_DEA)):
        response = await create(client, admin, **{field: value})
        assert response.status_code == 422, (field, value)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"]["field"] == field
    lower = await create(client, admin, npi=VALID_NPI, dea_number=VALID_DEA.lower())
    assert lower.status_code == 201
    assert lower.json()["dea_number"] == VALID_DEA
    assert (await client.get(PROVIDERS, headers=admin)).json()["total"] == 1

    changed = await client.put(
        f"{PROVIDERS}/{lower.json()['id']}", json={"npi": INVALID_NPI}, headers=admin
    )
    assert changed.status_code == 422 and changed.json()["error"]["details"]["field"] == "npi"


async def test_duplicate_npi_conflicts(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await signed_in(client, runtime, role=Role.ADMIN)
    first = await create(client, admin, npi=VALID_NPI)
    assert first.status_code == 201
    again = await create(client, admin, npi=VALID_NPI, last_name="Wilson")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "CONFLICT"
    other = (await create(client, admin, npi=OTHER_VALID_NPI)).json()
    clash = await client.put(f"{PROVIDERS}/{other['id']}", json={"npi": VALID_NPI}, headers=admin)
    assert clash.status_code == 409
    # Saving an entry with its own NPI is not a clash with itself.
    same = await client.put(
        f"{PROVIDERS}/{other['id']}", json={"npi": OTHER_VALID_NPI}, headers=admin
    )
    assert same.status_code == 200


async def test_linking_an_account(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await signed_in(client, runtime, role=Role.ADMIN)
    for role in (Role.RECEPTIONIST, Role.BILLING):
        user = await make_user(runtime, role=role)
        refused = await create(client, admin, user_id=user["id"])
        assert refused.status_code == 422, role
        assert refused.json()["error"]["details"]["field"] == "user_id"
    nobody = await create(client, admin, user_id="00000000-0000-4000-8000-000000000000")
    assert nobody.status_code == 422

    # A clinician's account has one directory entry; moving it means unlinking first.
    nurse = await make_user(runtime, role=Role.NURSE)
    twice = await create(client, admin, user_id=nurse["id"])
    assert twice.status_code == 409
    unlinked = await client.put(
        f"{PROVIDERS}/{nurse['provider_id']}", json={"user_id": None}, headers=admin
    )
    assert unlinked.status_code == 200 and unlinked.json()["user_id"] is None
    linked = await create(client, admin, user_id=nurse["id"])
    assert linked.status_code == 201 and linked.json()["user_id"] == nurse["id"]
    me = await client.get("/auth/me", headers=bearer(await login(client, nurse["username"])))
    assert me.json()["provider_id"] == linked.json()["id"]


async def test_doctor_updates_its_own_entry_only(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await signed_in(client, runtime, role=Role.ADMIN)
    me = await make_user(runtime, role=Role.DOCTOR, npi=VALID_NPI)
    other = await make_user(runtime, role=Role.DOCTOR)
    tokens = bearer(await login(client, me["username"]))
    own_id, other_id = me["provider_id"], other["provider_id"]

    mine = await client.put(
        f"{PROVIDERS}/{own_id}",
        json={"specialty": "Cardiology", "phone": "+1 555 010 0200"},
        headers={**tokens, "If-Match": '"1"'},
    )
    assert mine.status_code == 200, mine.text
    assert mine.json()["specialty"] == "Cardiology"
    assert mine.json()["npi"] == VALID_NPI  # untouched fields stay
    assert mine.headers["ETag"] == '"2"'
    stale = await client.put(
        f"{PROVIDERS}/{own_id}",
        json={"specialty": "Oncology"},
        headers={**tokens, "If-Match": '"1"'},
    )
    assert stale.status_code == 412

    theirs = await client.put(f"{PROVIDERS}/{other_id}", json={"specialty": "X"}, headers=tokens)
    assert theirs.status_code == 403
    relink = await client.put(
        f"{PROVIDERS}/{own_id}", json={"user_id": other["id"]}, headers=tokens
    )
    assert relink.status_code == 422
    assert (await client.get(f"{PROVIDERS}/{other_id}", headers=admin)).json()["specialty"] is None

    audit = await client.get("/api/v1/audit", params={"action": "provider.update"}, headers=admin)
    assert [(e["user_id"], e["resource_id"]) for e in audit.json()["entries"]] == [
        (me["id"], own_id)
    ]


async def test_deactivate_hides_from_the_directory_but_keeps_the_entry(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await signed_in(client, runtime, role=Role.ADMIN)
    provider = (await create(client, admin)).json()
    assert (await client.delete(f"{PROVIDERS}/{provider['id']}", headers=admin)).status_code == 204
    assert (await client.get(PROVIDERS, headers=admin)).json()["total"] == 0
    inactive = await client.get(PROVIDERS, params={"is_active": "false"}, headers=admin)
    assert [p["id"] for p in inactive.json()["providers"]] == [provider["id"]]
    kept = await client.get(f"{PROVIDERS}/{provider['id']}", headers=admin)
    assert kept.status_code == 200 and kept.json()["is_active"] is False
    missing = await client.get(f"{PROVIDERS}/not-a-uuid", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"


async def test_unknown_fields_and_camel_case(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = await signed_in(client, runtime, role=Role.ADMIN)
    unknown = await create(client, admin, title="Dr.")
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"]["field"] == "title"
    camel = await client.post(
        PROVIDERS,
        json={"firstName": "Lisa", "lastName": "Cuddy", "deaNumber": VALID_DEA},
        headers=admin,
    )
    assert camel.status_code == 201, camel.text
    assert camel.json()["first_name"] == "Lisa" and camel.json()["dea_number"] == VALID_DEA
