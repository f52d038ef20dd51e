"""Changing an encounter never loses what it said: every version is kept with who changed it,
when and why; signed notes are amended, drafts edited; stale writers get 412."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.clinical.support import (
    ENCOUNTERS,
    document,
    error_of,
    new_patient,
    refused_field,
    seed_update,
    staff,
    stored_rows,
)


async def history(
    client: httpx.AsyncClient, encounter_id: str, headers: dict[str, str]
) -> dict[str, Any]:
    response = await client.get(f"{ENCOUNTERS}/{encounter_id}/history", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_history_keeps_every_version_with_who_when_and_why(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    nurse = await staff(client, runtime, Role.NURSE)
    patient = await new_patient(client, doctor)
    created = await document(client, doctor, patient["id"])
    url = f"{ENCOUNTERS}/{created['id']}"
    amended = await client.put(
        url,
        json=seed_update() | {"amendment_reason": "Follow-up visit confirmed the diagnosis"},
        headers=nurse.headers,
    )
    assert amended.status_code == 200, amended.text

    body = await history(client, created["id"], doctor.headers)
    assert body["total"] == 2 and body["_links"]["next"] is None
    latest, first = body["versions"]
    assert (latest["version"], latest["change"], latest["status"]) == (2, "amended", "amended")
    assert latest["reason"] == "Follow-up visit confirmed the diagnosis"
    assert latest["changed_fields"] == ["assessment", "plan", "status"]
    assert latest["changed_by"]["username"] == nurse.user["username"]
    assert latest["changed_by"]["role"] == "nurse"
    assert latest["changed_at"] == amended.json()["updated_at"]
    assert latest["encounter"]["plan"] == amended.json()["plan"]

    assert (first["version"], first["change"], first["status"]) == (1, "created", "completed")
    assert first["reason"] is None
    assert first["changed_by"] == {
        "user_id": doctor.user["id"],
        "username": doctor.user["username"],
        "role": "doctor",
    }
    assert first["changed_at"] == created["created_at"]
    # The note as first written, before the amendment replaced its plan.
    snapshot = first["encounter"]
    assert snapshot["plan"] == [
        {key: item[key] for key in ("type", "description", "reason")} for item in created["plan"]
    ]
    assert snapshot["status"] == "completed" and snapshot["id"] == created["id"]
    assert snapshot["physical_examination"] == created["physical_examination"]

    paged = await client.get(f"{url}/history", params={"limit": 1}, headers=doctor.headers)
    assert [v["version"] for v in paged.json()["versions"]] == [2]
    assert paged.json()["_links"]["next"] is not None


async def test_concurrent_updates_with_one_etag_one_wins_nothing_is_lost(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    nurse = await staff(client, runtime, Role.NURSE)
    patient = await new_patient(client, doctor)
    created = await document(client, doctor, patient["id"])
    url = f"{ENCOUNTERS}/{created['id']}"
    plans = {
        "doctor": [{"type": "follow_up", "description": "Review in 1 week"}],
        "nurse": [{"type": "education", "description": "Hydration and sleep hygiene"}],
    }
    responses = await asyncio.gather(
        client.put(
            url, json={"plan": plans["doctor"]}, headers=doctor.headers | {"If-Match": '"1"'}
        ),
        client.put(url, json={"plan": plans["nurse"]}, headers=nurse.headers | {"If-Match": '"1"'}),
    )
    assert sorted(r.status_code for r in responses) == [200, 412]
    winner = next(r for r in responses if r.status_code == 200)
    loser = next(r for r in responses if r.status_code == 412)
    error_of(loser, 412, "PRECONDITION_FAILED")

    versions = (await history(client, created["id"], doctor.headers))["versions"]
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[0]["encounter"]["plan"] == winner.json()["plan"]
    assert versions[1]["encounter"]["plan"] == [
        {key: item[key] for key in ("type", "description", "reason")} for item in created["plan"]
    ]
    now = await client.get(url, headers=doctor.headers)
    assert now.headers["ETag"] == '"2"' and now.json() == winner.json()


async def test_a_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor)
    created = await document(client, doctor, patient["id"])
    url = f"{ENCOUNTERS}/{created['id']}"
    first = await client.put(url, json={"location": "Room 7"}, headers=doctor.headers)
    assert first.headers["ETag"] == '"2"'
    rows = await stored_rows(runtime)
    stale = await client.put(
        url, json={"location": "Room 9"}, headers=doctor.headers | {"If-Match": '"1"'}
    )
    assert error_of(stale, 412, "PRECONDITION_FAILED")["details"]["current_etag"] == '"2"'
    assert await stored_rows(runtime) == rows
    assert (await client.get(url, headers=doctor.headers)).json()["location"] == "Room 7"


async def test_a_draft_is_edited_then_signed_then_amended_then_voided(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor)
    draft = await document(client, doctor, patient["id"], status="in_progress")
    url = f"{ENCOUNTERS}/{draft['id']}"

    async def put(body: dict[str, Any]) -> httpx.Response:
        return await client.put(url, json=body, headers=doctor.headers)

    edited = await put({"chief_complaint": "Headache and neck stiffness"})
    assert edited.json()["status"] == "in_progress"
    error_of(await put({"status": "amended"}), 409, "CONFLICT")  # nothing signed to amend
    signed = await put({"status": "completed"})
    assert signed.json()["status"] == "completed"
    error_of(await put({"status": "in_progress"}), 409, "CONFLICT")  # a signature is final

    unchanged = await put({"chief_complaint": "Headache and neck stiffness"})
    assert unchanged.status_code == 200 and unchanged.headers["ETag"] == signed.headers["ETag"]
    amended = await put({"location": "Room 2"})
    assert amended.json()["status"] == "amended"

    assert refused_field(await put({"status": "entered_in_error"})) == "amendment_reason"
    voided = await put({"status": "entered_in_error", "amendment_reason": "Wrong patient"})
    assert voided.json()["status"] == "entered_in_error"
    error_of(await put({"location": "Room 3"}), 409, "CONFLICT")

    versions = (await history(client, draft["id"], doctor.headers))["versions"]
    assert [(v["version"], v["change"], v["status"]) for v in versions] == [
        (5, "entered_in_error", "entered_in_error"),
        (4, "amended", "amended"),
        (3, "completed", "completed"),
        (2, "updated", "in_progress"),
        (1, "created", "in_progress"),
    ]
    assert versions[0]["reason"] == "Wrong patient"
    assert versions[3]["changed_fields"] == ["chief_complaint"]
    assert versions[4]["encounter"]["chief_complaint"] == draft["chief_complaint"]
