"""Money is exact: amounts add up to the cent in storage and in the JSON bytes, whether sent as
numbers or strings, and an amount with more than two decimals is refused, never rounded."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
from sqlalchemy import select

from hms.billing.models import Charge, Claim
from hms.runtime import Runtime
from tests.billing.support import CHARGES, CLAIMS, charge, claim, desk, invalid_field, line

# unit price, quantity, insurance part, patient part, total as the JSON bytes must show it
TABLE = [
    (0.30, 1, 0.1, 0.2, "0.30"),
    ("0.30", 1, "0.10", "0.20", "0.30"),
    (99999999.99, 1, 99999999.98, 0.01, "99999999.99"),
    ("33333333.33", 3, "0", "99999999.99", "99999999.99"),
    (0.01, 9999, 0, 99.99, "99.99"),
    (19.99, 3, 47.97, 12.0, "59.97"),
    (100, 1, 80, 20, "100.00"),
]


async def test_amounts_add_up_to_the_cent(client: httpx.AsyncClient, runtime: Runtime) -> None:
    d = await desk(client, runtime)
    for unit, quantity, insurance, own, expected in TABLE:
        body = line(
            d, unit, quantity, total_amount=expected, insurance_amount=insurance, patient_amount=own
        )
        response = await client.post(CHARGES, json=body, headers=d.billing)
        assert response.status_code == 201, response.text
        assert f'"total_amount":{expected}' in response.text
        assert f'"patient_amount":{Decimal(str(own)):.2f}' in response.text
        async with runtime.sessionmaker() as session:
            stored = await session.get_one(Charge, uuid.UUID(response.json()["id"]))
        assert stored.total_amount == Decimal(expected)
        assert stored.insurance_amount + stored.patient_amount == Decimal(expected)
        assert str(stored.unit_price) == f"{Decimal(str(unit)):.2f}"


async def test_many_line_items_sum_exactly_into_a_claim(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    prices = ["0.10", "0.20", "0.70", "1234567.89", "0.01", "19.99", "0.33", "99.95"] * 3
    created = [
        await charge(client, d, line(d, p, insurance_amount="0", patient_amount=p)) for p in prices
    ]
    expected = sum(Decimal(p) for p in prices)
    assert expected == Decimal("3704067.51")
    submitted = await client.post(
        CLAIMS,
        json={
            "patient_id": d.patient["id"],
            "charges": [c["id"] for c in created],
            "insurance_provider": "Aetna",
            "policy_number": "AET-1",
            "total_amount": float(expected),
            "patient_responsibility": str(expected),
        },
        headers=d.billing,
    )
    assert submitted.status_code == 201, submitted.text
    assert '"total_amount":3704067.51' in submitted.text
    async with runtime.sessionmaker() as session:
        stored = (await session.execute(select(Claim))).scalar_one()
    assert stored.total_amount == expected == stored.patient_responsibility
    # One cent off is refused, as a number or as a string.
    again = [await charge(client, d, line(d, "0.10")) for _ in range(3)]
    for wrong in (0.31, "0.29"):
        off = await client.post(
            CLAIMS,
            json={
                "patient_id": d.patient["id"],
                "charges": [c["id"] for c in again],
                "insurance_provider": "Aetna",
                "policy_number": "AET-1",
                "total_amount": wrong,
            },
            headers=d.billing,
        )
        assert invalid_field(off) == "total_amount"
    ok = await claim(
        client, d, [c["id"] for c in again], insurance_provider="Aetna", policy_number="A"
    )
    assert ok["total_amount"] == 0.3 and ok["patient_responsibility"] == 0.3


REFUSED = [
    ("unit_price", 100.001),
    ("unit_price", "0.125"),
    ("unit_price", -1),
    ("unit_price", "NaN"),
    ("unit_price", "Infinity"),
    ("unit_price", True),
    ("unit_price", "ten"),
    ("unit_price", 1e-7),
    ("unit_price", "10000000000.00"),
    ("insurance_amount", 80.005),
    ("total_amount", "100.0001"),
]


async def test_amounts_that_would_need_rounding_or_are_not_money_are_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    for field, value in REFUSED:
        body = line(d, "100.00", insurance_amount="80.00", patient_amount="20.00")
        body[field] = value
        response = await client.post(CHARGES, json=body, headers=d.billing)
        assert invalid_field(response) == field, (field, value)


async def test_inconsistent_amounts_are_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    split = ("total_amount", "insurance_amount", "patient_amount")
    cases = [
        ({"quantity": 2, "unit_price": 100, "total_amount": 100}, "total_amount"),
        ({"unit_price": 100, **dict(zip(split, (100, 80, 30), strict=True))}, "patient_amount"),
        ({"unit_price": 0.3, **dict(zip(split, (0.3, 0.1, 0.1), strict=True))}, "patient_amount"),
        ({"unit_price": 50, "insurance_amount": 60}, "patient_amount"),
    ]
    for amounts, field in cases:
        body = line(d, **amounts)  # type: ignore[arg-type]
        response = await client.post(CHARGES, json=body, headers=d.billing)
        assert invalid_field(response) == field, amounts
    async with runtime.sessionmaker() as session:
        assert (await session.execute(select(Charge))).first() is None


async def test_absent_amounts_are_derived_exactly(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    everything = await charge(client, d, line(d, "33.33", 3))
    assert (everything["total_amount"], everything["insurance_amount"]) == (99.99, 0)
    assert everything["patient_amount"] == 99.99
    split = await client.post(
        CHARGES, json=line(d, "0.10", 3, insurance_amount="0.20"), headers=d.billing
    )
    assert '"total_amount":0.30' in split.text and '"patient_amount":0.10' in split.text
