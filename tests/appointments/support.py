"""What the appointment tests share: signed-in staff, clinicians with their provider records,
patient accounts, booking, the error envelope, and the event stream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.events import DomainEvent
from hms.runtime import Runtime
from tests.factories import bearer, login, make_patient, make_user

APPOINTMENTS = "/api/v1/appointments"
SCHEDULE = f"{APPOINTMENTS}/schedule"
# The API document's day: a Saturday, so it is bookable only under the every-day default hours.
SEED_DAY = "2024-01-20"


@dataclass(frozen=True)
class Clinician:
    headers: dict[str, str]
    provider_id: str
    username: str


async def staff(client: httpx.AsyncClient, runtime: Runtime, role: Role | str) -> dict[str, str]:
    user = await make_user(runtime, role=role)
    return bearer(await login(client, user["username"]))


async def clinician(
    client: httpx.AsyncClient, runtime: Runtime, role: Role = Role.DOCTOR, **extra: Any
) -> Clinician:
    """A signed-in clinician; its account comes with a provider record."""
    user = await make_user(runtime, role=role, **extra)
    headers = bearer(await login(client, user["username"]))
    return Clinician(headers, user["provider_id"], user["username"])


async def portal(client: httpx.AsyncClient, runtime: Runtime, number: str) -> dict[str, str]:
    """Headers of a patient account linked to the record with this patient number."""
    user = await make_user(runtime, role=Role.PATIENT, patient=number)
    return bearer(await login(client, user["username"]))


async def patient(
    client: httpx.AsyncClient, headers: dict[str, str], **extra: Any
) -> dict[str, Any]:
    return await make_patient(client, headers, **extra)


def slot(
    patient_id: str,
    provider_id: str,
    start: str = f"{SEED_DAY}T14:00:00Z",
    end: str | None = f"{SEED_DAY}T14:30:00Z",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "patient_id": patient_id,
        "provider_id": provider_id,
        "appointment_type": "office_visit",
        "start_datetime": start,
        **extra,
    }
    if end is not None:
        body["end_datetime"] = end
    return body


async def book(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(APPOINTMENTS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The error envelope of a response that must have this status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert error["message"]
    assert error["request_id"] == response.headers["X-Request-ID"]
    return dict(error)


def invalid_field(response: httpx.Response) -> str:
    """The field a 422 names first."""
    details = error_of(response, 422, "VALIDATION_ERROR")["details"]
    assert {"field": details["field"], "error": details["error"]} in details["errors"]
    return str(details["field"])


async def audit_entries(
    client: httpx.AsyncClient, admin: dict[str, str], **filters: str
) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/audit", params={"limit": 100, **filters}, headers=admin)
    assert response.status_code == 200, response.text
    return list(response.json()["entries"])


@contextlib.asynccontextmanager
async def event_stream(runtime: Runtime) -> AsyncIterator[list[DomainEvent]]:
    """Collects the domain events published while the block runs (and shortly after)."""
    seen: list[DomainEvent] = []
    ready = asyncio.Event()

    async def consume() -> None:
        stream = runtime.broker.subscribe()
        waiting = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0)
        ready.set()
        while True:
            seen.append(await waiting)
            waiting = asyncio.ensure_future(anext(stream))

    task = asyncio.create_task(consume())
    await ready.wait()
    try:
        yield seen
        await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
