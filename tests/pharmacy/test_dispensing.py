"""Dispensing: the first fill and each refill are recorded, the counter never goes below zero
(also when pharmacists race), retries never fill twice, and dead prescriptions are not filled."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from hms.auth.permissions import Role
from hms.db import utcnow
from hms.pharmacy.models import Prescription, PrescriptionFill
from hms.runtime import Runtime
from tests.pharmacy.support import (
    PRESCRIPTIONS,
    audit_entries,
    error_of,
    new_patient,
    prescribe,
    staff,
)


async def fills_stored(runtime: Runtime, prescription_id: str) -> list[int]:
    async with runtime.sessionmaker() as session:
        rows = await session.execute(
            select(PrescriptionFill.fill_number)
            .where(PrescriptionFill.prescription_id == uuid.UUID(prescription_id))
            .order_by(PrescriptionFill.fill_number)
        )
        return list(rows.scalars())


async def test_three_refills_give_four_fills_then_completed(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    pharmacist = await staff(client, runtime, Role.PHARMACIST)
    patient = await new_patient(client, doctor.headers)
    rx = await prescribe(client, doctor, patient["id"])
    url = f"{PRESCRIPTIONS}/{rx['id']}/dispense"
    remaining = []
    for _ in range(4):
        response = await client.post(
            url, json={"quantity": "30 tablets", "ndc": "12345-678-90"}, headers=pharmacist.headers
        )
        assert response.status_code == 201, response.text
        remaining.append(response.json()["prescription"]["refills"]["remaining"])
    body = response.json()
    assert remaining == [3, 2, 1, 0]
    assert body["fill_number"] == 4 and body["refill"] is True
    assert body["dispensed_by"]["username"] == pharmacist.user["username"]
    assert body["prescription"]["status"] == "completed"
    assert body["prescription"]["fill_count"] == 4

    fifth = await client.post(url, headers=pharmacist.headers)
    error = error_of(fifth, 409, "CONFLICT")
    assert error["details"]["refills_remaining"] == 0
    fills = await client.get(f"{PRESCRIPTIONS}/{rx['id']}/fills", headers=pharmacist.headers)
    assert [f["fill_number"] for f in fills.json()["fills"]] == [1, 2, 3, 4]
    assert [f["refill"] for f in fills.json()["fills"]] == [False, True, True, True]
    dispensed = await audit_entries(runtime, "prescription.dispense")
    assert [e.details["fill_number"] for e in dispensed] == [1, 2, 3, 4]
    assert all(str(e.patient_id) == patient["id"] for e in dispensed)


async def test_twenty_pharmacists_at_once_get_exactly_four_fills(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    first = await staff(client, runtime, Role.PHARMACIST)
    second = await staff(client, runtime, Role.PHARMACIST)
    patient = await new_patient(client, doctor.headers)
    rx = await prescribe(client, doctor, patient["id"])
    url = f"{PRESCRIPTIONS}/{rx['id']}/dispense"
    answers = await asyncio.gather(
        *(
            client.post(url, json={}, headers=(first if i % 2 else second).headers)
            for i in range(20)
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 4 + [409] * 16, [a.text for a in answers if a.status_code >= 500]
    assert await fills_stored(runtime, rx["id"]) == [1, 2, 3, 4]
    fetched = await client.get(f"{PRESCRIPTIONS}/{rx['id']}", headers=first.headers)
    assert fetched.json()["refills"] == {"authorized": 3, "remaining": 0}
    assert fetched.json()["fill_count"] == 4


async def test_a_retried_dispense_is_never_a_second_fill(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    pharmacist = await staff(client, runtime, Role.PHARMACIST)
    patient = await new_patient(client, doctor.headers)
    rx = await prescribe(client, doctor, patient["id"])
    url = f"{PRESCRIPTIONS}/{rx['id']}/dispense"
    headers = pharmacist.headers | {"Idempotency-Key": "counter-2-fill-77"}
    answers = [await client.post(url, json={"quantity": "30"}, headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert answers[1].headers["Idempotent-Replayed"] == "true"
    assert len({a.json()["id"] for a in answers}) == 1
    assert await fills_stored(runtime, rx["id"]) == [1]
    # The same key raced from several requests still fills once.
    raced_headers = pharmacist.headers | {"Idempotency-Key": "counter-2-fill-78"}
    raced = await asyncio.gather(*(client.post(url, headers=raced_headers) for _ in range(5)))
    assert {r.status_code for r in raced} <= {201, 409}
    assert await fills_stored(runtime, rx["id"]) == [1, 2]


async def test_cancelled_on_hold_and_expired_prescriptions_are_not_filled(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    pharmacist = await staff(client, runtime, Role.PHARMACIST)
    patient = await new_patient(client, doctor.headers)
    held, cancelled, expired = [await prescribe(client, doctor, patient["id"]) for _ in range(3)]
    await client.put(
        f"{PRESCRIPTIONS}/{held['id']}", json={"status": "on_hold"}, headers=doctor.headers
    )
    await client.put(
        f"{PRESCRIPTIONS}/{cancelled['id']}", json={"status": "cancelled"}, headers=doctor.headers
    )
    async with runtime.sessionmaker() as session, session.begin():
        await session.execute(
            update(Prescription)
            .where(Prescription.id == uuid.UUID(expired["id"]))
            .values(expires_at=utcnow() - timedelta(days=1))
        )
    for rx, status in ((held, "on_hold"), (cancelled, "cancelled"), (expired, "expired")):
        response = await client.post(
            f"{PRESCRIPTIONS}/{rx['id']}/dispense", headers=pharmacist.headers
        )
        assert error_of(response, 409, "CONFLICT")["details"]["status"] == status
    fetched = await client.get(f"{PRESCRIPTIONS}/{expired['id']}", headers=pharmacist.headers)
    assert fetched.json()["status"] == "expired"
    for status, expected in (("expired", [expired]), ("active", []), ("on_hold", [held])):
        listed = await client.get(
            PRESCRIPTIONS,
            params={"patient_id": patient["id"], "status": status},
            headers=pharmacist.headers,
        )
        assert [p["id"] for p in listed.json()["prescriptions"]] == [r["id"] for r in expected]
    async with runtime.sessionmaker() as session:
        count = await session.execute(select(func.count()).select_from(PrescriptionFill))
        assert count.scalar_one() == 0


async def test_only_pharmacists_dispense(client: httpx.AsyncClient, runtime: Runtime) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor.headers)
    rx = await prescribe(client, doctor, patient["id"])
    for role in (Role.DOCTOR, Role.NURSE, Role.ADMIN, Role.RECEPTIONIST):
        who = doctor if role == Role.DOCTOR else await staff(client, runtime, role)
        response = await client.post(f"{PRESCRIPTIONS}/{rx['id']}/dispense", headers=who.headers)
        error_of(response, 403, "FORBIDDEN")
    assert await fills_stored(runtime, rx["id"]) == []
