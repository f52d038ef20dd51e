"""A small hospital whose figures are known by hand: every metric must come out exactly.

Today is T. The period asked is T-20 .. T+10 (31 days); the previous one T-51 .. T-21.
Patients (ages on T+10, the period's last day):

| | age | sex | registered | coverage | conditions | visits in the period |
|---|---|---|---|---|---|---|
| A | 30 | M | now | private | "Hypertension" (text) | T-10 BP 150/95, T-5 BP 130/85 |
| B | 60 | F | now | medicare | I10 coded; "Diabetes Type 2" (text) | T-8 BP 150/92 |
| C | 70 | F | now | medicaid | "Diabetes Type 2" (text) | T-3 |
| D | 10 | M | now | self_pay | - | T-2, and T-1 entered in error |
| E | 50 exactly | O | now | none | E11.9 coded | T-4 |
| F | 40 | M | T-30 | private | "Hypertension" | T-30 only (previous period) |
| H | 20 | F | T-30 | private | - | - |
| G | 25 | F | now, deactivated | - | - | - |
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from hms.analytics.models import PatientSummary
from hms.auth.permissions import Role
from hms.config import Settings
from hms.patients.models import Patient
from hms.runtime import Runtime
from tests import conftest
from tests.analytics.support import (
    PATIENTS,
    QUALITY,
    born,
    charge,
    cover,
    encounter,
    hba1c,
    kept_appointment,
    ok,
)
from tests.factories import bearer, login, make_patient, make_user

TODAY = datetime.now(UTC).date()
START, END = TODAY - timedelta(days=20), TODAY + timedelta(days=10)
EARLIER = TODAY - timedelta(days=30)


def day(days_ago: int) -> date:
    return TODAY - timedelta(days=days_ago)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Targets set by the operator: two measures land exactly on or above theirs.
    return conftest.test_settings(
        database_url,
        tmp_path / "data",
        analytics_targets={"diabetes_hba1c_control": 30.0, "medication_reconciliation": 80.0},
    )


async def _staff(
    client: httpx.AsyncClient, runtime: Runtime, role: Role
) -> tuple[dict[str, str], dict[str, Any]]:
    user = await make_user(runtime, role=role)
    return bearer(await login(client, user["username"])), user


async def _hospital(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, str]:
    doctor, doctor_user = await _staff(client, runtime, Role.DOCTOR)
    admin, _ = await _staff(client, runtime, Role.ADMIN)
    tech, _ = await _staff(client, runtime, Role.LAB_TECHNICIAN)
    billing, _ = await _staff(client, runtime, Role.BILLING)
    provider = doctor_user["provider_id"]

    async def patient(age: int, sex: str, conditions: list[str], **kw: Any) -> str:
        body = await make_patient(
            client,
            doctor,
            date_of_birth=born(age, END, kw.pop("days_earlier", 1)),
            gender=sex,
            medical_conditions=conditions,
        )
        return str(body["id"])

    a = await patient(30, "M", ["Hypertension"])
    b = await patient(60, "F", ["Diabetes Type 2"])
    c = await patient(70, "F", ["Diabetes Type 2"])
    d = await patient(10, "M", [])
    e = await patient(50, "O", [], days_earlier=0)
    f = await patient(40, "M", ["Hypertension"])
    h = await patient(20, "F", [])
    g = await patient(25, "F", [])
    for pid, kind in ((a, "private"), (b, "medicare"), (c, "medicaid"), (d, "self_pay")):
        await cover(client, billing, pid, kind)
    for pid in (f, h):
        await cover(client, billing, pid, "private")
    response = await client.delete(f"/api/v1/patients/{g}", headers=admin)
    assert response.status_code == 204, response.text
    # F and H were registered a month ago: the only way to be registered in the past.
    # Written behind the services' back, so the analytics summary they keep is moved too.
    moved, ids = datetime.combine(EARLIER, time(9), UTC), [uuid.UUID(f), uuid.UUID(h)]
    async with runtime.engine.begin() as conn:
        await conn.execute(update(Patient).where(Patient.id.in_(ids)).values(created_at=moved))
        await conn.execute(
            update(PatientSummary)
            .where(PatientSummary.patient_id.in_(ids))
            .values(created_at=moved)
        )

    await encounter(client, doctor, a, day(10), blood_pressure="150/95")
    a_visit = await encounter(client, doctor, a, day(5), blood_pressure="130/85")
    b_visit = await encounter(client, doctor, b, day(8), blood_pressure="150/92", codes=("I10",))
    c_visit = await encounter(client, doctor, c, day(3))
    await encounter(client, doctor, d, day(2))
    voided = await encounter(client, doctor, d, day(1), blood_pressure="120/80")
    await ok(
        client,
        "PUT",
        f"/api/v1/clinical/encounters/{voided['id']}",
        doctor,
        json={"status": "entered_in_error", "amendment_reason": "Wrong chart"},
    )
    e_visit = await encounter(client, doctor, e, day(4), codes=("E11.9",))
    await encounter(client, doctor, f, EARLIER, blood_pressure="120/70")

    await hba1c(client, doctor, tech, b, "7.2")
    await hba1c(client, doctor, tech, c, "7.0")
    await hba1c(client, doctor, tech, c, "9.1")  # the latest counts

    money = {"provider_id": provider}
    await charge(
        client,
        billing,
        patient_id=a,
        day=day(5),
        code="99213",
        amount="100.00",
        insurance="80.00",
        encounter_id=a_visit["id"],
        **money,
    )
    await charge(
        client,
        billing,
        patient_id=b,
        day=day(8),
        code="99214",
        amount="150.50",
        insurance="120.40",
        encounter_id=b_visit["id"],
        **money,
    )
    void = await charge(
        client,
        billing,
        patient_id=b,
        day=day(8),
        code="99215",
        amount="500.00",
        insurance="400.00",
        **money,
    )
    await ok(client, "POST", f"/api/v1/billing/charges/{void['id']}/void", billing)
    await charge(
        client,
        billing,
        patient_id=b,
        day=day(20),
        code="82274",
        amount="25.00",
        insurance="25.00",
        **money,
    )
    await charge(
        client,
        billing,
        patient_id=f,
        day=EARLIER,
        code="99213",
        amount="200.00",
        insurance="160.00",
        **money,
    )
    # Screening long ago: a colonoscopy counts for 10 years, a FIT for one.
    await charge(
        client,
        billing,
        patient_id=c,
        day=TODAY - timedelta(days=3 * 365),
        code="45378",
        amount="1000.00",
        insurance="900.00",
        **money,
    )
    await charge(
        client,
        billing,
        patient_id=e,
        day=TODAY - timedelta(days=2 * 365),
        code="82274",
        amount="25.00",
        insurance="25.00",
        **money,
    )
    # Medication reconciliation documented on four of the five adult visits.
    for pid, visit, code in (
        (a, a_visit, "G8427"),
        (b, b_visit, "1159F"),
        (c, c_visit, "1160F"),
        (e, e_visit, "1111F"),
    ):
        await charge(
            client,
            billing,
            patient_id=pid,
            day=day(1),
            code=code,
            amount="0.00",
            insurance="0.00",
            encounter_id=visit["id"],
            **money,
        )

    start = datetime.combine(TODAY + timedelta(days=3), time(9), UTC)
    for offset, minutes, outcome in (
        (0, 30, "completed"),
        (1, 15, "completed"),
        (2, 60, "cancelled"),
    ):
        await kept_appointment(
            client,
            doctor,
            patient_id=a,
            provider_id=provider,
            start=start + timedelta(days=offset),
            minutes=minutes,
            outcome=outcome,
        )
    return admin


async def test_every_patient_metric_is_exactly_as_counted_by_hand(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await _hospital(client, runtime)
    params = {"start_date": START.isoformat(), "end_date": END.isoformat()}
    body = await ok(client, "GET", PATIENTS, admin, params=params)
    assert body["start_date"] == START.isoformat() and body["end_date"] == END.isoformat()
    assert body["metrics"] == {
        "registrations": {"total": 7, "new": 5, "growth_rate": 150.0},
        "visits": {"total": 6, "unique_patients": 5, "average_duration": 22.5},
        # 100.00 + 150.50 + 25.00 + 4 x 0.00 against 200.00: +37.75 %, rounded half up.
        "revenue": {"total": 275.5, "insurance": 225.4, "patient": 50.1, "growth_rate": 37.8},
    }
    assert body["demographics"] == {
        "age_groups": {"0-18": 14.3, "19-35": 28.6, "36-50": 28.6, "51-65": 14.3, "65+": 14.3},
        "gender": {"male": 42.9, "female": 42.9, "other": 14.3, "unknown": 0.0},
        "insurance_types": {
            "private": 42.9,
            "medicare": 14.3,
            "medicaid": 14.3,
            "self_pay": 14.3,
            "unknown": 14.3,
        },
    }


async def test_every_quality_measure_is_exactly_as_counted_by_hand(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await _hospital(client, runtime)
    params = {"start_date": START.isoformat(), "end_date": END.isoformat()}
    body = await ok(client, "GET", QUALITY, admin, params=params)
    assert body["metrics"] == {
        # A (text, latest 130/85) and B (coded I10, 150/92); F had no visit in the period.
        "blood_pressure_control": {
            "eligible": 2,
            "controlled": 1,
            "rate": 50.0,
            "target": 90.0,
            "status": "not_met",
        },
        # B 7.2, C latest 9.1, E (coded E11.9) no result.
        "diabetes_hba1c_control": {
            "eligible": 3,
            "controlled": 1,
            "rate": 33.3,
            "target": 30.0,
            "status": "met",
        },
        # B (FIT this period), C (colonoscopy 3 years ago), E (FIT 2 years ago: too old).
        "cancer_screening": {
            "eligible": 3,
            "screened": 2,
            "rate": 66.7,
            "target": 80.0,
            "status": "not_met",
        },
        # Adult visits: A twice, B, C, E; four carry a reconciliation code. 80.0 meets 80.0.
        "medication_reconciliation": {
            "eligible": 5,
            "reconciled": 4,
            "rate": 80.0,
            "target": 80.0,
            "status": "met",
        },
    }


async def test_metrics_selects_what_is_computed(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await _hospital(client, runtime)
    params = {"start_date": START.isoformat(), "end_date": END.isoformat(), "metrics": "visits"}
    body = await ok(client, "GET", PATIENTS, admin, params=params)
    assert set(body["metrics"]) == {"visits"}
    assert body["metrics"]["visits"]["total"] == 6
    assert body["demographics"]["gender"]["male"] == 42.9
