"""No provider and no patient is booked twice at once, also when the requests race: the
database refuses the overlap and the API answers 409 CONFLICT."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import func, select

from hms.appointments.models import Appointment
from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.appointments.support import (
    APPOINTMENTS,
    SCHEDULE,
    SEED_DAY,
    book,
    clinician,
    error_of,
    patient,
    slot,
    staff,
)


def at(hhmm: str) -> str:
    return f"{SEED_DAY}T{hhmm}:00Z"


async def test_partial_overlap_is_refused_and_back_to_back_is_allowed(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    first, second = await patient(client, desk), await patient(client, desk)
    await book(client, desk, slot(first["id"], doctor.provider_id, at("10:00"), at("10:30")))
    for start, end in (
        ("10:15", "10:45"),
        ("09:45", "10:15"),
        ("10:05", "10:10"),
        ("09:00", "11:00"),
    ):
        refused = await client.post(
            APPOINTMENTS, json=slot(second["id"], doctor.provider_id, at(start), at(end)),
            headers=desk,
        )  # fmt: skip
        error = error_of(refused, 409, "CONFLICT")
        assert error["details"]["reason"] == "provider_overlap", (start, end)
        assert "provider" in error["message"]
    before = await book(
        client, desk, slot(second["id"], doctor.provider_id, at("09:30"), at("10:00"))
    )
    after = await book(
        client, desk, slot(second["id"], doctor.provider_id, at("10:30"), at("11:00"))
    )
    assert before["end_datetime"] == at("10:00") and after["start_datetime"] == at("10:30")


async def test_one_patient_cannot_see_two_providers_at_once(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    smith, patel = await clinician(client, runtime), await clinician(client, runtime)
    john = await patient(client, desk)
    await book(client, desk, slot(john["id"], smith.provider_id, at("11:00"), at("11:30")))
    refused = await client.post(
        APPOINTMENTS,
        json=slot(john["id"], patel.provider_id, at("11:15"), at("11:45")),
        headers=desk,
    )
    assert error_of(refused, 409, "CONFLICT")["details"]["reason"] == "patient_overlap"
    await book(client, desk, slot(john["id"], patel.provider_id, at("11:30"), at("12:00")))


async def test_cancelled_and_no_show_appointments_free_their_time(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    first, second, third = [await patient(client, desk) for _ in range(3)]
    booked = await book(client, desk, slot(first["id"], doctor.provider_id))
    blocked = await client.post(
        APPOINTMENTS, json=slot(second["id"], doctor.provider_id), headers=desk
    )
    error_of(blocked, 409, "CONFLICT")
    cancel = await client.post(f"{APPOINTMENTS}/{booked['id']}/cancel", headers=desk)
    assert cancel.status_code == 200, cancel.text
    rebooked = await book(client, desk, slot(second["id"], doctor.provider_id))
    assert (
        await client.post(f"{APPOINTMENTS}/{rebooked['id']}/no-show", headers=desk)
    ).status_code == 200
    walk_in = await book(client, desk, slot(third["id"], doctor.provider_id))
    assert walk_in["status"] == "scheduled"
    schedule = await client.get(
        SCHEDULE, params={"provider_id": doctor.provider_id, "start_date": SEED_DAY}, headers=desk
    )
    listed = {e["id"]: e["status"] for e in schedule.json()["schedule"]}
    assert listed == {rebooked["id"]: "no_show", walk_in["id"]: "scheduled"}
    # Neither can a cancelled appointment be revived into the occupied time.
    revived = await client.post(f"{APPOINTMENTS}/{booked['id']}/check-in", headers=desk)
    error_of(revived, 409, "CONFLICT")


async def test_rescheduling_onto_a_booked_time_is_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor, other_doctor = await clinician(client, runtime), await clinician(client, runtime)
    first, second = await patient(client, desk), await patient(client, desk)
    await book(client, desk, slot(first["id"], doctor.provider_id, at("09:00"), at("09:30")))
    moving = await book(
        client, desk, slot(second["id"], doctor.provider_id, at("13:00"), at("13:30"))
    )
    path = f"{APPOINTMENTS}/{moving['id']}"
    onto = await client.put(path, json={"start_datetime": at("09:15")}, headers=desk)
    assert error_of(onto, 409, "CONFLICT")["details"]["reason"] == "provider_overlap"
    longer = await client.put(path, json={"duration": 60}, headers=desk)
    assert longer.status_code == 200 and longer.json()["end_datetime"] == at("14:00")
    # Another provider at 09:00 is free, but the patient is not double-booked by it either.
    moved = await client.put(
        path,
        json={"provider_id": other_doctor.provider_id, "start_datetime": at("09:00")},
        headers=desk,
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["start_datetime"], moved.json()["end_datetime"]) == (
        at("09:00"),
        at("10:00"),
    )
    unchanged = await client.get(path, headers=desk)
    assert unchanged.json()["provider_id"] == other_doctor.provider_id


async def test_twenty_simultaneous_bookings_of_one_slot_give_one_appointment(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    patients = [await patient(client, desk) for _ in range(20)]
    responses = await asyncio.gather(
        *(
            client.post(
                APPOINTMENTS,
                json=slot(p["id"], doctor.provider_id, at("15:00"), at("15:30")),
                headers=desk,
            )
            for p in patients
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, [
        r.text for r in responses if r.status_code not in (201, 409)
    ]
    for refused in responses:
        if refused.status_code == 409:
            assert error_of(refused, 409, "CONFLICT")["details"]["reason"] == "provider_overlap"
    async with runtime.sessionmaker() as session:
        stored = await session.execute(
            select(func.count())
            .select_from(Appointment)
            .where(Appointment.provider_id == uuid.UUID(doctor.provider_id))
        )
        assert stored.scalar_one() == 1
