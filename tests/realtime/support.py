"""What the real-time tests share: HMS served by uvicorn on a free port (in this event loop, so it
shares the test's runtime and database), a WebSocket client speaking the protocol, and a way to
announce events of domains that have no REST trigger handy."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from hms import events
from hms.api import ws
from hms.app import create_app
from hms.auth.permissions import Role
from hms.db import commit
from hms.runtime import Runtime
from tests.factories import login, make_user
from tests.server.support import free_port

WAIT = 5.0  # a generous bound for a message already on its way, never a pause


@dataclass
class Served:
    http: httpx.AsyncClient
    ws_url: str


@contextlib.asynccontextmanager
async def serving(runtime: Runtime) -> AsyncIterator[Served]:
    app = create_app(runtime.settings, runtime)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(WAIT):
        while not server.started:
            await asyncio.sleep(0.01)
    try:
        # The server shares this event loop and this machine: allow it time under load.
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            yield Served(http, f"ws://127.0.0.1:{port}/api/v1/ws")
    finally:
        server.should_exit = True
        await task
        await ws.shutdown(app)


async def token_for(
    served: Served, runtime: Runtime, role: Role | str, patient: str | None = None
) -> str:
    user = await make_user(runtime, role=role, patient=patient)
    return str((await login(served.http, user["username"]))["access_token"])


def headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def receive(socket: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(WAIT):
        return dict(json.loads(await socket.recv()))


async def send(socket: ClientConnection, message: dict[str, Any]) -> None:
    await socket.send(json.dumps(message))


async def next_of(socket: ClientConnection, kind: str) -> dict[str, Any]:
    """The next message of this type (events of other kinds may come first)."""
    while True:
        message = await receive(socket)
        if message["type"] == kind:
            return message


@contextlib.asynccontextmanager
async def subscribed(
    url: str, token: str, channels: list[str], since: int | None = None
) -> AsyncIterator[ClientConnection]:
    """A socket through the seed's flow: auth, then subscribe (optionally resuming)."""
    async with connect(url) as socket:
        await send(socket, {"type": "auth", "token": token})
        assert (await receive(socket))["type"] == "authenticated"
        request: dict[str, Any] = {"type": "subscribe", "channels": channels}
        if since is not None:
            request["since"] = since
        await send(socket, request)
        assert (await receive(socket)) == {"type": "subscribed", "channels": sorted(channels)}
        yield socket


async def quiet(socket: ClientConnection) -> list[dict[str, Any]]:
    """Prove nothing else is queued for this socket: a ping's pong comes back first."""
    await send(socket, {"type": "ping"})
    seen = []
    while (message := await receive(socket))["type"] != "pong":
        seen.append(message)
    return seen


async def announce(runtime: Runtime, event: events.DomainEvent) -> None:
    """Emit an event the way a service does: on a unit of work, published after its commit."""
    async with runtime.sessionmaker() as session:
        events.emit(session, event)
        await commit(session)


def lab_event(patient_id: str, status: str = "final") -> events.DomainEvent:
    return events.DomainEvent(
        type="lab_result_available",
        resource_type="lab_order",
        resource_id="00000000-0000-0000-0000-00000000abcd",
        patient_id=patient_id,
        data={"result": {"patient_id": patient_id, "status": status, "critical": True}},
    )
