"""What a misbehaving or lapsed client meets: the authentication deadline, bad and oversized
messages answered without dropping the socket, and the end of the subscription when the token
expires or its session is ended."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from hms.audit.service import RequestContext
from hms.auth.permissions import Actor, Role
from hms.config import Settings
from hms.events import DomainEvent
from hms.realtime.hub import Connection
from hms.runtime import Runtime
from tests.conftest import test_settings as build_settings
from tests.realtime.support import WAIT, headers, receive, send, serving, subscribed, token_for


async def closed_with(socket: object) -> tuple[int, str]:
    async with asyncio.timeout(WAIT):
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await socket.recv()  # type: ignore[attr-defined]
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return build_settings(
        database_url, tmp_path / "data", ws_auth_timeout=0.3, ws_session_check=0.2
    )


async def test_a_socket_that_never_authenticates_is_closed(runtime: Runtime) -> None:
    async with serving(runtime) as served, connect(served.ws_url) as socket:
        await send(socket, {"type": "subscribe", "channels": ["patient_updates"]})
        assert (await receive(socket))["code"] == "NOT_AUTHENTICATED"
        assert await closed_with(socket) == (4401, "authentication timeout")


async def test_a_bad_token_is_refused_and_the_socket_closed(runtime: Runtime) -> None:
    async with serving(runtime) as served, connect(served.ws_url) as socket:
        await send(socket, {"type": "auth", "token": "not-a-token"})
        assert (await receive(socket))["code"] == "INVALID_TOKEN"
        assert await closed_with(socket) == (4401, "invalid token")


async def test_bad_messages_get_errors_and_the_socket_stays_up(runtime: Runtime) -> None:
    async with serving(runtime) as served:
        token = await token_for(served, runtime, Role.DOCTOR)
        async with subscribed(served.ws_url, token, ["patient_updates"]) as socket:
            await socket.send("{not json")
            assert (await receive(socket))["code"] == "INVALID_JSON"
            await socket.send(json.dumps({"type": "ping", "pad": "x" * 70_000}))
            assert (await receive(socket))["code"] == "MESSAGE_TOO_LARGE"
            await socket.send("[1, 2]")
            assert (await receive(socket))["code"] == "INVALID_MESSAGE"
            await send(socket, {"type": "dance"})
            assert (await receive(socket))["code"] == "UNKNOWN_TYPE"
            await send(socket, {"type": "subscribe", "channels": "lab_results"})
            assert (await receive(socket))["code"] == "INVALID_MESSAGE"
            await send(socket, {"type": "subscribe", "channels": ["encounters"], "since": "x"})
            assert (await receive(socket))["code"] == "INVALID_MESSAGE"
            await send(socket, {"type": "ping"})
            assert await receive(socket) == {"type": "pong"}


async def test_an_expired_token_ends_the_subscription(database_url: str, tmp_path: Path) -> None:
    settings = build_settings(database_url, tmp_path / "data", access_token_ttl=1)
    runtime = Runtime.build(settings)
    try:
        async with serving(runtime) as served:
            token = await token_for(served, runtime, Role.DOCTOR)
            async with subscribed(served.ws_url, token, ["patient_updates"]) as socket:
                assert await closed_with(socket) == (4401, "token expired")
    finally:
        await runtime.close()


async def test_signing_out_ends_the_subscription(runtime: Runtime) -> None:
    async with serving(runtime) as served:
        token = await token_for(served, runtime, Role.NURSE)
        async with subscribed(served.ws_url, token, ["patient_updates"]) as socket:
            out = await served.http.post("/auth/logout", json={}, headers=headers(token))
            assert out.status_code in (200, 204), out.text
            assert await closed_with(socket) == (4401, "session ended")


def test_a_full_queue_marks_the_socket_for_closing_without_growing() -> None:
    actor = Actor.for_user(user_id=None, role=Role.DOCTOR)
    conn = Connection(actor=actor, ctx=RequestContext(), queue=asyncio.Queue(2))
    for n in range(5):
        conn.offer(DomainEvent("patient_updated", "patient", str(n), {}, seq=n))
    assert conn.queue.qsize() == 2
    assert conn.close_reason == (4429, "too slow: events were not read; reconnect with since")
    assert conn.closing.is_set()
