"""Races run with real parallel clients: each request below is its own ASGI call with its own
database session and transaction, all in flight at once (on PostgreSQL, on separate
connections). Record numbers of every kind never repeat, and patient payments racing for the
same balance never take it below zero. (Double booking: tests/appointments; dispensing:
tests/pharmacy; claiming a charge twice: tests/billing/test_claims.py; patient numbers:
tests/patients/test_concurrency.py; across server processes: tests/server/test_processes.py.)"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import httpx
from sqlalchemy import func, select, text

from hms import numbering
from hms.billing.models import Payment
from hms.db import commit, utcnow
from hms.numbering import NumberSequence, next_number
from hms.runtime import Runtime
from tests.billing.support import CHARGES, PAYMENTS, desk, line, seed_charge
from tests.figures import count
from tests.pharmacy.support import PRESCRIPTIONS, new_patient, prescriber, seed_prescription

PREFIXES = ("P", "RX", "LAB", "APT", "CHG", "CLM")


async def test_numbers_of_every_kind_drawn_at_once_never_repeat(runtime: Runtime) -> None:
    async def draw(prefix: str) -> str:
        async with runtime.sessionmaker() as session:
            number = await next_number(session, prefix)
            await commit(session)
            return number

    numbers = await asyncio.gather(*(draw(p) for p in PREFIXES for _ in range(15)))
    assert len(set(numbers)) == len(numbers) == 15 * len(PREFIXES)
    for prefix in PREFIXES:
        drawn = sorted(int(n[len(prefix) + 4 :]) for n in numbers if n[:-8] == prefix)
        assert drawn == list(range(1, 16)), prefix
    count("races: record numbers drawn concurrently (6 kinds)", len(numbers))


async def test_charges_and_prescriptions_created_at_once_get_distinct_numbers(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    doctor = await prescriber(client, runtime)
    patient = await new_patient(client, doctor.headers)
    charges = [client.post(CHARGES, json=seed_charge(d), headers=d.billing) for _ in range(12)]
    prescriptions = [
        client.post(
            PRESCRIPTIONS,
            json=seed_prescription(patient["id"], doctor.provider_id),
            headers=doctor.headers,
        )
        for _ in range(12)
    ]
    answers = await asyncio.gather(*charges, *prescriptions)
    assert [a.status_code for a in answers] == [201] * 24, [a.text for a in answers]
    charge_numbers = {a.json()["charge_number"] for a in answers[:12]}
    rx_numbers = {a.json()["prescription_number"] for a in answers[12:]}
    assert len(charge_numbers) == len(rx_numbers) == 12
    count("races: charges and prescriptions created concurrently", 24)


async def test_payments_racing_for_one_balance_never_overpay(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    made = await client.post(CHARGES, json=line(d, "100.00"), headers=d.billing)
    assert made.status_code == 201, made.text
    body = {"patient_id": d.patient["id"], "amount": "30.00", "method": "card"}
    answers = await asyncio.gather(
        *(client.post(PAYMENTS, json=body, headers=d.billing) for _ in range(10))
    )
    statuses = sorted(a.status_code for a in answers)
    # 3 x 30.00 fit in 100.00; a fourth would overpay, whichever request comes fourth.
    assert statuses == [201] * 3 + [422] * 7, [a.text for a in answers]
    for refused in (a for a in answers if a.status_code == 422):
        assert refused.json()["error"]["details"]["field"] == "amount"
    balance = await client.get(
        f"/api/v1/billing/patients/{d.patient['id']}/balance", headers=d.billing
    )
    assert balance.json()["patient_paid"] == 90
    assert balance.json()["outstanding"] == 10
    async with runtime.sessionmaker() as session:
        stored = await session.scalar(
            select(func.sum(Payment.amount)).where(
                Payment.patient_id == uuid.UUID(made.json()["patient_id"])
            )
        )
    assert Decimal(stored) == Decimal("90.00")
    count("races: payments raced for one balance", 10)


async def test_numbers_continue_from_the_counter_of_an_earlier_version(
    runtime: Runtime, database_url: str
) -> None:
    """A database upgraded from a version that kept counters in rows goes on after them."""
    async with runtime.sessionmaker() as session:
        if database_url.startswith("postgresql"):
            await session.execute(text(f"DROP SEQUENCE IF EXISTS hms_number_tst{utcnow().year}"))
            numbering._known.clear()
        session.add(NumberSequence(name=f"TST{utcnow().year}", value=41))
        await commit(session)
    async with runtime.sessionmaker() as session:
        first = await next_number(session, "TST")
        second = await next_number(session, "TST")
        await commit(session)
    assert (first, second) == (f"TST{utcnow().year}0042", f"TST{utcnow().year}0043")
