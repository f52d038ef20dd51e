"""Listing appointments (pagination, filters in snake_case and camelCase), one patient's
appointments, and the audit trail and events that reading and writing leave."""

from __future__ import annotations

from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.appointments.support import (
    APPOINTMENTS,
    SCHEDULE,
    audit_entries,
    book,
    clinician,
    event_stream,
    invalid_field,
    patient,
    slot,
    staff,
)


async def _clinic(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, Any]:
    """Two providers, two patients, and nine appointments over three days (2-4 March 2024)."""
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    smith, patel = await clinician(client, runtime), await clinician(client, runtime)
    john, jane = await patient(client, desk), await patient(client, desk)
    booked = []
    for day in (2, 3, 4):
        for hour, (who, doctor) in zip(
            (9, 10, 11), ((john, smith), (jane, smith), (john, patel)), strict=True
        ):
            start = f"2024-03-0{day}T{hour:02d}:00:00Z"
            booked.append(
                await book(
                    client, desk, slot(who["id"], doctor.provider_id, start, None, duration=30)
                )
            )
    await client.post(f"{APPOINTMENTS}/{booked[0]['id']}/cancel", headers=desk)
    await client.post(f"{APPOINTMENTS}/{booked[1]['id']}/check-in", headers=desk)
    return {
        "desk": desk,
        "smith": smith,
        "patel": patel,
        "john": john,
        "jane": jane,
        "booked": booked,
    }


async def test_pages_in_start_order_with_links(client: httpx.AsyncClient, runtime: Runtime) -> None:
    clinic = await _clinic(client, runtime)
    ids = [a["id"] for a in clinic["booked"]]
    first = await client.get(APPOINTMENTS, params={"limit": 4}, headers=clinic["desk"])
    page = first.json()
    assert (page["total"], page["limit"], page["offset"]) == (9, 4, 0)
    assert [a["id"] for a in page["appointments"]] == ids[:4]
    assert page["_links"]["prev"] is None
    second = await client.get(page["_links"]["next"]["href"], headers=clinic["desk"])
    assert [a["id"] for a in second.json()["appointments"]] == ids[4:8]
    last = await client.get(APPOINTMENTS, params={"limit": 4, "offset": 8}, headers=clinic["desk"])
    assert [a["id"] for a in last.json()["appointments"]] == ids[8:]
    assert last.json()["_links"]["next"] is None and last.json()["_links"]["prev"] is not None
    assert set(page["appointments"][0]) >= {"appointment_number", "start_datetime", "_links"}
    assert (
        invalid_field(await client.get(APPOINTMENTS, params={"limit": 101}, headers=clinic["desk"]))
        == "limit"
    )


