"""Charges: pending -> billed -> paid, or voided; changed only while pending. Claims:
submitted -> accepted or rejected -> paid; a rejected claim frees its charges for resubmission.
Every other move is a 409; each move is an event."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx

from hms.events import DomainEvent
from hms.runtime import Runtime
from tests.billing.support import (
    CHARGES,
    CLAIMS,
    charge,
    claim,
    desk,
    error_of,
    insure,
    invalid_field,
)


@contextlib.asynccontextmanager
async def event_stream(runtime: Runtime) -> AsyncIterator[list[DomainEvent]]:
    seen: list[DomainEvent] = []
    stream = runtime.broker.subscribe()
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0)

    async def consume() -> None:
        nonlocal waiting
        while True:
            seen.append(await waiting)
            waiting = asyncio.ensure_future(anext(stream))

    task = asyncio.create_task(consume())
    try:
        yield seen
        await asyncio.sleep(0.01)
    finally:
        task.cancel()
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_pending_charge_is_corrected_then_frozen_once_billed(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    created = await charge(client, d)
    path = f"{CHARGES}/{created['id']}"
    more = await client.put(
        path, json={"quantity": 2, "modifiers": ["25"], "charge_code": "g0008"}, headers=d.billing
    )
    assert more.status_code == 200, more.text
    body = more.json()
    assert (body["total_amount"], body["insurance_amount"], body["patient_amount"]) == (
        200,
        80,
        120,
    )
    assert body["charge_code"] == "G0008" and more.headers["ETag"] == '"2"'
    stale = await client.put(path, json={"notes": "x"}, headers={**d.billing, "If-Match": '"1"'})
    error_of(stale, 412, "PRECONDITION_FAILED")
    bad_split = await client.put(path, json={"insurance_amount": 250}, headers=d.billing)
    assert invalid_field(bad_split) == "patient_amount"
    emptied = await client.put(path, json={"unit_price": None}, headers=d.billing)
    assert invalid_field(emptied) == "unit_price"

    await insure(client, d)
    await claim(client, d, [created["id"]])
    frozen = await client.put(path, json={"notes": "late"}, headers=d.billing)
    assert error_of(frozen, 409, "CONFLICT")["details"]["status"] == "billed"
    no_void = await client.post(f"{path}/void", headers=d.billing)
    error_of(no_void, 409, "CONFLICT")


async def test_claim_rejected_resubmitted_accepted_and_paid(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    await insure(client, d)
    charges = [await charge(client, d) for _ in range(2)]
    ids = [c["id"] for c in charges]
    async with event_stream(runtime) as seen:
        first = await claim(client, d, ids)
        path = f"{CLAIMS}/{first['id']}"
        early = await client.post(f"{path}/pay", json={"insurance_paid": 100}, headers=d.billing)
        assert error_of(early, 409, "CONFLICT")["details"] == {
            "status": "submitted",
            "target": "paid",
        }
        no_reason = await client.post(f"{path}/reject", json={}, headers=d.billing)
        assert invalid_field(no_reason) == "reason"
        rejected = await client.post(
            f"{path}/reject", json={"reason": "Missing modifier 25"}, headers=d.billing
        )
        assert rejected.status_code == 200, rejected.text
        assert rejected.json()["status"] == "rejected"
        assert rejected.json()["rejection_reason"] == "Missing modifier 25"
        for c in ids:
            fetched = await client.get(f"{CHARGES}/{c}", headers=d.billing)
            assert fetched.json()["status"] == "pending"
        fixed = await client.put(
            f"{CHARGES}/{ids[0]}", json={"modifiers": ["25"]}, headers=d.billing
        )
        assert fixed.status_code == 200

        again = await client.post(f"{path}/resubmit", headers=d.billing)
        assert again.status_code == 201, again.text
        second = again.json()
        assert second["resubmission_of"] == first["id"] and second["id"] != first["id"]
        assert second["charges"] == ids and second["status"] == "submitted"
        assert second["_links"]["resubmission_of"]["href"].endswith(first["id"])
        twice = await client.post(f"{path}/resubmit", headers=d.billing)
        error_of(twice, 409, "CONFLICT")
        not_rejected = await client.post(f"{CLAIMS}/{second['id']}/resubmit", headers=d.billing)
        error_of(not_rejected, 409, "CONFLICT")

        second_path = f"{CLAIMS}/{second['id']}"
        accepted = await client.post(f"{second_path}/accept", headers=d.billing)
        assert accepted.json()["status"] == "accepted" and accepted.json()["accepted_at"]
        over = [{"reason_code": "CO-45", "amount": 20.01}]
        too_much = await client.post(
            f"{second_path}/pay",
            json={"insurance_paid": 160, "patient_paid": 20, "adjustments": over},
            headers=d.billing,
        )
        assert invalid_field(too_much) == "insurance_paid"
        bad_code = await client.post(
            f"{second_path}/pay",
            json={"insurance_paid": 100, "adjustments": [{"reason_code": "45", "amount": 1}]},
            headers=d.billing,
        )
        assert invalid_field(bad_code).startswith("adjustments")
        paid = await client.post(
            f"{second_path}/pay",
            json={
                "insurance_paid": "150.10",
                "patient_paid": 20,
                "adjustments": [
                    {"reason_code": "co-45", "amount": 9.9, "description": "Contractual"},
                    {"reason_code": "PR-1", "amount": "0.00"},
                ],
            },
            headers=d.billing,
        )
        assert invalid_field(paid).startswith("adjustments")
        paid = await client.post(
            f"{second_path}/pay",
            json={
                "insurance_paid": "150.10",
                "patient_paid": 20,
                "adjustments": [{"reason_code": "co-45", "amount": 9.9, "description": "Contract"}],
            },
            headers=d.billing,
        )
        assert paid.status_code == 200, paid.text
        assert '"insurance_paid":150.10' in paid.text and '"patient_paid":20.00' in paid.text
        assert paid.json()["adjustments"] == [
            {"reason_code": "CO-45", "amount": 9.9, "description": "Contract"}
        ]
        assert '"amount":9.90' in paid.text
        for c in ids:
            assert (await client.get(f"{CHARGES}/{c}", headers=d.billing)).json()[
                "status"
            ] == "paid"
        after = await client.post(f"{second_path}/reject", json={"reason": "x"}, headers=d.billing)
        error_of(after, 409, "CONFLICT")

    kinds = [(e.type, e.resource_id) for e in seen]
    assert kinds.count(("claim_submitted", first["id"])) == 1
    assert kinds.count(("claim_submitted", second["id"])) == 1
    assert kinds.count(("claim_updated", second["id"])) == 2
    updates = [e for e in seen if e.type == "claim_updated"]
    assert all(e.patient_id == d.patient["id"] for e in updates)
    assert updates[-1].data["claim"]["status"] == "paid"
    assert updates[-1].data["claim"]["insurance_paid"] == "150.10"


async def test_charge_created_is_an_event(client: httpx.AsyncClient, runtime: Runtime) -> None:
    d = await desk(client, runtime)
    async with event_stream(runtime) as seen:
        created = await charge(client, d)
    (event,) = [e for e in seen if e.type == "charge_created"]
    assert event.patient_id == d.patient["id"] and event.resource_id == created["id"]
    assert event.data["charge"]["charge_number"] == created["charge_number"]
    assert event.data["charge"]["total_amount"] == "100.00"
