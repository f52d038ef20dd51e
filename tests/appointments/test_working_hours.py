"""Providers' working hours: a weekly template in the provider's time zone, days off, and the
refusal of bookings outside them unless an administrator or the provider overrides."""

from __future__ import annotations

from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.appointments.support import (
    APPOINTMENTS,
    SCHEDULE,
    Clinician,
    audit_entries,
    book,
    clinician,
    error_of,
    invalid_field,
    patient,
    portal,
    slot,
    staff,
)

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]
# Mornings and afternoons with a lunch break, New York wall-clock time.
OFFICE_HOURS = [
    {"weekday": day, "start_time": start, "end_time": end}
    for day in WEEKDAYS
    for start, end in (("09:00", "12:00"), ("13:00", "17:00"))
]


def hours_path(provider_id: str) -> str:
    return f"/api/v1/providers/{provider_id}/working-hours"


async def set_office_hours(client: httpx.AsyncClient, doctor: Clinician) -> dict[str, Any]:
    response = await client.put(
        hours_path(doctor.provider_id),
        json={"time_zone": "America/New_York", "hours": OFFICE_HOURS},
        headers=doctor.headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_bookings_follow_the_weekly_hours_in_the_providers_time_zone(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    john = await patient(client, desk)
    default = await client.get(hours_path(doctor.provider_id), headers=desk)
    assert default.json()["configured"] is False and default.json()["time_zone"] == "UTC"
    assert default.json()["hours"][5] == {
        "weekday": "saturday", "start_time": "08:00", "end_time": "17:00",
    }  # fmt: skip
    assert default.headers["ETag"] == '"0"'

    configured = await set_office_hours(client, doctor)
    assert configured["configured"] is True and configured["hours"] == OFFICE_HOURS

    def at(start: str, end: str) -> dict[str, Any]:
        return slot(john["id"], doctor.provider_id, start, end)

    # Monday 22 January 2024 is winter time: 09:00 in New York is 14:00 UTC.
    await book(client, desk, at("2024-01-22T14:00:00Z", "2024-01-22T14:30:00Z"))
    await book(client, desk, at("2024-01-22T21:30:00Z", "2024-01-22T22:00:00Z"))  # 16:30-17:00
    for start, end in (
        ("2024-01-22T13:30:00Z", "2024-01-22T14:00:00Z"),  # 08:30, before opening
        ("2024-01-22T17:00:00Z", "2024-01-22T17:30:00Z"),  # lunch
        ("2024-01-22T16:30:00Z", "2024-01-22T18:30:00Z"),  # across lunch
        ("2024-01-22T21:45:00Z", "2024-01-22T22:15:00Z"),  # past closing
        ("2024-01-20T14:00:00Z", "2024-01-20T14:30:00Z"),  # Saturday
    ):
        refused = await client.post(APPOINTMENTS, json=at(start, end), headers=desk)
        assert invalid_field(refused) == "start_datetime", start
        assert "America/New_York" in refused.json()["error"]["details"]["error"]
    # Monday 15 July 2024 is summer time: 09:00 in New York is 13:00 UTC.
    await book(client, desk, at("2024-07-15T13:00:00Z", "2024-07-15T13:30:00Z"))

    winter = await client.get(
        SCHEDULE,
        params={"provider_id": doctor.provider_id, "start_date": "2024-01-22"},
        headers=desk,
    )
    body = winter.json()
    assert body["time_zone"] == "America/New_York"
    starts = [s["start_time"] for s in body["available_slots"]]
    assert starts[0] == "2024-01-22T14:30:00Z"  # 09:00 is booked
    assert "2024-01-22T17:00:00Z" not in starts and "2024-01-22T18:00:00Z" in starts
    assert starts[-1] == "2024-01-22T21:00:00Z"  # 16:30 is booked
    assert len(starts) == 6 + 8 - 2
    assert [e["start_datetime"] for e in body["schedule"]] == [
        "2024-01-22T14:00:00Z", "2024-01-22T21:30:00Z",
    ]  # fmt: skip
    summer = await client.get(
        SCHEDULE,
        params={"provider_id": doctor.provider_id, "start_date": "2024-07-16", "duration": 60},
        headers=desk,
    )
    assert summer.json()["available_slots"][0]["start_time"] == "2024-07-16T13:00:00Z"
    weekend = await client.get(
        SCHEDULE,
        params={
            "provider_id": doctor.provider_id,
            "start_date": "2024-01-20",
            "end_date": "2024-01-21",
        },
        headers=desk,
    )
    assert weekend.json()["available_slots"] == []


async def test_days_off_are_local_dates_and_block_bookings(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    john = await patient(client, desk)
    evening = {"time_zone": "America/New_York", "hours": [
        {"weekday": "monday", "start_time": "18:00", "end_time": "22:00"},
    ]}  # fmt: skip
    assert (
        await client.put(hours_path(doctor.provider_id), json=evening, headers=doctor.headers)
    ).status_code == 200
    days_off = f"/api/v1/providers/{doctor.provider_id}/days-off"
    added = await client.post(
        days_off, json={"date": "2024-01-22", "reason": "Conference"}, headers=doctor.headers
    )
    assert added.status_code == 201, added.text
    assert added.json()["days_off"] == [{"date": "2024-01-22", "reason": "Conference"}]
    assert added.headers["ETag"] == '"2"'
    duplicate = await client.post(days_off, json={"date": "2024-01-22"}, headers=doctor.headers)
    error_of(duplicate, 409, "CONFLICT")

    # 21:00 on Monday in New York is already Tuesday in UTC; the day off is New York's Monday.
    monday_night = slot(
        john["id"], doctor.provider_id, "2024-01-23T02:00:00Z", "2024-01-23T02:30:00Z"
    )
    refused = await client.post(APPOINTMENTS, json=monday_night, headers=desk)
    assert invalid_field(refused) == "start_datetime"
    assert "day off" in refused.json()["error"]["details"]["error"]
    schedule = await client.get(
        SCHEDULE,
        params={"provider_id": doctor.provider_id, "start_date": "2024-01-22"},
        headers=desk,
    )
    assert schedule.json()["available_slots"] == []

    removed = await client.delete(f"{days_off}/2024-01-22", headers=doctor.headers)
    assert removed.status_code == 204
    error_of(
        await client.delete(f"{days_off}/2024-01-22", headers=doctor.headers), 404, "NOT_FOUND"
    )
    kept = await book(client, desk, monday_night)
    hours = await client.get(hours_path(doctor.provider_id), headers=desk)
    assert hours.json()["days_off"] == [] and hours.headers["ETag"] == '"3"'
    # New hours apply to new bookings; the ones already made stay.
    tuesdays = {"hours": [{"weekday": "tuesday", "start_time": "09:00", "end_time": "12:00"}]}
    assert (
        await client.put(hours_path(doctor.provider_id), json=tuesdays, headers=doctor.headers)
    ).status_code == 200
    assert (await client.get(f"{APPOINTMENTS}/{kept['id']}", headers=desk)).json()[
        "status"
    ] == "scheduled"
    error_of(
        await client.post(
            APPOINTMENTS,
            json=monday_night | {"patient_id": (await patient(client, desk))["id"]},
            headers=desk,
        ),
        422,
        "VALIDATION_ERROR",
    )


async def test_a_day_off_applies_to_the_default_hours_too(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await staff(client, runtime, Role.ADMIN)
    doctor = await clinician(client, runtime)
    john = await patient(client, admin)
    days_off = f"/api/v1/providers/{doctor.provider_id}/days-off"
    assert (
        await client.post(days_off, json={"date": "2024-01-20"}, headers=admin)
    ).status_code == 201
    refused = await client.post(
        APPOINTMENTS, json=slot(john["id"], doctor.provider_id), headers=admin
    )
    assert invalid_field(refused) == "start_datetime"
    hours = (await client.get(hours_path(doctor.provider_id), headers=admin)).json()
    assert hours["configured"] is False and hours["days_off"][0]["date"] == "2024-01-20"


async def test_admins_and_the_provider_itself_may_override_and_it_is_audited(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await staff(client, runtime, Role.ADMIN)
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    colleague = await clinician(client, runtime)
    john = await patient(client, desk)
    await set_office_hours(client, doctor)
    saturday = slot(john["id"], doctor.provider_id, override_working_hours=True)
    for who in (desk, colleague.headers):
        error_of(await client.post(APPOINTMENTS, json=saturday, headers=who), 403, "FORBIDDEN")
    created = await book(client, admin, saturday)
    sunday = slot(
        john["id"], doctor.provider_id, "2024-01-21T14:00:00Z", "2024-01-21T14:30:00Z",
        override_working_hours=True,
    )  # fmt: skip
    await book(client, doctor.headers, sunday)
    # The override lifts the hours, never the double-booking rule.
    again = await client.post(APPOINTMENTS, json=saturday, headers=admin)
    error_of(again, 409, "CONFLICT")

    entries = await audit_entries(client, admin, action="appointment.create")
    overridden = [e for e in entries if e["details"].get("override_working_hours")]
    assert len(overridden) == 2
    assert {e["patient_id"] for e in overridden} == {john["id"]}
    assert created["id"] in {e["resource_id"] for e in overridden}


async def test_only_admins_and_the_provider_itself_change_the_hours(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await staff(client, runtime, Role.ADMIN)
    doctor = await clinician(client, runtime)
    colleague = await clinician(client, runtime, Role.NURSE)
    path = hours_path(doctor.provider_id)
    change = {"time_zone": "Europe/Berlin"}
    record = await patient(client, admin)
    for headers in (
        await staff(client, runtime, Role.RECEPTIONIST),
        await portal(client, runtime, record["patient_id"]),
    ):
        assert (await client.get(path, headers=headers)).status_code == 200
        error_of(await client.put(path, json=change, headers=headers), 403, "FORBIDDEN")
    error_of(await client.put(path, json=change, headers=colleague.headers), 403, "FORBIDDEN")
    days_off = f"/api/v1/providers/{doctor.provider_id}/days-off"
    error_of(
        await client.post(days_off, json={"date": "2024-02-01"}, headers=colleague.headers),
        403,
        "FORBIDDEN",
    )
    by_admin = await client.put(path, json=change, headers=admin)
    assert by_admin.status_code == 200 and by_admin.json()["time_zone"] == "Europe/Berlin"
    # A time zone alone keeps the default hours, now in that zone: 08:00 in Berlin is 07:00 UTC.
    assert by_admin.json()["configured"] is False
    berlin = await client.get(
        SCHEDULE,
        params={"provider_id": doctor.provider_id, "start_date": "2024-01-20"},
        headers=admin,
    )
    assert berlin.json()["available_slots"][0]["start_time"] == "2024-01-20T07:00:00Z"
    entries = await audit_entries(client, admin, action="provider.working_hours.update")
    assert entries[0]["resource_id"] == doctor.provider_id


async def test_working_hours_input_is_checked(client: httpx.AsyncClient, runtime: Runtime) -> None:
    doctor = await clinician(client, runtime)
    path = hours_path(doctor.provider_id)
    monday = {"weekday": "monday", "start_time": "09:00", "end_time": "12:00"}
    for body, field in (
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"time_zone": None}, "time_zone"),
        ({"hours": [monday | {"end_time": "08:00"}]}, "hours.0"),
        ({"hours": [monday | {"weekday": "funday"}]}, "hours.0.weekday"),
        ({"hours": [monday | {"start_time": "09:00:30"}]}, "hours.0.start_time"),
        ({"hours": [monday, monday | {"start_time": "11:00", "end_time": "13:00"}]}, "hours"),
        ({"hours": [monday], "lunch": "12:00"}, "lunch"),
    ):
        response = await client.put(path, json=body, headers=doctor.headers)
        assert invalid_field(response) == field, (body, response.text)
    assert (await client.get(path, headers=doctor.headers)).json()["configured"] is False


async def test_working_hours_changes_honour_if_match_and_can_return_to_the_default(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await clinician(client, runtime)
    path = hours_path(doctor.provider_id)
    first = await client.put(
        path, json={"hours": OFFICE_HOURS[:2]}, headers={**doctor.headers, "If-Match": '"0"'}
    )
    assert first.status_code == 200 and first.headers["ETag"] == '"1"'
    stale = await client.put(
        path, json={"hours": []}, headers={**doctor.headers, "If-Match": '"0"'}
    )
    error_of(stale, 412, "PRECONDITION_FAILED")
    zone_only = await client.put(path, json={"time_zone": "Asia/Tokyo"}, headers=doctor.headers)
    assert zone_only.json()["hours"] == OFFICE_HOURS[:2] and zone_only.json()["configured"] is True
    cleared = await client.put(path, json={"hours": []}, headers=doctor.headers)
    assert cleared.json()["configured"] is False and len(cleared.json()["hours"]) == 7
