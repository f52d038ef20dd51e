"""Claims gather pending charges of one patient, each charge on one live claim at most, also
when submissions race; payer details default from the patient's coverage."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import func, select

from hms.billing.models import ClaimCharge
from hms.runtime import Runtime
from tests.billing.support import (
    CHARGES,
    CLAIMS,
    charge,
    claim,
    desk,
    encounter_for,
    error_of,
    insure,
    invalid_field,
    seed_charge,
    seed_claim,
)
from tests.factories import make_patient


async def test_a_charge_cannot_be_claimed_twice(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    first = await charge(client, d)
    await client.post(CLAIMS, json=seed_claim(d, [first["id"]]), headers=d.billing)
    again = await client.post(CLAIMS, json=seed_claim(d, [first["id"]]), headers=d.billing)
    error = error_of(again, 409, "CONFLICT")
    assert error["details"]["status"] == "billed"
    listed = await client.get(CLAIMS, params={"patient_id": d.patient["id"]}, headers=d.billing)
    assert listed.json()["total"] == 1


async def test_concurrent_submissions_of_one_charge_give_one_claim(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    taken = await charge(client, d)
    others = [await charge(client, d) for _ in range(5)]
    responses = await asyncio.gather(
        *(
            client.post(
                CLAIMS,
                json=seed_claim(
                    d, [taken["id"], other["id"]], total_amount=200, patient_responsibility=40
                ),
                headers=d.billing,
            )
            for other in others
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409, 409], [r.text for r in responses]
    for refused in responses:
        if refused.status_code == 409:
            error_of(refused, 409, "CONFLICT")
    async with runtime.sessionmaker() as session:
        count = select(func.count()).select_from(ClaimCharge)
        assert (await session.execute(count)).scalar_one() == 2
        live = count.where(ClaimCharge.charge_id == uuid.UUID(taken["id"]))
        assert (await session.execute(live)).scalar_one() == 1
    # The charges of the refused claims are still free.
    pending = await client.get(
        CHARGES, params={"patient_id": d.patient["id"], "status": "pending"}, headers=d.billing
    )
    assert pending.json()["total"] == 4


async def test_a_claim_holds_one_patients_charges(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    mine = await charge(client, d)
    other = await make_patient(client, d.doctor)
    visit = await encounter_for(client, d.doctor, other["id"])
    theirs = await charge(
        client, d, seed_charge(d, patient_id=other["id"], encounter_id=visit["id"])
    )
    mixed = await client.post(
        CLAIMS,
        json=seed_claim(d, [mine["id"], theirs["id"]], total_amount=200, patient_responsibility=40),
        headers=d.billing,
    )
    assert invalid_field(mixed) == "charges"
    unknown = await client.post(CLAIMS, json=seed_claim(d, [str(uuid.uuid4())]), headers=d.billing)
    assert invalid_field(unknown) == "charges"
    empty = await client.post(CLAIMS, json=seed_claim(d, []), headers=d.billing)
    assert invalid_field(empty) == "charges"
    wrong_share = await client.post(
        CLAIMS, json=seed_claim(d, [mine["id"]], patient_responsibility=25), headers=d.billing
    )
    assert invalid_field(wrong_share) == "patient_responsibility"


async def test_voided_charges_are_not_claimed(client: httpx.AsyncClient, runtime: Runtime) -> None:
    d = await desk(client, runtime)
    gone = await charge(client, d)
    voided = await client.post(
        f"{CHARGES}/{gone['id']}/void", json={"reason": "duplicate entry"}, headers=d.billing
    )
    assert voided.status_code == 200 and voided.json()["status"] == "voided"
    refused = await client.post(CLAIMS, json=seed_claim(d, [gone["id"]]), headers=d.billing)
    assert error_of(refused, 409, "CONFLICT")["details"]["status"] == "voided"


async def test_payer_details_default_from_the_patients_coverage(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    first = await charge(client, d)
    missing = await client.post(
        CLAIMS, json={"patient_id": d.patient["id"], "charges": [first["id"]]}, headers=d.billing
    )
    assert invalid_field(missing) == "insurance_provider"
    await insure(client, d, coverage_type="medicare", payer="Medicare", group_number=None)
    made = await claim(client, d, [first["id"]])
    assert (made["insurance_provider"], made["policy_number"]) == ("Medicare", "BCBS123456789")
    assert made["group_number"] is None
    assert made["diagnoses"] == ["G44.1"] and made["submission_method"] == "electronic"
    # What the request names wins over the file.
    second = await charge(client, d)
    named = await claim(client, d, [second["id"]], insurance_provider="Aetna", policy_number="X1")
    assert (named["insurance_provider"], named["policy_number"]) == ("Aetna", "X1")
    await insure(
        client, d, coverage_type="self_pay", payer=None, policy_number=None, group_number=None
    )
    third = await charge(client, d)
    self_pay = await client.post(
        CLAIMS, json={"patient_id": d.patient["id"], "charges": [third["id"]]}, headers=d.billing
    )
    assert invalid_field(self_pay) == "insurance_provider"


async def test_claims_are_listed_and_filtered(client: httpx.AsyncClient, runtime: Runtime) -> None:
    d = await desk(client, runtime)
    await insure(client, d)
    made = [await claim(client, d, [(await charge(client, d))["id"]]) for _ in range(3)]
    await client.post(f"{CLAIMS}/{made[0]['id']}/accept", headers=d.billing)
    everything = await client.get(CLAIMS, params={"limit": 2}, headers=d.billing)
    body = everything.json()
    assert body["total"] == 3 and len(body["claims"]) == 2 and body["_links"]["next"]
    accepted = await client.get(CLAIMS, params={"status": "accepted"}, headers=d.billing)
    assert [c["id"] for c in accepted.json()["claims"]] == [made[0]["id"]]
    bad = await client.get(CLAIMS, params={"patient_id": "nobody"}, headers=d.billing)
    assert invalid_field(bad) == "patient_id"


async def test_a_retried_submission_with_its_idempotency_key_returns_the_first_claim(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    first = await charge(client, d)
    headers = {**d.billing, "Idempotency-Key": "claim-retry-1"}
    sent = seed_claim(d, [first["id"]])
    original = await client.post(CLAIMS, json=sent, headers=headers)
    retried = await client.post(CLAIMS, json=sent, headers=headers)
    assert original.status_code == retried.status_code == 201
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert retried.content == original.content
    assert '"total_amount":100.00' in retried.text
    listed = await client.get(CLAIMS, headers=d.billing)
    assert listed.json()["total"] == 1
