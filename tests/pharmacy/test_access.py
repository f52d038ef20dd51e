"""Who may do what with prescriptions, what a patient account sees, and the audit and event
trail every read and write leaves."""

from __future__ import annotations

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.appointments.support import event_stream
from tests.pharmacy.support import (
    INTERACTIONS,
    PRESCRIPTIONS,
    audit_entries,
    error_of,
    new_patient,
    portal,
    prescribe,
    seed_prescription,
    staff,
)


async def test_only_doctors_sign(client: httpx.AsyncClient, runtime: Runtime) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor.headers)
    for role in (Role.NURSE, Role.RECEPTIONIST, Role.PHARMACIST, Role.ADMIN, Role.BILLING):
        who = await staff(client, runtime, role)
        body = seed_prescription(patient["id"], doctor.provider_id)
        response = await client.post(PRESCRIPTIONS, json=body, headers=who.headers)
        error_of(response, 403, "FORBIDDEN")
    denied = await audit_entries(runtime, "access.denied")
    assert len(denied) == 5


async def test_who_reads_prescriptions(client: httpx.AsyncClient, runtime: Runtime) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor.headers)
    rx = await prescribe(client, doctor, patient["id"])
    for role, status in (
        (Role.NURSE, 200),
        (Role.PHARMACIST, 200),
        (Role.ADMIN, 200),
        (Role.RECEPTIONIST, 403),
        (Role.BILLING, 403),
        (Role.LAB_TECHNICIAN, 403),
    ):
        who = await staff(client, runtime, role)
        response = await client.get(f"{PRESCRIPTIONS}/{rx['id']}", headers=who.headers)
        assert response.status_code == status, role
    nurse = await staff(client, runtime, Role.NURSE)
    error_of(
        await client.put(
            f"{PRESCRIPTIONS}/{rx['id']}", json={"status": "on_hold"}, headers=nurse.headers
        ),
        403,
        "FORBIDDEN",
    )


async def test_a_patient_reads_only_its_own_prescriptions(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    mine = await new_patient(client, doctor.headers)
    other = await new_patient(client, doctor.headers)
    own = await prescribe(client, doctor, mine["id"])
    foreign = await prescribe(client, doctor, other["id"])
    headers = await portal(client, runtime, mine["patient_id"])

    assert (await client.get(f"{PRESCRIPTIONS}/{own['id']}", headers=headers)).status_code == 200
    for ref in (foreign["id"], foreign["prescription_number"]):
        error_of(await client.get(f"{PRESCRIPTIONS}/{ref}", headers=headers), 404, "NOT_FOUND")
    listed = (await client.get(PRESCRIPTIONS, headers=headers)).json()
    assert [p["id"] for p in listed["prescriptions"]] == [own["id"]]
    error_of(
        await client.get(PRESCRIPTIONS, params={"patient_id": other["id"]}, headers=headers),
        404,
        "NOT_FOUND",
    )
    fills = await client.get(f"{PRESCRIPTIONS}/{foreign['id']}/fills", headers=headers)
    error_of(fills, 404, "NOT_FOUND")
    check = {"patient_id": other["id"], "medications": [{"name": "Ibuprofen"}]}
    error_of(await client.post(INTERACTIONS, json=check, headers=headers), 404, "NOT_FOUND")
    for write in (
        client.post(PRESCRIPTIONS, json=seed_prescription(mine["id"], None), headers=headers),
        client.put(f"{PRESCRIPTIONS}/{own['id']}", json={"status": "on_hold"}, headers=headers),
        client.post(f"{PRESCRIPTIONS}/{own['id']}/dispense", headers=headers),
    ):
        error_of(await write, 403, "FORBIDDEN")


async def test_reads_and_writes_are_audited_with_the_patient(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor.headers)
    rx = await prescribe(client, doctor, patient["id"])
    await client.get(f"{PRESCRIPTIONS}/{rx['id']}", headers=doctor.headers)
    await client.get(PRESCRIPTIONS, params={"patient_id": patient["id"]}, headers=doctor.headers)
    check = {"patient_id": patient["id"], "medications": [{"name": "Ibuprofen"}]}
    assert (await client.post(INTERACTIONS, json=check, headers=doctor.headers)).status_code == 200
    for action in (
        "prescription.create",
        "prescription.read",
        "prescription.list",
        "drug_interaction.check",
    ):
        (entry,) = await audit_entries(runtime, action)
        assert str(entry.patient_id) == patient["id"], action
        assert entry.user_id is not None
        # Drug names stay out of the audit trail.
        assert "Lisinopril" not in str(entry.details) and "Ibuprofen" not in str(entry.details)


async def test_writing_and_dispensing_raise_events(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    pharmacist = await staff(client, runtime, Role.PHARMACIST)
    patient = await new_patient(client, doctor.headers)
    async with event_stream(runtime) as seen:
        rx = await prescribe(client, doctor, patient["id"])
        await client.post(f"{PRESCRIPTIONS}/{rx['id']}/dispense", headers=pharmacist.headers)
        await client.put(
            f"{PRESCRIPTIONS}/{rx['id']}", json={"status": "on_hold"}, headers=doctor.headers
        )
    ours = [e for e in seen if e.resource_type == "prescription"]
    assert [e.type for e in ours] == [
        "prescription_created",
        "prescription_dispensed",
        "prescription_updated",
    ]
    assert all(e.patient_id == patient["id"] for e in ours)
    assert ours[1].data["fill"]["fill_number"] == 1
    assert ours[2].data["prescription"]["status"] == "on_hold"
