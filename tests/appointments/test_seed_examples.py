"""The API document's appointment examples, sent as written, answer as documented."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.appointments.support import (
    APPOINTMENTS,
    SCHEDULE,
    SEED_DAY,
    clinician,
    patient,
    staff,
)
from tests.factories import make_patient
from tests.seed_examples import python_client_source, request_body, response_body


def seed_request(patient_id: str, provider_id: str) -> dict[str, object]:
    sent = request_body("POST /api/v1/appointments")
    return sent | {"patient_id": patient_id, "provider_id": provider_id}


async def test_seed_booking_returns_every_documented_field(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    john = await patient(client, desk)
    sent = seed_request(john["id"], doctor.provider_id)
    response = await client.post(APPOINTMENTS, json=sent, headers=desk)
    assert response.status_code == 201, response.text
    created = response.json()
    documented = response_body("#### Create Appointment")
    assert set(documented) <= set(created)
    assert set(documented["_links"]) <= set(created["_links"])
    for name, value in sent.items():
        assert created[name] == value, name
    year = datetime.now(UTC).year
    assert re.fullmatch(rf"APT{year}\d{{4}}", created["appointment_number"])
    assert created["created_at"].endswith("Z") and created["updated_at"].endswith("Z")
    base = "http://testserver/api/v1"
    assert created["_links"] == {
        "self": {"href": f"{base}/appointments/{created['id']}"},
        "patient": {"href": f"{base}/patients/{john['id']}"},
        "provider": {"href": f"{base}/providers/{doctor.provider_id}"},
    }
    assert response.headers["Location"] == created["_links"]["self"]["href"]
    assert response.headers["ETag"] == '"1"'

    fetched = await client.get(created["_links"]["self"]["href"], headers=desk)
    assert fetched.status_code == 200
    assert fetched.json() == created
    by_number = await client.get(f"{APPOINTMENTS}/{created['appointment_number']}", headers=desk)
    assert by_number.json()["id"] == created["id"]


async def test_seed_schedule_query_lists_the_booking_and_the_free_slots(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    john = await patient(client, desk, first_name="John", last_name="Doe")
    before = await client.get(
        f"{SCHEDULE}?provider_id={doctor.provider_id}&start_date={SEED_DAY}&end_date={SEED_DAY}",
        headers=doctor.headers,
    )
    assert before.status_code == 200, before.text
    assert before.json()["schedule"] == []
    # No working hours configured: 08:00-17:00 UTC, even on a Saturday, in 30-minute slots.
    assert len(before.json()["available_slots"]) == 18
    created = (
        await client.post(
            APPOINTMENTS, json=seed_request(john["id"], doctor.provider_id), headers=desk
        )
    ).json()

    response = await client.get(
        f"{SCHEDULE}?provider_id={doctor.provider_id}&start_date={SEED_DAY}&end_date={SEED_DAY}",
        headers=doctor.headers,
    )
    assert response.status_code == 200, response.text
    schedule = response.json()
    documented = response_body("#### Get Provider Schedule")
    assert set(documented) <= set(schedule)
    assert set(documented["schedule"][0]) <= set(schedule["schedule"][0])
    assert set(documented["available_slots"][0]) <= set(schedule["available_slots"][0])
    assert schedule["provider_id"] == doctor.provider_id
    assert (schedule["start_date"], schedule["end_date"]) == (SEED_DAY, SEED_DAY)
    [entry] = schedule["schedule"]
    for name in documented["schedule"][0]:
        if name != "patient_name":
            assert entry[name] == created[name], name
    assert entry["patient_name"] == "John Doe"
    slots = schedule["available_slots"]
    assert documented["available_slots"][0] in slots  # 08:00-08:30, as documented
    assert documented["available_slots"][1] in slots
    starts = [s["start_time"] for s in slots]
    assert f"{SEED_DAY}T14:00:00Z" not in starts
    assert f"{SEED_DAY}T13:30:00Z" in starts and f"{SEED_DAY}T14:30:00Z" in starts
    assert len(slots) == 17
    assert starts[-1] == f"{SEED_DAY}T16:30:00Z"


async def test_slot_length_follows_the_duration_parameter(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    john = await patient(client, desk)
    await client.post(APPOINTMENTS, json=seed_request(john["id"], doctor.provider_id), headers=desk)
    response = await client.get(
        SCHEDULE,
        params={"provider_id": doctor.provider_id, "start_date": SEED_DAY, "duration": 60},
        headers=desk,
    )
    assert response.status_code == 200, response.text
    slots = response.json()["available_slots"]
    assert {s["duration"] for s in slots} == {60}
    # Nine hourly slots, less the 14:00-15:00 one that the half-hour booking touches.
    assert [s["start_time"][11:16] for s in slots] == [
        "08:00", "09:00", "10:00", "11:00", "12:00", "13:00", "15:00", "16:00",
    ]  # fmt: skip
    assert slots[0]["end_time"] == f"{SEED_DAY}T09:00:00Z"


async def test_the_python_clients_booking_and_the_js_clients_listing_work_as_written(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """The Python example sends no duration and no status; the JavaScript example lists a
    patient's appointments with `?patientId=`."""
    assert "'reason': 'Follow-up visit'" in python_client_source()
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    jane = await make_patient(client, desk, first_name="Jane", last_name="Smith")
    other = await make_patient(client, desk)
    body = {
        "patient_id": jane["id"],
        "provider_id": doctor.provider_id,
        "appointment_type": "office_visit",
        "start_datetime": "2024-01-20T14:00:00Z",
        "end_datetime": "2024-01-20T14:30:00Z",
        "location": "Main Clinic - Room 101",
        "reason": "Follow-up visit",
    }
    created = await client.post(APPOINTMENTS, json=body, headers=desk)
    assert created.status_code == 201, created.text
    assert created.json()["duration"] == 30
    assert created.json()["status"] == "scheduled"
    assert created.json()["priority"] == "normal"
    assert created.json()["reminder_method"] == [] and created.json()["telehealth"] is False
    # Another patient, booked by start and duration alone.
    body.pop("end_datetime")
    elsewhere = body | {"patient_id": other["id"], "start_datetime": "2024-01-20T15:00:00Z"}
    later = await client.post(APPOINTMENTS, json=elsewhere | {"duration": 45}, headers=desk)
    assert later.status_code == 201, later.text
    assert later.json()["end_datetime"] == "2024-01-20T15:45:00Z"

    listed = await client.get(f"{APPOINTMENTS}?patientId={jane['id']}", headers=desk)
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["appointments"]] == [created.json()["id"]]
    assert listed.json()["total"] == 1

    # The patient resource's `_links.appointments` leads to the same list.
    link = jane["_links"]["appointments"]["href"]
    via_link = await client.get(link, headers=desk)
    assert via_link.status_code == 200, via_link.text
    assert via_link.json()["appointments"] == listed.json()["appointments"]