async def test_filters_accept_snake_and_camel_case(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    clinic = await _clinic(client, runtime)
    desk, john, smith = clinic["desk"], clinic["john"], clinic["smith"]
    booked = {a["id"]: a for a in clinic["booked"]}

    async def ids(**params: Any) -> set[str]:
        response = await client.get(APPOINTMENTS, params=params, headers=desk)
        assert response.status_code == 200, response.text
        assert response.json()["total"] == len(response.json()["appointments"])
        return {a["id"] for a in response.json()["appointments"]}

    johns = {i for i, a in booked.items() if a["patient_id"] == john["id"]}
    assert len(johns) == 6
    assert await ids(patient_id=john["id"]) == johns
    assert await ids(patient_id=john["patient_id"]) == johns
    assert await ids(patientId=john["id"]) == johns
    smiths = {i for i, a in booked.items() if a["provider_id"] == smith.provider_id}
    assert (
        await ids(provider_id=smith.provider_id)
        == smiths
        == await ids(providerId=smith.provider_id)
    )
    march_3 = {i for i, a in booked.items() if a["start_datetime"].startswith("2024-03-03")}
    assert await ids(start_date="2024-03-03", end_date="2024-03-03") == march_3
    assert await ids(startDate="2024-03-03", endDate="2024-03-03") == march_3
    assert (
        len(await ids(start_date="2024-03-03")) == 6 and len(await ids(end_date="2024-03-03")) == 6
    )
    assert await ids(status="cancelled") == {clinic["booked"][0]["id"]}
    assert len(await ids(status=["scheduled", "checked_in"], limit=100)) == 8
    assert await ids(patient_id=john["id"], provider_id=smith.provider_id, status="scheduled") == {
        clinic["booked"][3]["id"], clinic["booked"][6]["id"],
    }  # fmt: skip
    for params, field in (
        ({"status": "booked"}, "status.0"),
        ({"start_date": "2024-03-04", "end_date": "2024-03-03"}, "end_date"),
        ({"provider_id": "smith"}, "provider_id"),
        ({"patient_id": "john"}, "patient_id"),
        ({"start_date": "03/03/2024"}, "start_date"),
    ):
        response = await client.get(APPOINTMENTS, params=params, headers=desk)
        assert invalid_field(response) == field, params

    own = await client.get(
        f"/api/v1/patients/{john['patient_id']}/appointments",
        params={"status": "scheduled"},
        headers=desk,
    )
    assert own.status_code == 200, own.text
    assert {a["id"] for a in own.json()["appointments"]} == johns - {clinic["booked"][0]["id"]}


async def test_every_read_and_write_is_audited_with_the_patient(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await staff(client, runtime, Role.ADMIN)
    doctor = await clinician(client, runtime)
    john = await patient(client, admin)
    created = await book(client, admin, slot(john["id"], doctor.provider_id))
    path = f"{APPOINTMENTS}/{created['id']}"
    await client.get(path, headers=admin)
    await client.get(APPOINTMENTS, headers=admin)
    await client.get(
        SCHEDULE,
        params={"provider_id": doctor.provider_id, "start_date": "2024-01-20"},
        headers=admin,
    )
    await client.put(path, json={"notes": "Fasting"}, headers=admin)
    await client.post(f"{path}/check-in", headers=admin)
    await client.post(f"{path}/cancel", json={"reason": "Unwell"}, headers=admin)

    entries = await audit_entries(client, admin, resource_type="appointment")
    actions = [e["action"] for e in reversed(entries)]
    assert actions == [
        "appointment.create",
        "appointment.read",
        "appointment.list",
        "appointment.schedule",
        "appointment.update",
        "appointment.check_in",
        "appointment.cancel",
    ]
    for entry in entries:
        assert entry["patient_id"] == john["id"] and entry["resource_id"] == created["id"]
        assert entry["outcome"] == "success"
    assert entries[0]["details"] == {"from": "checked_in", "to": "cancelled"}
    assert entries[2]["details"] == {"fields": ["notes"]}
    # Details name what changed, never the values (no patient data in the trail).
    assert "Fasting" not in str(entries) and "Unwell" not in str(entries)


async def test_changes_are_announced_as_events(client: httpx.AsyncClient, runtime: Runtime) -> None:
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    john = await patient(client, desk)
    async with event_stream(runtime) as seen:
        created = await book(client, desk, slot(john["id"], doctor.provider_id))
        path = f"{APPOINTMENTS}/{created['id']}"
        await client.put(path, json={"location": "Room 12"}, headers=desk)
        await client.post(f"{path}/check-in", headers=desk)
        await client.post(f"{path}/cancel", headers=desk)
        refused = await client.post(f"{path}/check-in", headers=desk)
        assert refused.status_code == 409
    mine = [e for e in seen if e.resource_type == "appointment"]
    assert [e.type for e in mine] == [
        "appointment_scheduled",
        "appointment_updated",
        "appointment_updated",
        "appointment_cancelled",
    ]
    for event in mine:
        assert event.patient_id == john["id"] and event.resource_id == created["id"]
        assert event.data["appointment"]["id"] == created["id"]
    assert mine[0].data["appointment"]["status"] == "scheduled"
    assert mine[0].data["appointment"]["start_datetime"] == "2024-01-20T14:00:00Z"
    assert mine[1].data["appointment"]["location"] == "Room 12"
    assert mine[2].data["appointment"]["status"] == "checked_in"
    assert mine[3].data["appointment"]["status"] == "cancelled"
