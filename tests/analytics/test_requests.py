"""Who may ask, what a bad request gets, what an empty period answers, and what is audited."""

from __future__ import annotations

import httpx
import pytest

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.analytics.support import PATIENTS, QUALITY, error_of
from tests.factories import make_patient, signed_in

JANUARY = {"start_date": "2024-01-01", "end_date": "2024-01-31"}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.DOCTOR, Role.NURSE])
async def test_administrators_and_clinicians_may_read_analytics(
    client: httpx.AsyncClient, runtime: Runtime, role: Role
) -> None:
    headers = await signed_in(client, runtime, role=role)
    for path in (PATIENTS, QUALITY):
        response = await client.get(path, params=JANUARY, headers=headers)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "role", [Role.RECEPTIONIST, Role.BILLING, Role.PHARMACIST, Role.LAB_TECHNICIAN]
)
async def test_other_staff_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, role: Role
) -> None:
    headers = await signed_in(client, runtime, role=role)
    for path in (PATIENTS, QUALITY):
        error_of(await client.get(path, params=JANUARY, headers=headers), 403, "FORBIDDEN")


async def test_patients_and_anonymous_callers_are_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await signed_in(client, runtime, role=Role.DOCTOR)
    patient = await make_patient(client, doctor)
    portal = await signed_in(client, runtime, role=Role.PATIENT, patient=patient["patient_id"])
    for path in (PATIENTS, QUALITY):
        error_of(await client.get(path, params=JANUARY, headers=portal), 403, "FORBIDDEN")
        error_of(await client.get(path, params=JANUARY), 401, "UNAUTHORIZED")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start_date": "2024-02-30", "end_date": "2024-03-01"}, "start_date"),
        ({"start_date": "yesterday", "end_date": "2024-03-01"}, "start_date"),
        ({"start_date": "2024-01-01", "end_date": "2024-13-01"}, "end_date"),
        ({"start_date": "2024-02-01", "end_date": "2024-01-31"}, "start_date"),
        ({"start_date": "0001-01-01", "end_date": "2024-01-31"}, "start_date"),
        ({"end_date": "2024-01-31"}, "start_date"),
        ({"start_date": "2024-01-01"}, "end_date"),
    ],
)
async def test_bad_dates_are_a_422_naming_the_field(
    client: httpx.AsyncClient, runtime: Runtime, params: dict[str, str], field: str
) -> None:
    headers = await signed_in(client, runtime, role=Role.ADMIN)
    for path in (PATIENTS, QUALITY):
        details = error_of(
            await client.get(path, params=params, headers=headers), 422, "VALIDATION_ERROR"
        )["details"]
        assert field in str(details["field"]), details


async def test_an_unknown_metric_is_a_422(client: httpx.AsyncClient, runtime: Runtime) -> None:
    headers = await signed_in(client, runtime, role=Role.ADMIN)
    params = JANUARY | {"metrics": "registrations,profit"}
    details = error_of(
        await client.get(PATIENTS, params=params, headers=headers), 422, "VALIDATION_ERROR"
    )["details"]
    assert details["field"] == "metrics"
    assert "profit" in details["error"]


async def test_an_empty_period_answers_zeros_and_null_rates(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await signed_in(client, runtime, role=Role.ADMIN)
    await make_patient(client, headers)  # registered today, after the period
    response = await client.get(PATIENTS, params=JANUARY, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["metrics"] == {
        "registrations": {"total": 0, "new": 0, "growth_rate": None},
        "visits": {"total": 0, "unique_patients": 0, "average_duration": None},
        "revenue": {"total": 0, "insurance": 0, "patient": 0, "growth_rate": None},
    }
    for group in body["demographics"].values():
        assert set(group.values()) == {None}
    quality = (await client.get(QUALITY, params=JANUARY, headers=headers)).json()
    for measure in quality["metrics"].values():
        assert measure["eligible"] == 0
        assert (measure["rate"], measure["status"]) == (None, None)


async def test_answers_name_no_patient_and_are_audited_without_one(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await signed_in(client, runtime, role=Role.ADMIN)
    patient = await make_patient(client, admin, first_name="Zebedee", last_name="Quartermain")
    period = {"start_date": "2020-01-01", "end_date": "2030-12-31"}
    for path in (PATIENTS, QUALITY):
        response = await client.get(path, params=period, headers=admin)
        assert response.status_code == 200, response.text
        for identifier in (patient["id"], patient["patient_id"], "Zebedee", "Quartermain"):
            assert identifier not in response.text
    entries = (
        await client.get("/api/v1/audit", params={"resource_type": "analytics"}, headers=admin)
    ).json()["entries"]
    assert sorted(e["action"] for e in entries) == [
        "analytics.clinical_quality",
        "analytics.patients",
    ]
    for entry in entries:
        assert entry["patient_id"] is None and entry["resource_id"] is None
        assert entry["details"]["start_date"] == "2020-01-01"


async def test_the_widest_period_allowed_answers(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await signed_in(client, runtime, role=Role.ADMIN)
    widest = {"start_date": "1900-01-01", "end_date": "2199-12-31"}
    for path in (PATIENTS, QUALITY):
        response = await client.get(path, params=widest, headers=headers)
        assert response.status_code == 200, response.text
    late = {"start_date": "2200-01-01", "end_date": "2200-01-31"}
    error_of(await client.get(PATIENTS, params=late, headers=headers), 422, "VALIDATION_ERROR")
