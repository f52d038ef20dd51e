"""ETag and If-Match, Idempotency-Key, and patient numbers drawn concurrently."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

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


async def test_a_stale_if_match_is_412_on_put_and_delete_and_changes_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await staff(client, runtime, Role.ADMIN)
    created = await make_patient(client, admin, blood_type="A+")
    url = f"{PATIENTS}/{created['id']}"
    first = await client.put(url, json={"blood_type": "B+"}, headers=admin | {"If-Match": '"1"'})
    assert first.status_code == 200, first.text
    assert first.headers["ETag"] == '"2"'

    stale = await client.put(url, json={"blood_type": "O-"}, headers=admin | {"If-Match": '"1"'})
    error = error_of(stale, 412, "PRECONDITION_FAILED")
    assert error["details"]["current_etag"] == '"2"'
    error_of(
        await client.delete(url, headers=admin | {"If-Match": '"1"'}), 412, "PRECONDITION_FAILED"
    )
    for garbage in ("1", "abc", '"x"'):
        refused = await client.put(
            url, json={"blood_type": "O-"}, headers=admin | {"If-Match": garbage}
        )
        error_of(refused, 412, "PRECONDITION_FAILED")

    now = await client.get(url, headers=admin)
    assert now.headers["ETag"] == '"2"'
    assert now.json()["blood_type"] == "B+" and now.json()["is_active"] is True


async def test_concurrent_updates_without_if_match_all_apply_in_turn(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """Clients that send no If-Match ask for no version check: updates of one patient racing
    each other are applied one after the other, none refused as stale."""
    admin = await staff(client, runtime, Role.ADMIN)
    created = await make_patient(client, admin)
    url = f"{PATIENTS}/{created['id']}"
    phones = [f"+1555020{n:04d}" for n in range(10)]
    answers = await asyncio.gather(
        *(client.put(url, json={"contact_number": phone}, headers=admin) for phone in phones)
    )
    assert [a.status_code for a in answers] == [200] * len(phones), [a.text for a in answers]
    assert sorted(int(a.headers["ETag"].strip('"')) for a in answers) == list(range(2, 12))
    now = await client.get(url, headers=admin)
    assert now.headers["ETag"] == '"11"'
    assert now.json()["contact_number"] in phones


async def test_a_current_if_match_works_and_the_etag_counts_up(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await staff(client, runtime, Role.ADMIN)
    created = await make_patient(client, admin)
    url = f"{PATIENTS}/{created['patient_id']}"
    etag = '"1"'
    for n, phone in enumerate(("+15550100001", "+15550100002", "+15550100003"), start=2):
        response = await client.put(
            url, json={"contact_number": phone}, headers=admin | {"If-Match": etag}
        )
        assert response.status_code == 200, response.text
        etag = response.headers["ETag"]
        assert etag == f'"{n}"'
        assert (await client.get(url, headers=admin)).headers["ETag"] == etag

    weak = await client.put(url, json={"blood_type": "O+"}, headers=admin | {"If-Match": 'W/"4"'})
    assert weak.status_code == 200 and weak.headers["ETag"] == '"5"'
    anything = await client.put(url, json={"blood_type": "O-"}, headers=admin | {"If-Match": "*"})
    assert anything.status_code == 200 and anything.headers["ETag"] == '"6"'

    deleted = await client.delete(url, headers=admin | {"If-Match": '"6"'})
    assert deleted.status_code == 204
    assert (await client.get(url, headers=admin)).json()["is_active"] is False


async def test_delete_with_if_match_star_deactivates(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await staff(client, runtime, Role.ADMIN)
    created = await make_patient(client, admin)
    url = f"{PATIENTS}/{created['id']}"
    assert (await client.delete(url, headers=admin | {"If-Match": "*"})).status_code == 204
    assert (await client.get(url, headers=admin)).json()["is_active"] is False


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_result(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    keyed = headers | {"Idempotency-Key": "registration-desk-3-0001"}
    body = patient_body()
    first = await client.post(PATIENTS, json=body, headers=keyed)
    assert first.status_code == 201, first.text
    retry = await client.post(PATIENTS, json=body, headers=keyed)
    assert retry.status_code == 201, retry.text
    assert retry.json() == first.json()
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert await stored_patients(runtime) == 1

    changed = await client.post(PATIENTS, json=patient_body(), headers=keyed)
    details = validation_error(changed)
    assert details["field"] == "Idempotency-Key"
    assert await stored_patients(runtime) == 1

    unkeyed = await client.post(PATIENTS, json=body, headers=headers)
    assert unkeyed.status_code == 201
    assert unkeyed.json()["id"] != first.json()["id"]
    assert await stored_patients(runtime) == 2


async def test_a_failed_request_does_not_spend_its_idempotency_key(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    keyed = headers | {"Idempotency-Key": "retry-after-fix"}
    bad = patient_body(email="nope")
    validation_error(await client.post(PATIENTS, json=bad, headers=keyed))
    good = await client.post(PATIENTS, json=patient_body(), headers=keyed)
    assert good.status_code == 201, good.text
    assert await stored_patients(runtime) == 1


async def test_users_sharing_an_idempotency_key_do_not_collide(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk_a = await staff(client, runtime, Role.RECEPTIONIST)
    desk_b = await staff(client, runtime, Role.RECEPTIONIST)
    key = {"Idempotency-Key": "shared-key-1"}
    body = patient_body()
    a = await client.post(PATIENTS, json=body, headers=desk_a | key)
    b_same = await client.post(PATIENTS, json=body, headers=desk_b | key)
    b_other = await client.post(
        PATIENTS, json=patient_body(), headers=desk_b | {"Idempotency-Key": "shared-key-2"}
    )
    assert [r.status_code for r in (a, b_same, b_other)] == [201, 201, 201]
    assert len({a.json()["id"], b_same.json()["id"], b_other.json()["id"]}) == 3
    assert await stored_patients(runtime) == 3


async def _register_concurrently(client: httpx.AsyncClient, runtime: Runtime, count: int) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    responses = await asyncio.gather(
        *(client.post(PATIENTS, json=patient_body(), headers=headers) for _ in range(count))
    )
    assert [r.status_code for r in responses] == [201] * count, [r.text for r in responses]
    numbers = [r.json()["patient_id"] for r in responses]
    assert len(set(numbers)) == count
    assert all(re.fullmatch(rf"P{this_year()}\d{{4,}}", n) for n in numbers)
    assert await stored_patients(runtime) == count
    listed = await client.get(f"{PATIENTS}?limit=100", headers=headers)
    assert sorted(p["patient_id"] for p in listed.json()["patients"]) == sorted(numbers)


async def test_fifty_concurrent_registrations_get_distinct_numbers(
    client: httpx.AsyncClient, runtime: Runtime, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers; the small concurrent test covers it")
    await _register_concurrently(client, runtime, 50)


async def test_concurrent_registrations_get_distinct_numbers(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await _register_concurrently(client, runtime, 10)


async def test_concurrent_retries_with_one_key_create_one_record(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    keyed = headers | {"Idempotency-Key": "double-click"}
    body = patient_body()
    responses = await asyncio.gather(
        *(client.post(PATIENTS, json=body, headers=keyed) for _ in range(5))
    )
    # A retry racing the first request may be told to retry (409); none may create a second.
    assert {r.status_code for r in responses} <= {201, 409}, [r.text for r in responses]
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    for conflict in (r for r in responses if r.status_code == 409):
        error_of(conflict, 409, "CONFLICT")
    assert await stored_patients(runtime) == 1
