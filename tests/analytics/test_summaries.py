"""Analytics count the per-patient summaries the services keep on write: every correction
(a condition removed from the list, an encounter entered in error, a diagnosis added on
amendment, a coverage change, a deactivation, a voided charge) must show in the next answer,
and a database upgraded from before the summaries must answer the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from alembic import command
from sqlalchemy import Connection, select

from hms.analytics.models import PatientSummary, RevenueDay, VisitSummary
from hms.analytics.summaries import revenue_day_rows, summary_rows, visit_rows
from hms.auth.permissions import Role
from hms.migrate import alembic_config
from hms.runtime import Runtime
from tests.analytics.support import PATIENTS, QUALITY, born, charge, cover, encounter, hba1c, ok
from tests.factories import bearer, login, make_patient, make_user

TODAY = datetime.now(UTC).date()
PERIOD = {
    "start_date": str(TODAY - timedelta(days=20)),
    "end_date": str(TODAY + timedelta(days=10)),
}
END = TODAY + timedelta(days=10)


def day(days_ago: int) -> Any:
    return TODAY - timedelta(days=days_ago)


async def _staff(client: httpx.AsyncClient, runtime: Runtime, role: Role) -> dict[str, Any]:
    user = await make_user(runtime, role=role)
    return {"headers": bearer(await login(client, user["username"])), **user}


async def _answers(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    patients = await ok(client, "GET", PATIENTS, admin, params=PERIOD)
    quality = await ok(client, "GET", QUALITY, admin, params=PERIOD)
    measures = {
        name: (m["eligible"], m.get("controlled", m.get("screened", m.get("reconciled"))))
        for name, m in quality["metrics"].items()
    }
    return {
        "total": patients["metrics"]["registrations"]["total"],
        "insurance": patients["demographics"]["insurance_types"],
        "measures": measures,
    }


async def _summaries_match_the_records(runtime: Runtime) -> None:
    """What was kept on write is what the records say now."""
    async with runtime.engine.connect() as conn:
        for table, rows in ((PatientSummary, summary_rows()), (VisitSummary, visit_rows())):
            kept = sorted(map(tuple, await conn.execute(select(table.__table__))))
            fresh = sorted(map(tuple, await conn.execute(rows)))
            assert kept == fresh
            assert len(kept) > 0
        # A day whose charges were all voided keeps its row, at zero.
        days = await conn.execute(select(RevenueDay.__table__))
        kept = sorted(row for row in map(tuple, days) if any(row[1:]))
        fresh = sorted(map(tuple, await conn.execute(revenue_day_rows(conn.dialect.name))))
        assert kept == fresh


async def test_corrections_show_in_the_next_answer(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = (await _staff(client, runtime, Role.ADMIN))["headers"]
    doctor_user = await _staff(client, runtime, Role.DOCTOR)
    doctor, provider = doctor_user["headers"], doctor_user["provider_id"]
    tech = (await _staff(client, runtime, Role.LAB_TECHNICIAN))["headers"]
    billing = (await _staff(client, runtime, Role.BILLING))["headers"]

    async def patient(age: int, conditions: list[str]) -> str:
        body = await make_patient(
            client, admin, date_of_birth=born(age, END, 10), medical_conditions=conditions
        )
        return str(body["id"])

    p1 = await patient(50, ["Hypertension"])
    p2 = await patient(60, [])
    p3 = await patient(55, ["Diabetes Type 2"])
    p4 = await patient(40, [])
    await cover(client, billing, p1, "medicaid")
    await cover(client, billing, p4, "private")
    p1_visit = await encounter(client, doctor, p1, day(5), blood_pressure="130/80")
    await encounter(client, doctor, p2, day(6), blood_pressure="150/95")
    coded = await encounter(client, doctor, p2, day(4), blood_pressure="120/70", codes=("I10",))
    await encounter(client, doctor, p3, day(3))
    await hba1c(client, doctor, tech, p3, "7.0")
    fit = await charge(
        client,
        billing,
        patient_id=p3,
        provider_id=provider,
        day=day(2),
        code="82274",
        amount="25.00",
        insurance="25.00",
    )

    before = await _answers(client, admin)
    assert before["total"] == 4
    assert before["insurance"] == {
        "private": 25.0,
        "medicare": 0.0,
        "medicaid": 25.0,
        "self_pay": 0.0,
        "unknown": 50.0,
    }
    # P1 by its text, P2 by its coded diagnosis, both with a controlled latest reading;
    # P3 diabetic and controlled; P1, P2, P3 of screening age, P3 screened.
    assert before["measures"]["blood_pressure_control"] == (2, 2)
    assert before["measures"]["diabetes_hba1c_control"] == (1, 1)
    assert before["measures"]["cancer_screening"] == (3, 1)
    await _summaries_match_the_records(runtime)

    await ok(client, "PUT", f"/api/v1/patients/{p1}", admin, json={"medical_conditions": []})
    await ok(
        client,
        "PUT",
        f"/api/v1/clinical/encounters/{coded['id']}",
        doctor,
        json={"status": "entered_in_error", "amendment_reason": "Wrong patient"},
    )
    await ok(
        client,
        "PUT",
        f"/api/v1/clinical/encounters/{p1_visit['id']}",
        doctor,
        json={"diagnoses": [{"code": "C18.9"}]},
    )
    await cover(client, billing, p1, "self_pay")
    await cover(client, billing, p3, "medicare")
    response = await client.delete(f"/api/v1/patients/{p4}", headers=admin)
    assert response.status_code == 204, response.text
    await ok(client, "POST", f"/api/v1/billing/charges/{fit['id']}/void", billing)

    after = await _answers(client, admin)
    assert after["total"] == 3
    assert after["insurance"] == {
        "private": 0.0,
        "medicare": 33.3,
        "medicaid": 0.0,
        "self_pay": 33.3,
        "unknown": 33.3,
    }
    # Nobody hypertensive any more: P1's list is empty, P2's only I10 was entered in error.
    assert after["measures"]["blood_pressure_control"] == (0, 0)
    assert after["measures"]["diabetes_hba1c_control"] == (1, 1)
    # P1 now has colon cancer coded; P3's screening was voided.
    assert after["measures"]["cancer_screening"] == (2, 0)
    # Every visit of the period that was not entered in error, by patients all adults.
    assert after["measures"]["medication_reconciliation"] == (3, 0)
    await _summaries_match_the_records(runtime)


async def test_an_upgraded_database_answers_the_same(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = (await _staff(client, runtime, Role.ADMIN))["headers"]
    doctor = (await _staff(client, runtime, Role.DOCTOR))["headers"]
    billing = (await _staff(client, runtime, Role.BILLING))["headers"]
    for age, conditions, codes, kind in (
        (50, ["Hypertension"], (), "private"),
        (70, [], ("I10",), "medicare"),
        (30, ["Diabetes Type 2"], ("E11.9",), None),
    ):
        body = await make_patient(
            client, admin, date_of_birth=born(age, END, 10), medical_conditions=conditions
        )
        if kind:
            await cover(client, billing, str(body["id"]), kind)
        await encounter(
            client, doctor, str(body["id"]), day(3), blood_pressure="125/85", codes=codes
        )
    kept = await _answers(client, admin)

    def migrate(connection: Connection, step: str) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if step == "0008" else command.upgrade)(config, step)

    # Back to before the summaries (the table is dropped), then up again: filled from the records.
    async with runtime.engine.begin() as conn:
        await conn.run_sync(migrate, "0008")
        await conn.run_sync(migrate, "heads")
    assert await _answers(client, admin) == kept
    assert kept["measures"]["blood_pressure_control"] == (2, 2)
    await _summaries_match_the_records(runtime)
