"""Domain events and the broker that carries them.

Services queue events on their unit of work; they are published only after it commits, so no
subscriber hears of a change that was rolled back. In-process by default; Redis pub/sub when
HMS_REDIS_URL is set, so that every server process hears every event.

Each event is also written to the retained event log in the same transaction as the change: the
log's row number becomes the event's `seq`, the ordered id WebSocket clients resume from.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

import orjson
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hms.db import add_after_commit, add_before_commit, utcnow
from hms.realtime.models import EventLogEntry

log = logging.getLogger("hms.events")
CHANNEL = "hms:events"


@dataclass(frozen=True)
class DomainEvent:
    type: str
    resource_type: str
    resource_id: str
    data: dict[str, Any]
    patient_id: str | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    occurred_at: str = field(default_factory=lambda: utcnow().isoformat().replace("+00:00", "Z"))
    seq: int | None = None

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: bytes | str) -> DomainEvent:
        return cls(**orjson.loads(raw))


class Broker(Protocol):
    async def publish(self, event: DomainEvent) -> None: ...
    def subscribe(self, ready: asyncio.Event | None = None) -> AsyncIterator[DomainEvent]: ...
    async def close(self) -> None: ...


class InProcessBroker:
    """Fan-out to the subscribers of this process. Slow subscribers lose the oldest events
    rather than growing memory without bound."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._queues: set[asyncio.Queue[DomainEvent]] = set()
        self._queue_size = queue_size

    async def publish(self, event: DomainEvent) -> None:
        for queue in list(self._queues):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(event)

    async def subscribe(self, ready: asyncio.Event | None = None) -> AsyncIterator[DomainEvent]:
        queue: asyncio.Queue[DomainEvent] = asyncio.Queue(self._queue_size)
        self._queues.add(queue)
        if ready is not None:
            ready.set()
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)

    async def close(self) -> None:
        self._queues.clear()


class RedisBroker:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._url = url
        # Pub/sub channels span the whole Redis server, whatever the database number: name the
        # channel after the database so that deployments sharing a server do not hear each other.
        self.channel = f"{CHANNEL}:{self._redis.connection_pool.connection_kwargs.get('db', 0)}"

    async def publish(self, event: DomainEvent) -> None:
        await self._redis.publish(self.channel, event.to_json())

    async def subscribe(self, ready: asyncio.Event | None = None) -> AsyncIterator[DomainEvent]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self.channel)
        if ready is not None:
            ready.set()
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    yield DomainEvent.from_json(message["data"])
        finally:
            await pubsub.aclose()

    async def close(self) -> None:
        await self._redis.aclose()


def create_broker(redis_url: str | None) -> Broker:
    return RedisBroker(redis_url) if redis_url else InProcessBroker()


def emit(session: AsyncSession, event: DomainEvent) -> None:
    """Queue an event on this unit of work; it is published after the commit."""
    session.info.setdefault("events_pending", []).append(event)
    add_before_commit(session, "event_log", _retain_pending)
    add_after_commit(session, "events", _publish_pending)


async def _retain_pending(session: AsyncSession) -> None:
    """Write the queued events to the retained log, numbering them in the change's transaction."""
    pending: list[DomainEvent] = session.info.get("events_pending", [])
    if not pending:
        return
    # Plain rows on the session's connection: the ORM's flush of a log row costs more than
    # the insert itself, on every change.
    connection = await session.connection()
    ids = await connection.execute(_RETAIN, [{"event": asdict(event)} for event in pending])
    session.info["events_pending"] = [
        replace(event, seq=seq) for event, seq in zip(pending, ids.scalars(), strict=True)
    ]


# The ids come back in the order of the rows given, as the events' sequence numbers.
_RETAIN = insert(EventLogEntry).returning(EventLogEntry.id, sort_by_parameter_order=True)


async def _publish_pending(session: AsyncSession) -> None:
    broker: Broker | None = session.info.get("broker")
    for event in session.info.pop("events_pending", []):
        if broker is None:
            continue
        try:
            await broker.publish(event)
        except Exception:  # the change is committed; a broker outage must not fail the request
            log.exception("could not publish event", extra={"event_type": event.type})
