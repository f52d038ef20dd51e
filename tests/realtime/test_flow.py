"""The API document's WebSocket flow with a real client against a real server: auth, subscribe,
then the events the matching REST calls cause, each with its ordered id, and each delivery of
patient data in the audit trail."""

from __future__ import annotations

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.appointments.support import slot
from tests.factories import login, make_user, patient_body
from tests.realtime.support import (
    announce,
    headers,
    lab_event,
    next_of,
    receive,
    send,
    serving,
    subscribed,
    token_for,
)

SEED_CHANNELS = ["patient_updates", "appointment_changes", "lab_results"]


async def test_the_seed_flow_hears_patients_appointments_and_lab_results(runtime: Runtime) -> None:
    async with serving(runtime) as served:
        doctor = await make_user(runtime, role=Role.DOCTOR)
        token = await token_for(served, runtime, Role.DOCTOR)
        writer = headers(str((await login(served.http, doctor["username"]))["access_token"]))
        async with subscribed(served.ws_url, token, SEED_CHANNELS) as socket:
            created = await served.http.post(
                "/api/v1/patients", json=patient_body(), headers=writer
            )
            assert created.status_code == 201, created.text
            pid = created.json()["id"]
            first = await next_of(socket, "patient_created")
            assert first["channel"] == "patient_updates"

            changed = await served.http.put(
                f"/api/v1/patients/{pid}", json={"last_name": "Quillfeather"}, headers=writer
            )
            assert changed.status_code == 200, changed.text
            updated = await receive(socket)
            assert updated["type"] == "patient_updated"
            assert updated["patient"]["id"] == pid
            assert updated["patient"]["last_name"] == "Quillfeather"

            booked = await served.http.post(
                "/api/v1/appointments", json=slot(pid, doctor["provider_id"]), headers=writer
            )
            assert booked.status_code == 201, booked.text
            scheduled = await receive(socket)
            assert scheduled["type"] == "appointment_scheduled"
            assert scheduled["channel"] == "appointment_changes"
            assert scheduled["appointment"]["id"] == booked.json()["id"]

            await announce(runtime, lab_event(pid))
            lab = await receive(socket)
            assert lab["type"] == "lab_result_available"
            assert lab["result"]["critical"] is True

        ids = [first["id"], updated["id"], scheduled["id"], lab["id"]]
        assert all(isinstance(i, int) for i in ids)
        assert ids == sorted(ids) and len(set(ids)) == 4

        admin = headers(await token_for(served, runtime, Role.ADMIN))
        audit = await served.http.get(
            "/api/v1/audit", params={"action": "ws.deliver", "limit": 100}, headers=admin
        )
        assert audit.status_code == 200, audit.text
        entries = audit.json()["entries"]
        assert len(entries) == 4
        assert {e["patient_id"] for e in entries} == {pid}
        assert {e["resource_type"] for e in entries} == {"patient", "appointment", "lab_order"}


async def test_the_seed_path_without_api_prefix_speaks_the_same_protocol(
    runtime: Runtime,
) -> None:
    async with serving(runtime) as served:
        token = await token_for(served, runtime, Role.NURSE)
        url = served.ws_url.replace("/api/v1/ws", "/v1/ws")
        async with subscribed(url, token, ["patient_updates", "encounters"]) as socket:
            await send(socket, {"type": "ping"})
            assert await receive(socket) == {"type": "pong"}
            await send(socket, {"type": "unsubscribe", "channels": ["encounters"]})
            assert await receive(socket) == {
                "type": "unsubscribed",
                "channels": ["patient_updates"],
            }


async def test_unknown_channels_are_refused_with_an_error(runtime: Runtime) -> None:
    async with serving(runtime) as served:
        token = await token_for(served, runtime, Role.DOCTOR)
        async with subscribed(served.ws_url, token, ["patient_updates"]) as socket:
            await send(socket, {"type": "subscribe", "channels": ["gossip", "lab_results"]})
            error = await receive(socket)
            assert error["type"] == "error"
            assert error["code"] == "UNKNOWN_CHANNEL"
            assert error["details"]["channels"] == ["gossip"]
            assert "billing" in error["details"]["available"]
            # Nothing of the refused request was applied.
            await send(socket, {"type": "unsubscribe", "channels": ["none"]})
            assert (await receive(socket))["channels"] == ["patient_updates"]
