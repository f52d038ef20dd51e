"""What a booking must say and what it may leave out: times, duration, status and the rest of
the body are checked before anything is stored."""

from __future__ import annotations

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.appointments.support import (
    APPOINTMENTS,
    SCHEDULE,
    SEED_DAY,
    book,
    clinician,
    error_of,
    invalid_field,
    patient,
    slot,
    staff,
)

START, END = f"{SEED_DAY}T14:00:00Z", f"{SEED_DAY}T14:30:00Z"


async def test_times_and_duration_must_agree(client: httpx.AsyncClient, runtime: Runtime) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    john = await patient(client, desk)
    base = slot(john["id"], doctor.provider_id, START, None)
    for extra, field in (
        ({"end_datetime": f"{SEED_DAY}T13:30:00Z"}, "end_datetime"),
        ({"end_datetime": START}, "end_datetime"),
        ({}, "end_datetime"),
        ({"end_datetime": END, "duration": 45}, "duration"),
        ({"end_datetime": f"{SEED_DAY}T14:30:30Z"}, "end_datetime"),
        ({"duration": 0}, "duration"),
        ({"duration": 1441}, "duration"),
        ({"start_datetime": "2024-01-20T14:00:00", "duration": 30}, "start_datetime"),
        ({"start_datetime": "9999-12-31T23:50:00Z", "duration": 30}, "start_datetime"),
        ({"start_datetime": "tomorrow", "duration": 30}, "start_datetime"),
    ):
        response = await client.post(APPOINTMENTS, json=base | extra, headers=desk)
        assert invalid_field(response) == field, (extra, response.text)
    assert (await client.get(APPOINTMENTS, headers=desk)).json()["total"] == 0

    # Any UTC offset is understood and answered in UTC.
    offset = await book(
        client, desk, base | {"start_datetime": "2024-01-20T09:00:00-05:00", "duration": 30}
    )
    assert (offset["start_datetime"], offset["end_datetime"]) == (START, END)


async def test_the_rest_of_the_body_is_checked(client: httpx.AsyncClient, runtime: Runtime) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    john = await patient(client, desk)
    base = slot(john["id"], doctor.provider_id)
    for extra, field in (
        ({"status": "completed"}, "status"),
        ({"status": "checked_in"}, "status"),
        ({"priority": "whenever"}, "priority"),
        ({"reminder_method": ["pigeon"]}, "reminder_method.0"),
        ({"appointment_type": "!!!"}, "appointment_type"),
        ({"telehealth": "maybe"}, "telehealth"),
        ({"location": "x" * 201}, "location"),
        ({"colour": "blue"}, "colour"),
        ({"provider_id": "dr-smith"}, "provider_id"),
    ):
        response = await client.post(APPOINTMENTS, json=base | extra, headers=desk)
        assert invalid_field(response) == field, (extra, response.text)
    created = await book(
        client,
        desk,
        base | {"appointment_type": "Follow-Up Visit", "reminder_method": ["sms", "email", "sms"]},
    )
    assert created["appointment_type"] == "follow_up_visit"
    assert created["reminder_method"] == ["sms", "email"]


async def test_camel_case_bodies_are_understood(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    john = await patient(client, desk)
    body = {
        "patientId": john["patient_id"],
        "providerId": doctor.provider_id,
        "appointmentType": "office_visit",
        "startDatetime": START,
        "endDatetime": END,
        "reminderMethod": ["email"],
    }
    created = await book(client, desk, body)
    assert created["patient_id"] == john["id"] and created["reminder_method"] == ["email"]


async def test_unknown_or_inactive_patients_and_providers(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await staff(client, runtime, Role.ADMIN)
    doctor = await clinician(client, runtime)
    john = await patient(client, admin)
    nobody = "00000000-0000-4000-8000-000000000000"
    missing_patient = await client.post(
        APPOINTMENTS, json=slot(nobody, doctor.provider_id), headers=admin
    )
    error_of(missing_patient, 404, "NOT_FOUND")
    missing_provider = await client.post(APPOINTMENTS, json=slot(john["id"], nobody), headers=admin)
    assert invalid_field(missing_provider) == "provider_id"
    error_of(await client.get(f"{APPOINTMENTS}/{nobody}", headers=admin), 404, "NOT_FOUND")
    error_of(await client.get(f"{APPOINTMENTS}/APT20240099", headers=admin), 404, "NOT_FOUND")

    assert (
        await client.delete(f"/api/v1/providers/{doctor.provider_id}", headers=admin)
    ).status_code == 204
    deactivated = await client.post(
        APPOINTMENTS, json=slot(john["id"], doctor.provider_id), headers=admin
    )
    assert invalid_field(deactivated) == "provider_id"
    other = await clinician(client, runtime)
    assert (await client.delete(f"/api/v1/patients/{john['id']}", headers=admin)).status_code == 204
    error_of(
        await client.post(APPOINTMENTS, json=slot(john["id"], other.provider_id), headers=admin),
        409,
        "CONFLICT",
    )


async def test_a_retried_booking_with_its_idempotency_key_returns_the_first_answer(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    john = await patient(client, desk)
    headers = {**desk, "Idempotency-Key": "desk-3-booking-17"}
    body = slot(john["id"], doctor.provider_id)
    first = await client.post(APPOINTMENTS, json=body, headers=headers)
    retry = await client.post(APPOINTMENTS, json=body, headers=headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert (await client.get(APPOINTMENTS, headers=desk)).json()["total"] == 1


async def test_schedule_queries_are_checked(client: httpx.AsyncClient, runtime: Runtime) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    for params, field in (
        ({}, "start_date"),
        ({"start_date": "2024-01-01", "end_date": "2024-02-01"}, "end_date"),
        ({"start_date": "2024-01-02", "end_date": "2024-01-01"}, "end_date"),
        ({"start_date": SEED_DAY, "duration": 3}, "duration"),
        ({"start_date": SEED_DAY, "duration": "half-hour"}, "duration"),
        ({"start_date": "9999-12-31"}, "start_date"),
    ):
        response = await client.get(
            SCHEDULE, params={"provider_id": doctor.provider_id, **params}, headers=desk
        )
        assert invalid_field(response) == field, (params, response.text)
    camel = await client.get(
        SCHEDULE, params={"providerId": doctor.provider_id, "startDate": SEED_DAY}, headers=desk
    )
    assert camel.status_code == 200 and len(camel.json()["available_slots"]) == 18
    month = await client.get(
        SCHEDULE,
        params={
            "provider_id": doctor.provider_id,
            "start_date": "2024-01-01",
            "end_date": "2024-01-31",
        },
        headers=desk,
    )
    assert len(month.json()["available_slots"]) == 31 * 18
    nobody = "00000000-0000-4000-8000-000000000000"
    missing = await client.get(
        SCHEDULE, params={"provider_id": nobody, "start_date": SEED_DAY}, headers=desk
    )
    error_of(missing, 404, "NOT_FOUND")
