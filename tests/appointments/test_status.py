"""An appointment moves scheduled -> checked_in -> completed, or to cancelled / no_show from
scheduled or checked_in, through its action endpoints, and in no other way."""

from __future__ import annotations

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.appointments.support import (
    APPOINTMENTS,
    book,
    clinician,
    error_of,
    invalid_field,
    patient,
    slot,
    staff,
)

# (path of each move in turn, the status reached after each)
ALLOWED = [
    (["check-in", "complete"], ["checked_in", "completed"]),
    (["cancel"], ["cancelled"]),
    (["check-in", "cancel"], ["checked_in", "cancelled"]),
    (["no-show"], ["no_show"]),
    (["check-in", "no-show"], ["checked_in", "no_show"]),
]
REFUSED = [
    ([], "complete"),  # a visit nobody checked in cannot be completed
    (["check-in"], "check-in"),
    (["check-in", "complete"], "cancel"),
    (["check-in", "complete"], "no-show"),
    (["check-in", "complete"], "check-in"),
    (["cancel"], "check-in"),
    (["cancel"], "cancel"),
    (["cancel"], "complete"),
    (["no-show"], "check-in"),
    (["no-show"], "cancel"),
]


async def _booked(
    client: httpx.AsyncClient, runtime: Runtime, count: int = 1
) -> tuple[dict[str, str], list[str]]:
    """A receptionist and `count` appointments of one patient, half an hour apart."""
    desk = await staff(client, runtime, Role.RECEPTIONIST)
    doctor = await clinician(client, runtime)
    john = await patient(client, desk)
    paths = []
    for i in range(count):
        start = f"2024-01-20T{8 + i // 2:02d}:{30 * (i % 2):02d}:00Z"
        created = await book(
            client, desk, slot(john["id"], doctor.provider_id, start, None, duration=30)
        )
        paths.append(f"{APPOINTMENTS}/{created['id']}")
    return desk, paths


async def test_allowed_moves(client: httpx.AsyncClient, runtime: Runtime) -> None:
    desk, paths = await _booked(client, runtime, len(ALLOWED))
    for path, (moves, reached) in zip(paths, ALLOWED, strict=True):
        for n, (move, expected) in enumerate(zip(moves, reached, strict=True)):
            response = await client.post(f"{path}/{move}", headers=desk)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == expected
            assert response.headers["ETag"] == f'"{n + 2}"'
        final = (await client.get(path, headers=desk)).json()
        assert final["status"] == reached[-1]
        assert (final["checked_in_at"] is not None) == ("check-in" in moves)
        assert (final["completed_at"] is not None) == ("complete" in moves)
        assert (final["cancelled_at"] is not None) == ("cancel" in moves)


async def test_refused_moves_are_409_and_change_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk, paths = await _booked(client, runtime, len(REFUSED))
    for path, (moves, refused) in zip(paths, REFUSED, strict=True):
        for move in moves:
            assert (await client.post(f"{path}/{move}", headers=desk)).status_code == 200
        before = (await client.get(path, headers=desk)).json()
        response = await client.post(f"{path}/{refused}", headers=desk)
        error = error_of(response, 409, "CONFLICT")
        assert error["details"]["status"] == before["status"], (moves, refused)
        assert (await client.get(path, headers=desk)).json() == before


async def test_cancel_keeps_the_reason_and_delete_cancels_too(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk, (path, other) = await _booked(client, runtime, 2)
    cancelled = await client.post(
        f"{path}/cancel", json={"reason": "Patient is travelling"}, headers=desk
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["cancellation_reason"] == "Patient is travelling"
    assert cancelled.json()["cancelled_at"].endswith("Z")

    deleted = await client.delete(f"{other}?reason=Double%20entry", headers=desk)
    assert deleted.status_code == 204 and deleted.content == b""
    gone = (await client.get(other, headers=desk)).json()
    assert gone["status"] == "cancelled" and gone["cancellation_reason"] == "Double entry"
    # DELETE is idempotent: the record is kept and a repeat changes nothing.
    again = await client.delete(other, headers=desk)
    assert again.status_code == 204
    assert (await client.get(other, headers=desk)).json() == gone


async def test_delete_cannot_cancel_a_finished_visit(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk, [path] = await _booked(client, runtime)
    await client.post(f"{path}/check-in", headers=desk)
    await client.post(f"{path}/complete", headers=desk)
    error_of(await client.delete(path, headers=desk), 409, "CONFLICT")


async def test_put_does_not_change_the_status(client: httpx.AsyncClient, runtime: Runtime) -> None:
    desk, [path] = await _booked(client, runtime)
    refused = await client.put(path, json={"status": "completed"}, headers=desk)
    assert invalid_field(refused) == "status"
    assert "check-in" in refused.json()["error"]["details"]["error"]
    echoed = await client.put(
        path, json={"status": "scheduled", "notes": "Bring x-rays"}, headers=desk
    )
    assert echoed.status_code == 200, echoed.text
    assert echoed.json()["status"] == "scheduled" and echoed.json()["notes"] == "Bring x-rays"
    # An appointment stays with its patient: a mistake is cancelled and booked again.
    assert (
        invalid_field(
            await client.put(path, json={"patient_id": echoed.json()["provider_id"]}, headers=desk)
        )
        == "patient_id"
    )


async def test_checked_in_visits_keep_their_time_and_finished_ones_are_frozen(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk, [path] = await _booked(client, runtime)
    await client.post(f"{path}/check-in", headers=desk)
    moved = await client.put(path, json={"start_datetime": "2024-01-20T15:00:00Z"}, headers=desk)
    error_of(moved, 409, "CONFLICT")
    noted = await client.put(path, json={"location": "Room 7"}, headers=desk)
    assert noted.status_code == 200 and noted.json()["location"] == "Room 7"
    await client.post(f"{path}/complete", headers=desk)
    error_of(await client.put(path, json={"notes": "late note"}, headers=desk), 409, "CONFLICT")


async def test_stale_if_match_is_412_on_changes_and_moves(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk, [path] = await _booked(client, runtime)
    updated = await client.put(
        path, json={"reason": "Annual check"}, headers={**desk, "If-Match": '"1"'}
    )
    assert updated.status_code == 200 and updated.headers["ETag"] == '"2"'
    stale = {**desk, "If-Match": '"1"'}
    error_of(
        await client.put(path, json={"reason": "x"}, headers=stale), 412, "PRECONDITION_FAILED"
    )
    error_of(await client.post(f"{path}/check-in", headers=stale), 412, "PRECONDITION_FAILED")
    error_of(await client.delete(path, headers=stale), 412, "PRECONDITION_FAILED")
    fresh = await client.post(f"{path}/check-in", headers={**desk, "If-Match": '"2"'})
    assert fresh.status_code == 200 and fresh.headers["ETag"] == '"3"'
