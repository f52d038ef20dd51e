"""One hub per server process: it hears the broker once and hands each event to the sockets
whose users may see it, after recording those deliveries in the audit trail."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from hms.access import scoping
from hms.audit import service as audit
from hms.audit.service import RequestContext, set_request_context
from hms.auth.permissions import Actor
from hms.auth.service import authenticate
from hms.db import commit
from hms.errors import MFAEnrollmentRequired, Unauthorized
from hms.events import DomainEvent
from hms.realtime.channels import channel_of, may_see
from hms.realtime.log import trim
from hms.runtime import Runtime

log = logging.getLogger("hms.realtime")
CLOSE_UNAUTHORIZED = 4401  # no, bad, expired or revoked token
CLOSE_TOO_SLOW = 4429  # the client did not read its events: reconnect with `since`
INCOMING_LIMIT = 10_000
BATCH = 500
TRIM_INTERVAL = 60.0
RETRY_DELAY = 1.0


@dataclass(eq=False)
class Connection:
    """What the hub knows of one socket: who listens, to what, and its bounded queue."""

    actor: Actor
    ctx: RequestContext
    queue: asyncio.Queue[DomainEvent]
    token: str = ""
    channels: set[str] = field(default_factory=set)
    since: int = 0
    replayed: set[int] = field(default_factory=set)
    # Why the hub wants this socket closed (a full queue, an ended session), and its signal.
    close_reason: tuple[int, str] | None = None
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    def end(self, code: int, reason: str) -> None:
        if self.close_reason is None:
            self.close_reason = (code, reason)
        self.closing.set()

    def wants(self, event: DomainEvent) -> bool:
        channel = channel_of(event)
        return channel in self.channels and may_see(self.actor, channel, event)

    def seen(self, event: DomainEvent) -> bool:
        """Already sent by a replay, or older than where the client said it was."""
        return event.seq is not None and (event.seq <= self.since or event.seq in self.replayed)

    def offer(self, event: DomainEvent) -> None:
        # A full queue means the client stopped reading: the socket is closed (the client
        # resumes with `since`) rather than letting the backlog grow or silently losing events.
        if self.queue.full():
            self.end(CLOSE_TOO_SLOW, "too slow: events were not read; reconnect with since")
            return
        self.queue.put_nowait(event)


Delivery = tuple[Connection, DomainEvent]


async def audit_deliveries(runtime: Runtime, deliveries: list[Delivery]) -> list[Delivery]:
    """Keep the deliveries whose listener reaches the event's patient (the rule of
    hms.access.scoping, as every other door), and record each like a read, all in one
    transaction. Returns what may be sent."""
    rows = [(conn, event) for conn, event in deliveries if event.patient_id]
    if not rows:
        return deliveries
    async with runtime.sessionmaker() as session:
        refused = await _unreachable(session, rows)
        deliveries = [d for d in deliveries if (id(d[0]), d[1].patient_id) not in refused]
        rows = [d for d in rows if (id(d[0]), d[1].patient_id) not in refused]
        for conn, event in rows:
            set_request_context(session, conn.ctx)
            audit.record(
                session,
                actor=conn.actor,
                action="ws.deliver",
                resource_type=event.resource_type,
                resource_id=event.resource_id,
                patient_id=_uuid(event.patient_id),
                details={"event_type": event.type, "event_id": event.seq},
            )
        await commit(session)
    return deliveries


async def _unreachable(session: AsyncSession, rows: list[Delivery]) -> set[tuple[int, str | None]]:
    """(connection, patient) pairs to withhold. Only restricted patients need a look per
    listener; the rest were settled by the channel rules (which scope patient users)."""
    restricted = await scoping.restricted_among(
        session, {pid for _, e in rows if (pid := _uuid(e.patient_id))}
    )
    asked: dict[int, tuple[Connection, set[uuid.UUID]]] = {}
    for conn, event in rows:
        pid = _uuid(event.patient_id)
        if pid in restricted:
            asked.setdefault(id(conn), (conn, set()))[1].add(pid)
    refused: set[tuple[int, str | None]] = set()
    for key, (conn, ids) in asked.items():
        reached = await scoping.reachable_patients(session, conn.actor, ids)
        refused |= {(key, str(pid)) for pid in ids - reached}
    return refused


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


class Hub:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.connections: set[Connection] = set()
        self._incoming: asyncio.Queue[DomainEvent] = asyncio.Queue(INCOMING_LIMIT)
        self._ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def launch(self) -> None:
        """Start listening and trimming the log (once), without waiting for the broker."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._listen()),
                asyncio.create_task(self._dispatch()),
                asyncio.create_task(self._trim()),
                asyncio.create_task(self._check_sessions()),
            ]

    async def start(self) -> None:
        """Start (once); return when the broker subscription is in place."""
        self.launch()
        await self._ready.wait()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def add(self, conn: Connection) -> None:
        self.connections.add(conn)

    def discard(self, conn: Connection) -> None:
        self.connections.discard(conn)

    async def _listen(self) -> None:
        while True:
            try:
                async for event in self.runtime.broker.subscribe(ready=self._ready):
                    if self._incoming.full():
                        log.warning("event hub overloaded; dropping the oldest event")
                        self._incoming.get_nowait()
                    self._incoming.put_nowait(event)
            except Exception:  # a broker outage: clients catch up with `since` afterwards
                log.exception("event subscription failed; retrying")
            await asyncio.sleep(RETRY_DELAY)

    async def _dispatch(self) -> None:
        while True:
            batch = [await self._incoming.get()]
            while not self._incoming.empty() and len(batch) < BATCH:
                batch.append(self._incoming.get_nowait())
            deliveries = [
                (conn, event)
                for event in batch
                for conn in list(self.connections)
                if conn.wants(event) and not conn.seen(event)
            ]
            try:
                deliveries = await audit_deliveries(self.runtime, deliveries)
            except Exception:  # unaudited patient data is not sent; clients resume with `since`
                log.exception("could not audit event deliveries; not delivered")
                continue
            for conn, event in deliveries:
                conn.offer(event)

    async def _trim(self) -> None:
        while True:
            await asyncio.sleep(TRIM_INTERVAL)
            try:
                async with self.runtime.sessionmaker() as session:
                    await trim(session, self.runtime.settings.event_log_size)
                    await commit(session)
            except Exception:
                log.exception("could not trim the event log")

    async def _check_sessions(self) -> None:
        """End the sockets whose sign-in has ended (signed out, revoked, account disabled).

        One transaction checks every socket of the process, rather than one per socket, so that
        a thousand sockets do not queue a thousand transactions."""
        while True:
            await asyncio.sleep(self.runtime.settings.ws_session_check)
            try:
                async with self.runtime.sessionmaker() as session:
                    for conn in list(self.connections):
                        try:
                            # A fresh actor also picks up emergency grants given or expired.
                            conn.actor = await authenticate(
                                session, config=self.runtime.auth, token=conn.token
                            )
                        except (Unauthorized, MFAEnrollmentRequired):
                            conn.end(CLOSE_UNAUTHORIZED, "session ended")
                    await commit(session)
            except Exception:
                log.exception("could not check WebSocket sessions")
