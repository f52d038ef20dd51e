"""The WebSocket door: `/api/v1/ws` (and the seed's `/v1/ws`), fed by domain events.

Protocol: `{"type": "auth", "token"}` first (within `ws_auth_timeout` seconds), then
`{"type": "subscribe", "channels": [...], "since": <last id seen>}`, `unsubscribe`, `ping`.
Who may hear what is decided in hms.realtime.channels; this module only speaks the protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any, TypeGuard

import orjson
from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect

from hms.audit.service import RequestContext
from hms.auth.permissions import Actor
from hms.auth.service import authenticate
from hms.auth.tokens import decode_access_token
from hms.db import commit
from hms.errors import MFAEnrollmentRequired, Unauthorized
from hms.events import DomainEvent
from hms.realtime.channels import CHANNELS, channel_of, may_subscribe
from hms.realtime.hub import CLOSE_UNAUTHORIZED, Connection, Hub, audit_deliveries
from hms.realtime.log import GapTooOld, events_after
from hms.runtime import Runtime

router = APIRouter()
log = logging.getLogger("hms.ws")

CLOSE_INTERNAL = 1011
CLOSE_UNAVAILABLE = 1013  # try again later
Close = tuple[int, str]
DISCONNECTED = object()
RESERVED = frozenset({"type", "id", "channel", "occurred_at"})


def hub_for(app: FastAPI) -> Hub:
    hub: Hub | None = getattr(app.state, "ws_hub", None)
    if hub is None:
        hub = app.state.ws_hub = Hub(app.state.runtime)
    return hub


def startup(app: FastAPI) -> None:
    """Every served process hears events and trims the log, sockets or not."""
    hub_for(app).launch()


async def shutdown(app: FastAPI) -> None:
    hub: Hub | None = getattr(app.state, "ws_hub", None)
    if hub is not None:
        await hub.close()


@router.websocket("/api/v1/ws")
@router.websocket("/v1/ws")
async def events_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    hub = hub_for(websocket.app)
    try:
        async with asyncio.timeout(hub.runtime.settings.ws_auth_timeout):
            await hub.start()
    except TimeoutError:  # the broker (Redis) cannot be reached
        await websocket.close(CLOSE_UNAVAILABLE, "event stream unavailable")
        return
    await EventSocket(websocket, hub).run()


def event_message(event: DomainEvent) -> dict[str, Any]:
    body = {k: v for k, v in event.data.items() if k not in RESERVED}
    head = {"type": event.type, "id": event.seq, "channel": channel_of(event)}
    return {**head, **body, "occurred_at": event.occurred_at}


class EventSocket:
    def __init__(self, websocket: WebSocket, hub: Hub) -> None:
        self.ws = websocket
        self.hub = hub
        self.runtime: Runtime = hub.runtime
        self.settings = self.runtime.settings
        self.conn: Connection | None = None
        self.expires_at = 0.0
        self.send_lock = asyncio.Lock()

    async def run(self) -> None:
        close = await self._authenticate_first()
        if self.conn is not None:
            self.hub.add(self.conn)
            try:
                close = await self._serve()
            finally:
                self.hub.discard(self.conn)
        if close is not None:
            with contextlib.suppress(Exception):
                await self.ws.close(*close)

    async def _serve(self) -> Close | None:
        tasks = [asyncio.create_task(job()) for job in (self._read, self._send, self._watch)]
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in done:
            error = task.exception()
            if error is None:
                return task.result()
            if not isinstance(error, WebSocketDisconnect | OSError | RuntimeError):
                log.error("WebSocket failed", exc_info=error)
                return CLOSE_INTERNAL, "internal error"
        return None  # the client went away (a failed send)

    # -- receiving -------------------------------------------------------------------------

    async def _receive(self) -> Any:
        """The next message as a dict; None after answering a bad one; DISCONNECTED."""
        message = await self.ws.receive()
        if message["type"] == "websocket.disconnect":
            return DISCONNECTED
        raw = message.get("text")
        size = len(raw.encode()) if raw is not None else len(message.get("bytes") or b"")
        if size > self.settings.ws_max_message_bytes:
            limit = self.settings.ws_max_message_bytes
            await self._error("MESSAGE_TOO_LARGE", f"Messages are limited to {limit} bytes")
            return None
        try:
            data = orjson.loads(raw if raw is not None else message.get("bytes") or b"")
        except orjson.JSONDecodeError:
            await self._error("INVALID_JSON", "The message is not valid JSON")
            return None
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            await self._error("INVALID_MESSAGE", 'A message is a JSON object with a "type"')
            return None
        return data

    async def _authenticate_first(self) -> Close | None:
        deadline = time.monotonic() + self.settings.ws_auth_timeout
        while True:
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    message = await self._receive()
            except TimeoutError:
                return CLOSE_UNAUTHORIZED, "authentication timeout"
            if message is DISCONNECTED:
                return None
            if message is None:
                continue
            if message["type"] != "auth":
                await self._error("NOT_AUTHENTICATED", 'Send {"type": "auth", "token": ...} first')
                continue
            if not await self._accept_token(message.get("token")):
                await self._error("INVALID_TOKEN", "The access token is not valid")
                return CLOSE_UNAUTHORIZED, "invalid token"
            return None

    async def _accept_token(self, token: Any) -> bool:
        checked = await self._check(token)
        if checked is None:
            return False
        actor, expires_at = checked
        if self.conn is None:
            ctx = RequestContext(
                ip_address=self.ws.client.host if self.ws.client else None,
                user_agent=self.ws.headers.get("user-agent"),
            )
            queue: asyncio.Queue[DomainEvent] = asyncio.Queue(self.settings.ws_queue_size)
            self.conn = Connection(actor=actor, ctx=ctx, queue=queue)
        elif self.conn.actor.user_id != actor.user_id:
            return False
        self.conn.actor, self.conn.token, self.expires_at = actor, token, expires_at
        await self._write(
            {
                "type": "authenticated",
                "user": {"username": actor.username, "role": str(actor.role)},
                "expires_in": max(0, int(expires_at - time.time())),
            }
        )
        return True

    async def _check(self, token: Any) -> tuple[Actor, float] | None:
        if not isinstance(token, str) or not token:
            return None
        try:
            async with self.runtime.sessionmaker() as session:
                actor = await authenticate(session, config=self.runtime.auth, token=token)
                await commit(session)
            return actor, float(decode_access_token(self.runtime.auth, token)["exp"])
        except (Unauthorized, MFAEnrollmentRequired):
            return None

    async def _read(self) -> Close | None:
        while True:
            message = await self._receive()
            if message is DISCONNECTED:
                return None
            if message is None:
                continue
            kind = message["type"]
            if kind == "ping":
                await self._write({"type": "pong"})
            elif kind == "auth":
                if not await self._accept_token(message.get("token")):
                    await self._error("INVALID_TOKEN", "The access token is not valid")
            elif kind == "subscribe":
                await self._subscribe(message)
            elif kind == "unsubscribe":
                await self._unsubscribe(message)
            else:
                await self._error("UNKNOWN_TYPE", f"Unknown message type {kind!r}")

    async def _subscribe(self, message: dict[str, Any]) -> None:
        assert self.conn is not None
        channels, since = message.get("channels"), message.get("since")
        if not _names(channels) or (
            since is not None and (not isinstance(since, int) or isinstance(since, bool))
        ):
            await self._error(
                "INVALID_MESSAGE", '"channels" is a list of names; "since" an event id'
            )
            return
        unknown = [c for c in channels if c not in CHANNELS]
        if unknown:
            await self._error(
                "UNKNOWN_CHANNEL",
                f"Unknown channel(s): {', '.join(unknown)}",
                {"channels": unknown, "available": list(CHANNELS)},
            )
            return
        refused = [c for c in channels if not may_subscribe(self.conn.actor, c)]
        if refused:
            await self._error(
                "FORBIDDEN",
                f"Role '{self.conn.actor.role}' may not subscribe to {', '.join(refused)}",
                {"channels": refused},
            )
            return
        async with self.send_lock:
            self.conn.channels.update(channels)
            await self._write({"type": "subscribed", "channels": sorted(self.conn.channels)})
            if since is not None:
                await self._replay(since)

    async def _replay(self, since: int) -> None:
        assert self.conn is not None
        try:
            async with self.runtime.sessionmaker() as session:
                missed = await events_after(session, since)
        except GapTooOld as gap:
            await self._error(
                "GAP_TOO_OLD",
                "Events after this id are no longer retained; reload the data over REST",
                {"since": since, "oldest_id": gap.oldest},
            )
            return
        self.conn.since = max(self.conn.since, since)
        self.conn.replayed.update(e.seq for e in missed if e.seq is not None)
        wanted = [(self.conn, e) for e in missed if self.conn.wants(e)]
        visible = [e for _, e in await audit_deliveries(self.runtime, wanted)]
        for event in visible:
            await self._write(event_message(event))
        last = missed[-1].seq if missed else since
        await self._write(
            {"type": "replayed", "since": since, "count": len(visible), "last_id": last}
        )

    async def _unsubscribe(self, message: dict[str, Any]) -> None:
        assert self.conn is not None
        channels = message.get("channels")
        if not _names(channels):
            await self._error("INVALID_MESSAGE", '"channels" is a list of channel names')
            return
        self.conn.channels.difference_update(channels)
        await self._write({"type": "unsubscribed", "channels": sorted(self.conn.channels)})

    # -- sending ---------------------------------------------------------------------------

    async def _send(self) -> Close | None:
        assert self.conn is not None
        while True:
            event = await self.conn.queue.get()
            if time.time() >= self.expires_at:
                return CLOSE_UNAUTHORIZED, "token expired"
            async with self.send_lock:
                if not self.conn.seen(event):
                    await self._write(event_message(event))

    async def _watch(self) -> Close | None:
        """Close when the token expires, or when the hub asks (full queue, ended session)."""
        assert self.conn is not None
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, self.expires_at - time.time())):
                    await self.conn.closing.wait()
            if self.conn.close_reason is not None:
                return self.conn.close_reason
            if time.time() >= self.expires_at:
                return CLOSE_UNAUTHORIZED, "token expired"

    async def _write(self, message: dict[str, Any]) -> None:
        await self.ws.send_text(orjson.dumps(message).decode())

    async def _error(self, code: str, text: str, details: dict[str, Any] | None = None) -> None:
        await self._write(
            {"type": "error", "code": code, "message": text, "details": details or {}}
        )


def _names(value: Any) -> TypeGuard[list[str]]:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)
