"""A patient's coverage (kept on the patient, used by claims) and balance: charged, paid by
insurance and by the patient, adjusted, outstanding; payments are recorded against it."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from hms.billing.models import Coverage
from hms.runtime import Runtime
from tests.billing.support import (
    CHARGES,
    CLAIMS,
    PAYMENTS,
    charge,
    claim,
    desk,
    error_of,
    insure,
    invalid_field,
    line,
)


async def test_coverage_is_recorded_changed_and_checked(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    path = f"/api/v1/patients/{d.patient['patient_id']}/coverage"
    error_of(await client.get(path, headers=d.billing), 404, "NOT_FOUND")
    no_type = await client.put(path, json={"payer": "Aetna"}, headers=d.billing)
    assert invalid_field(no_type) == "coverage_type"
    no_policy = await client.put(
        path, json={"coverage_type": "private", "payer": "Aetna"}, headers=d.billing
    )
    assert invalid_field(no_policy) == "policy_number"
    unknown = await client.put(path, json={"coverage_type": "gold"}, headers=d.billing)
    assert invalid_field(unknown) == "coverage_type"

    created = await client.put(
        path,
        json={"coverageType": "medicaid", "payer": "State Medicaid", "policyNumber": "MCD-77"},
        headers=d.billing,
    )
    assert created.status_code == 201, created.text
    assert created.json()["coverage_type"] == "medicaid" and created.headers["ETag"] == '"1"'
    assert created.json()["_links"]["patient"]["href"].endswith(d.patient["id"])
    changed = await client.put(
        path, json={"group_number": "G-1"}, headers={**d.billing, "If-Match": '"1"'}
    )
    assert changed.status_code == 200
    assert (changed.json()["policy_number"], changed.json()["group_number"]) == ("MCD-77", "G-1")
    stale = await client.put(
        path, json={"group_number": "G-2"}, headers={**d.billing, "If-Match": '"1"'}
    )
    error_of(stale, 412, "PRECONDITION_FAILED")
    self_pay = await client.put(path, json={"coverage_type": "self_pay"}, headers=d.billing)
    assert self_pay.status_code == 200
    assert self_pay.json()["payer"] is None and self_pay.json()["policy_number"] is None
    with_payer = await client.put(path, json={"payer": "Aetna"}, headers=d.billing)
    assert invalid_field(with_payer) == "payer"
    read = await client.get(path, headers=d.doctor)
    assert read.status_code == 200 and read.json()["coverage_type"] == "self_pay"
    # Analytics counts insurance types straight from the table.
    async with runtime.sessionmaker() as session:
        types = (await session.execute(select(Coverage.coverage_type))).scalars().all()
    assert types == ["self_pay"]


async def test_the_balance_follows_charges_claims_and_payments(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    await insure(client, d)
    balance = f"/api/v1/billing/patients/{d.patient['id']}/balance"

    async def numbers() -> dict[str, float]:
        response = await client.get(balance, headers=d.billing)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["_links"]["self"]["href"].endswith(balance)
        return {k: v for k, v in body.items() if k not in ("patient_id", "_links")}

    empty = await client.get(balance, headers=d.billing)
    assert '"charged":0.00' in empty.text and '"outstanding":0.00' in empty.text
    visit = await charge(client, d)  # 100.00: insurance 80.00, patient 20.00
    extra = await charge(client, d, line(d, "0.10", 3, insurance_amount="0.20"))
    voided = await charge(client, d, line(d, "999.99"))
    await client.post(f"{CHARGES}/{voided['id']}/void", headers=d.billing)
    assert await numbers() == {
        "charged": 100.3,
        "insurance_paid": 0,
        "patient_paid": 0,
        "adjustments": 0,
        "outstanding": 100.3,
    }

    made = await claim(client, d, [visit["id"], extra["id"]])
    await client.post(f"{CLAIMS}/{made['id']}/accept", headers=d.billing)
    paid = await client.post(
        f"{CLAIMS}/{made['id']}/pay",
        json={
            "insurance_paid": "70.10",
            "patient_paid": "0.10",
            "adjustments": [{"reason_code": "CO-45", "amount": "10.00"}],
        },
        headers=d.billing,
    )
    assert paid.status_code == 200, paid.text
    assert await numbers() == {
        "charged": 100.3,
        "insurance_paid": 70.1,
        "patient_paid": 0.1,
        "adjustments": 10,
        "outstanding": 20.1,
    }
    too_much = await client.post(
        PAYMENTS, json={"patient_id": d.patient["id"], "amount": "20.11"}, headers=d.billing
    )
    assert invalid_field(too_much) == "amount"
    zero = await client.post(
        PAYMENTS, json={"patient_id": d.patient["id"], "amount": 0}, headers=d.billing
    )
    assert invalid_field(zero) == "amount"
    for amount in ("0.10", 20):
        payment = await client.post(
            PAYMENTS,
            json={"patient_id": d.patient["patient_id"], "amount": amount, "method": "cash"},
            headers=d.billing,
        )
        assert payment.status_code == 201, payment.text
    assert '"amount":20.00' in payment.text
    settled = await client.get(balance, headers=d.billing)
    assert '"patient_paid":20.20' in settled.text
    assert '"outstanding":0.00' in settled.text
