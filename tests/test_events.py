"""Domain events: published only once the change is committed, never for a failed request, and
carried between server processes by Redis."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from hms.app import create_app
from hms.auth.permissions import Role
from hms.events import Broker, DomainEvent, RedisBroker
from hms.patients.models import Patient
from hms.runtime import Runtime
from tests.conftest import REDIS_URL
from tests.conftest import test_settings as build_settings
from tests.factories import make_patient, patient_body, signed_in

WAIT = 5.0  # seconds: a generous bound for an event already on its way, never a pause


@dataclass
class Heard:
    """What a subscriber received, and whether the change was visible in the database (that
    is, committed) at the moment each event arrived."""

    events: list[DomainEvent] = field(default_factory=list)
    committed: list[bool] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def next(self, count: int) -> list[DomainEvent]:
        async with asyncio.timeout(WAIT):
            while len(self.events) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.events[:count]


@asynccontextmanager
async def listening(broker: Broker, runtime: Runtime | None = None) -> AsyncIterator[Heard]:
    heard = Heard()
    started = asyncio.Event()

    async def collect() -> None:
        stream = broker.subscribe()
        started.set()
        async for event in stream:
            if runtime is not None and event.resource_type == "patient":
                async with runtime.sessionmaker() as session:
                    row = await session.get(Patient, uuid.UUID(event.resource_id))
                    heard.committed.append(row is not None and row.version >= event_version(event))
            heard.events.append(event)
            heard.arrived.set()

    task = asyncio.create_task(collect())
    await started.wait()
    await asyncio.sleep(0)  # let the subscriber register before anything is published
    try:
        yield heard
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def event_version(event: DomainEvent) -> int:
    return 2 if event.type == "patient_updated" else 1


async def test_changes_are_published_after_commit(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    staff = await signed_in(client, runtime, role=Role.NURSE)
    async with listening(runtime.broker, runtime) as heard:
        created = await make_patient(client, staff)
        changed = await client.put(
            f"/api/v1/patients/{created['id']}", json={"blood_type": "B-"}, headers=staff
        )
        assert changed.status_code == 200
        first, second = await heard.next(2)

    assert (first.type, second.type) == ("patient_created", "patient_updated")
    for event in (first, second):
        assert event.resource_type == "patient"
        assert event.resource_id == event.patient_id == created["id"]
        assert event.data["patient"]["patient_id"] == created["patient_id"]
    assert first.data["patient"]["last_name"] == created["last_name"]
    # Every subscriber could already read what the event announced.
    assert heard.committed == [True, True]


async def test_failed_requests_publish_nothing(client: httpx.AsyncClient, runtime: Runtime) -> None:
    staff = await signed_in(client, runtime, role=Role.NURSE)
    billing = await signed_in(client, runtime, role=Role.BILLING)
    existing = await make_patient(client, staff)
    url = f"/api/v1/patients/{existing['id']}"
    async with listening(runtime.broker) as heard:
        failures = [
            await client.post("/api/v1/patients", json=patient_body(gender="?"), headers=staff),
            await client.post("/api/v1/patients", json=patient_body(), headers=billing),
            await client.put(url, json={"blood_type": "A+"}, headers=billing),
            await client.put(url, json={"blood_type": "A+"}, headers={**staff, "If-Match": '"9"'}),
            await client.put(url, json={"date_of_birth": "not a date"}, headers=staff),
            await client.post("/api/v1/patients", json=patient_body()),
        ]
        assert [r.status_code for r in failures] == [422, 403, 403, 412, 422, 401]
        # A successful change afterwards is the first and only thing heard: nothing was queued
        # ahead of it by the failures.
        marker = await make_patient(client, staff)
        (only,) = await heard.next(1)
        assert only.type == "patient_created"
        assert [e.resource_id for e in heard.events] == [marker["id"]]


async def test_reads_publish_nothing(client: httpx.AsyncClient, runtime: Runtime) -> None:
    staff = await signed_in(client, runtime, role=Role.DOCTOR)
    existing = await make_patient(client, staff)
    async with listening(runtime.broker) as heard:
        assert (await client.get(f"/api/v1/patients/{existing['id']}", headers=staff)).is_success
        assert (await client.get("/api/v1/patients", headers=staff)).is_success
        marker = await make_patient(client, staff)
        await heard.next(1)
        assert [e.resource_id for e in heard.events] == [marker["id"]]


async def heard_once_subscribed(publisher: Broker, heard: Heard) -> None:
    """A Redis subscription is set up over the network: send probes until one arrives."""
    probe = DomainEvent(type="probe", resource_type="probe", resource_id=uuid.uuid4().hex, data={})
    async with asyncio.timeout(WAIT):
        while not any(e.id == probe.id for e in heard.events):
            await publisher.publish(probe)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.05):
                    await heard.arrived.wait()


@pytest.mark.skipif(not REDIS_URL, reason="HMS_TEST_REDIS_URL not set")
async def test_redis_carries_events_between_brokers() -> None:
    assert REDIS_URL
    publisher, subscriber = RedisBroker(REDIS_URL), RedisBroker(REDIS_URL)
    try:
        async with listening(subscriber) as heard:
            await heard_once_subscribed(publisher, heard)
            sent = DomainEvent(
                type="patient_updated",
                resource_type="patient",
                resource_id=uuid.uuid4().hex,
                data={"patient": {"first_name": "José"}},
                patient_id=str(uuid.uuid4()),
            )
            await publisher.publish(sent)
            count = len(heard.events)
            (received,) = (await heard.next(count + 1))[count:]
            assert received == sent
    finally:
        await publisher.close()
        await subscriber.close()


@pytest.mark.skipif(not REDIS_URL, reason="HMS_TEST_REDIS_URL not set")
async def test_a_change_on_one_server_reaches_another(database_url: str, tmp_path: Path) -> None:
    """Two Runtimes sharing PostgreSQL or SQLite and Redis, as two server processes would."""
    settings = build_settings(database_url, tmp_path / "data", redis_url=REDIS_URL)
    one, two = Runtime.build(settings), Runtime.build(settings)
    transport = httpx.ASGITransport(app=create_app(settings, one), raise_app_exceptions=False)
    try:
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
            listening(two.broker) as heard,
        ):
            await heard_once_subscribed(one.broker, heard)
            staff = await signed_in(client, one, role=Role.RECEPTIONIST)
            created = await make_patient(client, staff)
            async with asyncio.timeout(WAIT):
                while not any(e.resource_id == created["id"] for e in heard.events):
                    heard.arrived.clear()
                    await heard.arrived.wait()
            event = next(e for e in heard.events if e.resource_id == created["id"])
            assert event.type == "patient_created"
            assert event.data["patient"]["patient_id"] == created["patient_id"]
    finally:
        await one.close()
        await two.close()
