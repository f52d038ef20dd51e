"""WebSocket events obey the same rule as every other door (OWASP API1:2023): an event about a
restricted patient reaches only those who may read the record (its carer, administrators, a
clinician holding an emergency grant), live and on replay; a patient user hears of its own
record only."""

from __future__ import annotations

from typing import Any

from websockets.asyncio.client import ClientConnection

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.realtime.support import (
    next_of,
    quiet,
    receive,
    send,
    serving,
    subscribed,
)
from tests.security.tally import count
from tests.security.test_object_level import leaked
from tests.security.world import API, World, build

CLINICAL = ["patient_updates", "encounters", "appointment_changes", "prescriptions"]


def token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


async def touch(served_http: Any, w: World, patient_id: str, phone: str) -> None:
    response = await served_http.put(
        f"{API}/patients/{patient_id}", json={"contact_number": phone}, headers=w.of(Role.ADMIN)
    )
    assert response.status_code == 200, response.text


async def replayed(socket: ClientConnection) -> list[dict[str, Any]]:
    messages = []
    while (message := await receive(socket))["type"] != "replayed":
        messages.append(message)
    return messages


async def test_events_of_a_restricted_patient_reach_only_those_who_may_read_it(
    runtime: Runtime,
) -> None:
    async with serving(runtime) as served:
        w = await build(served.http, runtime)
        async with (
            subscribed(served.ws_url, token(w.stranger), CLINICAL, since=0) as stranger,
            subscribed(served.ws_url, token(w.of(Role.NURSE)), CLINICAL) as nurse,
            subscribed(served.ws_url, token(w.of(Role.DOCTOR)), CLINICAL) as carer,
            subscribed(served.ws_url, token(w.of(Role.PATIENT)), ["patient_updates"]) as portal,
        ):
            # Replay: everything that happened while the world was built, without the
            # restricted patient's events, though many were announced before it was restricted.
            history = await replayed(stranger)
            count("bola_attempts")
            assert history and not leaked(history, w.r)
            assert leaked(history, w.o)

            await touch(served.http, w, w.r.id, "+1234567801")  # restricted: withheld
            await touch(served.http, w, w.o.id, "+1234567802")  # ordinary: a marker
            for socket in (stranger, nurse, portal):
                heard = await next_of(socket, "patient_updated")
                count("bola_attempts")
                if leaked(heard, w.r):
                    count("bola_unauthorized_reads")
                assert heard["patient"]["id"] == w.o.id
                assert not leaked(await quiet(socket), w.r)
            first, second = (
                await next_of(carer, "patient_updated"),
                await next_of(carer, "patient_updated"),
            )
            assert [first["patient"]["id"], second["patient"]["id"]] == [w.r.id, w.o.id]

        # After breaking the glass, a new sign-in of the same doctor hears of the patient.
        granted = await served.http.post(
            f"{API}/patients/{w.r.id}/emergency-access",
            json={"reason": "Arrived unconscious; history needed now"},
            headers=w.stranger,
        )
        assert granted.status_code == 201
        async with subscribed(served.ws_url, token(w.stranger), ["patient_updates"]) as socket:
            await touch(served.http, w, w.r.id, "+1234567803")
            heard = await next_of(socket, "patient_updated")
            assert heard["patient"]["id"] == w.r.id


async def test_every_role_subscribes_to_exactly_the_channels_its_permissions_read(
    runtime: Runtime,
) -> None:
    from hms.auth.permissions import ROLE_PERMISSIONS
    from hms.realtime.channels import CHANNELS

    async with serving(runtime) as served:
        w = await build(served.http, runtime)
        for role in Role:
            async with subscribed(served.ws_url, token(w.of(role)), ["patient_updates"]) as ws:
                for channel, (_prefixes, permission) in CHANNELS.items():
                    await send(ws, {"type": "subscribe", "channels": [channel]})
                    answer = await receive(ws)
                    count("route_role_checks")
                    if permission in ROLE_PERMISSIONS[role]:
                        assert answer["type"] == "subscribed", (role, channel)
                    else:
                        assert answer["type"] == "error", (role, channel)
                        assert answer["code"] == "FORBIDDEN"
