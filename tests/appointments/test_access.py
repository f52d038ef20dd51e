"""Who may do what with appointments: front desk and clinicians book, only staff move a visit
along, and a patient account reaches its own appointments alone."""

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
    portal,
    slot,
    staff,
)


async def test_staff_who_book_and_staff_who_do_not(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    john = await patient(client, desk)
    for i, role in enumerate((Role.ADMIN, Role.DOCTOR, Role.NURSE, Role.RECEPTIONIST)):
        headers = await staff(client, runtime, role)
        start = f"{SEED_DAY}T{9 + i:02d}:00:00Z"
        created = await book(
            client, headers, slot(john["id"], doctor.provider_id, start, None, duration=20)
        )
        checked_in = await client.post(f"{APPOINTMENTS}/{created['id']}/check-in", headers=headers)
        assert checked_in.status_code == 200, (role, checked_in.text)
        assert (await client.get(APPOINTMENTS, headers=headers)).status_code == 200
    for role in (Role.PHARMACIST, Role.LAB_TECHNICIAN, Role.BILLING):
        headers = await staff(client, runtime, role)
        body = slot(john["id"], doctor.provider_id, f"{SEED_DAY}T15:00:00Z", None, duration=20)
        denied = error_of(
            await client.post(APPOINTMENTS, json=body, headers=headers), 403, "FORBIDDEN"
        )
        assert denied["details"]["permission"] == "appointments:write"
        error_of(await client.get(APPOINTMENTS, headers=headers), 403, "FORBIDDEN")
        schedule = await client.get(
            SCHEDULE,
            params={"provider_id": doctor.provider_id, "start_date": SEED_DAY},
            headers=headers,
        )
        error_of(schedule, 403, "FORBIDDEN")


async def test_a_clinician_books_and_sees_its_own_schedule_by_default(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    john = await patient(client, desk, first_name="John", last_name="Doe")
    body = slot(john["id"], doctor.provider_id)
    del body["provider_id"]
    created = await book(client, doctor.headers, body)
    assert created["provider_id"] == doctor.provider_id
    mine = await client.get(SCHEDULE, params={"start_date": SEED_DAY}, headers=doctor.headers)
    assert mine.status_code == 200, mine.text
    assert mine.json()["provider_id"] == doctor.provider_id
    assert [e["patient_name"] for e in mine.json()["schedule"]] == ["John Doe"]
    # Front-desk staff have no provider record of their own: they must say whose schedule.
    assert (
        invalid_field(await client.get(SCHEDULE, params={"start_date": SEED_DAY}, headers=desk))
        == "provider_id"
    )
    assert invalid_field(await client.post(APPOINTMENTS, json=body, headers=desk)) == "provider_id"


async def test_a_patient_books_reschedules_and_cancels_its_own(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    john = await patient(client, desk)
    me = await portal(client, runtime, john["patient_id"])
    body = slot(john["id"], doctor.provider_id, reason="Sore throat", reminder_method=["sms"])
    mine = await book(client, me, body)
    del body["patient_id"]  # the portal may leave its own record implicit
    later = await book(
        client,
        me,
        body | {"start_datetime": f"{SEED_DAY}T16:00:00Z", "end_datetime": f"{SEED_DAY}T16:30:00Z"},
    )
    assert later["patient_id"] == john["id"]

    moved = await client.put(
        f"{APPOINTMENTS}/{mine['id']}", json={"start_datetime": f"{SEED_DAY}T10:00:00Z"}, headers=me
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["end_datetime"] == f"{SEED_DAY}T10:30:00Z"
    for field, value in (("notes", "VIP"), ("priority", "urgent"), ("location", "Room 1")):
        error_of(
            await client.put(f"{APPOINTMENTS}/{mine['id']}", json={field: value}, headers=me),
            403,
            "FORBIDDEN",
        )
        error_of(
            await client.post(APPOINTMENTS, json=body | {field: value}, headers=me),
            403,
            "FORBIDDEN",
        )
    overriding = body | {"override_working_hours": True}
    error_of(await client.post(APPOINTMENTS, json=overriding, headers=me), 403, "FORBIDDEN")

    error_of(
        await client.post(f"{APPOINTMENTS}/{mine['id']}/check-in", headers=me), 403, "FORBIDDEN"
    )
    error_of(
        await client.post(f"{APPOINTMENTS}/{mine['id']}/no-show", headers=me), 403, "FORBIDDEN"
    )
    cancelled = await client.post(
        f"{APPOINTMENTS}/{mine['id']}/cancel", json={"reason": "Feeling better"}, headers=me
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await client.delete(f"{APPOINTMENTS}/{later['id']}", headers=me)).status_code == 204


async def test_a_patient_cannot_reach_another_patients_appointments(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    john = await patient(client, desk, first_name="John", last_name="Doe")
    jane = await patient(client, desk, first_name="Jane", last_name="Roe")
    johns = await book(client, desk, slot(john["id"], doctor.provider_id))
    janes = await book(
        client,
        desk,
        slot(jane["id"], doctor.provider_id, f"{SEED_DAY}T09:00:00Z", f"{SEED_DAY}T09:30:00Z"),
    )
    me = await portal(client, runtime, jane["patient_id"])

    for ref in (johns["id"], johns["appointment_number"]):
        path = f"{APPOINTMENTS}/{ref}"
        error_of(await client.get(path, headers=me), 404, "NOT_FOUND")
        error_of(await client.put(path, json={"reason": "x"}, headers=me), 404, "NOT_FOUND")
        error_of(await client.post(f"{path}/cancel", headers=me), 404, "NOT_FOUND")
        error_of(await client.delete(path, headers=me), 404, "NOT_FOUND")
    error_of(
        await client.get(f"/api/v1/patients/{john['id']}/appointments", headers=me),
        404,
        "NOT_FOUND",
    )
    booking_for_john = slot(
        john["id"], doctor.provider_id, f"{SEED_DAY}T11:00:00Z", f"{SEED_DAY}T11:30:00Z"
    )
    error_of(await client.post(APPOINTMENTS, json=booking_for_john, headers=me), 404, "NOT_FOUND")

    listed = await client.get(APPOINTMENTS, headers=me)
    assert [a["id"] for a in listed.json()["appointments"]] == [janes["id"]]
    filtered = await client.get(APPOINTMENTS, params={"patient_id": john["id"]}, headers=me)
    assert filtered.json()["appointments"] == [] and filtered.json()["total"] == 0
    own = await client.get(f"/api/v1/patients/{jane['patient_id']}/appointments", headers=me)
    assert [a["id"] for a in own.json()["appointments"]] == [janes["id"]]

    # The schedule shows the patient every free slot, but only its own booking and name.
    schedule = await client.get(
        SCHEDULE, params={"provider_id": doctor.provider_id, "start_date": SEED_DAY}, headers=me
    )
    assert schedule.status_code == 200, schedule.text
    assert [e["patient_name"] for e in schedule.json()["schedule"]] == ["Jane Roe"]
    assert "John" not in schedule.text
    starts = {s["start_time"] for s in schedule.json()["available_slots"]}
    assert f"{SEED_DAY}T14:00:00Z" not in starts and f"{SEED_DAY}T09:00:00Z" not in starts
    assert (await client.get(f"{APPOINTMENTS}/{johns['id']}", headers=desk)).json()[
        "status"
    ] == "scheduled"
