"""Who reads and writes notes: clinicians document, front-desk, billing, pharmacy and lab staff
read none, a patient reads only its own signed encounters. Every touch is audited, every
change announced."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.events import DomainEvent
from hms.runtime import Runtime
from tests.clinical.support import (
    ENCOUNTERS,
    document,
    error_of,
    new_patient,
    portal,
    seed_encounter,
    seed_update,
    staff,
)


async def test_roles_without_clinical_notes_are_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor)
    created = await document(client, doctor, patient["id"])
    url = f"{ENCOUNTERS}/{created['id']}"
    for role in (Role.RECEPTIONIST, Role.BILLING, Role.PHARMACIST, Role.LAB_TECHNICIAN):
        outsider = (await staff(client, runtime, role)).headers
        await _refused_everything(client, outsider, created, patient)
    assert (await client.get(url)).status_code == 401


async def _refused_everything(
    client: httpx.AsyncClient,
    outsider: dict[str, str],
    created: dict[str, Any],
    patient: dict[str, Any],
) -> None:
    url = f"{ENCOUNTERS}/{created['id']}"
    for response in (
        await client.get(ENCOUNTERS, headers=outsider),
        await client.get(ENCOUNTERS, params={"patient_id": patient["id"]}, headers=outsider),
        await client.get(f"/api/v1/patients/{patient['id']}/encounters", headers=outsider),
        await client.get(url, headers=outsider),
        await client.get(f"{url}/history", headers=outsider),
        await client.post(ENCOUNTERS, json=seed_encounter(patient["id"]), headers=outsider),
        await client.put(url, json=seed_update(), headers=outsider),
    ):
        error = error_of(response, 403, "FORBIDDEN")
        assert created["chief_complaint"] not in response.text
        assert error["details"]["permission"].startswith("encounters:")


async def test_a_patient_reads_only_its_own_signed_encounters(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    mine, theirs = await new_patient(client, doctor), await new_patient(client, doctor)
    signed = await document(client, doctor, mine["id"])
    draft = await document(client, doctor, mine["id"], status="in_progress")
    other = await document(client, doctor, theirs["id"])
    me = await portal(client, runtime, mine["patient_id"])

    own = await client.get(f"{ENCOUNTERS}/{signed['id']}", headers=me)
    assert own.status_code == 200 and own.json() == signed
    for hidden in (draft, other):
        error_of(await client.get(f"{ENCOUNTERS}/{hidden['id']}", headers=me), 404, "NOT_FOUND")
        error_of(
            await client.get(f"{ENCOUNTERS}/{hidden['id']}/history", headers=me), 404, "NOT_FOUND"
        )
    for listed in (
        await client.get(ENCOUNTERS, headers=me),
        await client.get(ENCOUNTERS, params={"patient_id": mine["patient_id"]}, headers=me),
        await client.get(f"/api/v1/patients/{mine['id']}/encounters", headers=me),
    ):
        assert [e["id"] for e in listed.json()["encounters"]] == [signed["id"]]
        assert listed.json()["total"] == 1
    for ref in (theirs["id"], theirs["patient_id"]):
        error_of(
            await client.get(f"/api/v1/patients/{ref}/encounters", headers=me), 404, "NOT_FOUND"
        )
        error_of(
            await client.get(ENCOUNTERS, params={"patient_id": ref}, headers=me), 404, "NOT_FOUND"
        )
    refused = await client.put(f"{ENCOUNTERS}/{signed['id']}", json=seed_update(), headers=me)
    error_of(refused, 403, "FORBIDDEN")
    error_of(
        await client.post(ENCOUNTERS, json=seed_encounter(mine["id"]), headers=me), 403, "FORBIDDEN"
    )

    # Signing the draft shows it; its unsigned version stays out of the patient's history.
    await client.put(
        f"{ENCOUNTERS}/{draft['id']}", json={"status": "completed"}, headers=doctor.headers
    )
    versions = await client.get(f"{ENCOUNTERS}/{draft['id']}/history", headers=me)
    assert [v["version"] for v in versions.json()["versions"]] == [2]
    assert (await client.get(ENCOUNTERS, headers=me)).json()["total"] == 2


async def audit_entries(
    client: httpx.AsyncClient, admin: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/audit",
        params={"limit": 100, "resource_type": "encounter", **params},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    return list(response.json()["entries"])


async def test_every_touch_is_audited_without_clinical_text(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    admin = (await staff(client, runtime, Role.ADMIN)).headers
    patient = await new_patient(client, doctor)
    created = await document(client, doctor, patient["id"])
    url = f"{ENCOUNTERS}/{created['id']}"
    await client.get(url, headers=doctor.headers)
    await client.get(ENCOUNTERS, params={"patient_id": patient["id"]}, headers=doctor.headers)
    await client.put(url, json=seed_update(), headers=doctor.headers)
    await client.get(f"{url}/history", headers=doctor.headers)

    entries = await audit_entries(client, admin, user_id=doctor.user["id"])
    assert sorted(e["action"] for e in entries) == [
        "encounter.create",
        "encounter.history",
        "encounter.list",
        "encounter.read",
        "encounter.update",
    ]
    for entry in entries:
        assert entry["patient_id"] == patient["id"]
        assert entry["resource_id"] == created["id"]
        assert entry["outcome"] == "success"
    update = next(e for e in entries if e["action"] == "encounter.update")
    assert update["details"]["fields"] == ["assessment", "plan", "status"]
    assert update["details"]["version"] == 2
    text = str(entries)
    for clinical in ("headache", "Acetaminophen", "PERRLA", "G44.1"):
        assert clinical.lower() not in text.lower()


async def test_changes_are_announced_after_they_commit(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor)
    received: list[DomainEvent] = []
    ready = asyncio.Event()

    async def listen() -> None:
        stream = runtime.broker.subscribe()
        next_event = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0)
        ready.set()
        while True:
            event = await next_event
            if event.resource_type == "encounter":
                received.append(event)
                if len(received) == 2:
                    return
            next_event = asyncio.ensure_future(anext(stream))

    listener = asyncio.create_task(listen())
    await ready.wait()
    created = await document(client, doctor, patient["id"])
    refused = await client.put(
        f"{ENCOUNTERS}/{created['id']}",
        json={"physical_examination": {"vital_signs": {"heart_rate": 900}}},
        headers=doctor.headers,
    )
    assert refused.status_code == 422
    await client.put(f"{ENCOUNTERS}/{created['id']}", json=seed_update(), headers=doctor.headers)
    await asyncio.wait_for(listener, timeout=5)

    assert [e.type for e in received] == ["encounter_created", "encounter_updated"]
    for event in received:
        assert event.patient_id == patient["id"]
        assert event.resource_id == created["id"]
        assert event.data["encounter"]["id"] == created["id"]
    assert received[0].data["encounter"]["status"] == "completed"
    assert received[1].data["encounter"]["status"] == "amended"
