"""What the analytics tests share: the two endpoints and quick ways to put known records in
place through the API (patients, encounters, lab results, charges, appointments)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx

PATIENTS = "/api/v1/analytics/patients"
QUALITY = "/api/v1/analytics/clinical-quality"


def at(day: date, hour: int = 12) -> str:
    return datetime.combine(day, time(hour), UTC).isoformat().replace("+00:00", "Z")


def born(age: int, on: date, days_earlier: int = 0) -> str:
    """A birth date that makes the patient `age` on `on` (its birthday when days_earlier=0)."""
    try:
        day = on.replace(year=on.year - age)
    except ValueError:
        day = on.replace(year=on.year - age, day=28)
    return (day - timedelta(days=days_earlier)).isoformat()


async def ok(
    client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str], **kw: Any
) -> Any:
    response = await client.request(method, url, headers=headers, **kw)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def encounter(
    client: httpx.AsyncClient,
    doctor: dict[str, str],
    patient_id: str,
    day: date,
    *,
    blood_pressure: str | None = None,
    codes: tuple[str, ...] = (),
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "patient_id": patient_id,
        "encounter_type": "office_visit",
        "encounter_date": at(day, 10),
        "chief_complaint": "Follow-up",
        "diagnoses": [{"code": code} for code in codes],
    }
    if blood_pressure:
        body["physical_examination"] = {"vital_signs": {"blood_pressure": blood_pressure}}
    return dict(await ok(client, "POST", "/api/v1/clinical/encounters", doctor, json=body))


async def hba1c(
    client: httpx.AsyncClient,
    doctor: dict[str, str],
    tech: dict[str, str],
    patient_id: str,
    value: str,
) -> None:
    order = await ok(
        client,
        "POST",
        "/api/v1/laboratory/orders",
        doctor,
        json={"patient_id": patient_id, "tests": [{"test_code": "HBA1C"}]},
    )
    results = {
        "results": [
            {"test_code": "HBA1C", "components": [{"component": "Hemoglobin A1c", "result": value}]}
        ]
    }
    await ok(client, "POST", f"/api/v1/laboratory/orders/{order['id']}/results", tech, json=results)


async def charge(
    client: httpx.AsyncClient,
    billing: dict[str, str],
    *,
    patient_id: str,
    provider_id: str,
    day: date,
    code: str,
    amount: str,
    insurance: str,
    encounter_id: str | None = None,
) -> dict[str, Any]:
    patient_part = f"{float(amount) - float(insurance):.2f}"
    body = {
        "patient_id": patient_id,
        "encounter_id": encounter_id,
        "charge_date": at(day, 11),
        "charge_code": code,
        "quantity": 1,
        "unit_price": amount,
        "total_amount": amount,
        "insurance_amount": insurance,
        "patient_amount": patient_part,
        "billing_provider_id": provider_id,
    }
    return dict(await ok(client, "POST", "/api/v1/billing/charges", billing, json=body))


async def cover(
    client: httpx.AsyncClient, billing: dict[str, str], patient_id: str, kind: str
) -> None:
    body: dict[str, Any] = {"coverage_type": kind}
    if kind != "self_pay":
        body |= {"payer": "Payer", "policy_number": "POL123"}
    await ok(client, "PUT", f"/api/v1/patients/{patient_id}/coverage", billing, json=body)


async def kept_appointment(
    client: httpx.AsyncClient,
    staff: dict[str, str],
    *,
    patient_id: str,
    provider_id: str,
    start: datetime,
    minutes: int,
    outcome: str,
) -> None:
    body = {
        "patient_id": patient_id,
        "provider_id": provider_id,
        "appointment_type": "office_visit",
        "start_datetime": start.isoformat().replace("+00:00", "Z"),
        "end_datetime": (start + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
        "duration": minutes,
    }
    booked = await ok(client, "POST", "/api/v1/appointments", staff, json=body)
    url = f"/api/v1/appointments/{booked['id']}"
    if outcome == "completed":
        await ok(client, "POST", f"{url}/check-in", staff)
        await ok(client, "POST", f"{url}/complete", staff)
    elif outcome == "cancelled":
        response = await client.delete(url, headers=staff)
        assert response.status_code in (200, 204), response.text


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    return dict(error)
