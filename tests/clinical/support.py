"""What the encounter tests share: signed-in clinicians with their provider records, the API
document's encounter example bound to real records, stored row counts, error-shape checks."""

from __future__ import annotations

import copy
from typing import Any

import httpx
from sqlalchemy import func, select

from hms.auth.permissions import Role
from hms.clinical.models import Diagnosis, Encounter, EncounterVersion, VitalSignsReading
from hms.runtime import Runtime
from tests.factories import bearer, login, make_patient, make_user
from tests.seed_examples import request_body

ENCOUNTERS = "/api/v1/clinical/encounters"


class Staff:
    """A signed-in user: its request headers and, for clinicians, its provider record."""

    def __init__(self, headers: dict[str, str], user: dict[str, Any]) -> None:
        self.headers = headers
        self.user = user
        self.provider_id: str | None = user.get("provider_id")


async def staff(client: httpx.AsyncClient, runtime: Runtime, role: Role | str) -> Staff:
    user = await make_user(runtime, role=role)
    return Staff(bearer(await login(client, user["username"])), user)


async def portal(client: httpx.AsyncClient, runtime: Runtime, number: str) -> dict[str, str]:
    """Headers of a patient account linked to the record with this patient number."""
    user = await make_user(runtime, role=Role.PATIENT, patient=number)
    return bearer(await login(client, user["username"]))


def seed_encounter(patient_id: str, **overrides: Any) -> dict[str, Any]:
    """The API document's create request, for a real patient."""
    body = copy.deepcopy(request_body("POST /api/v1/clinical/encounters"))
    body["patient_id"] = patient_id
    body.update(overrides)
    return body


def seed_update() -> dict[str, Any]:
    return copy.deepcopy(request_body("PUT /api/v1/clinical/encounters/{encounter_id}"))


async def new_patient(client: httpx.AsyncClient, author: Staff, **fields: Any) -> dict[str, Any]:
    return await make_patient(client, author.headers, **fields)


async def document(
    client: httpx.AsyncClient, author: Staff, patient_id: str, **overrides: Any
) -> dict[str, Any]:
    """Create the seed encounter (with overrides) and return its body."""
    response = await client.post(
        ENCOUNTERS, json=seed_encounter(patient_id, **overrides), headers=author.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def stored_rows(runtime: Runtime) -> dict[str, int]:
    """Rows of each clinical table: what a half-written request would leave behind."""
    counts = {}
    async with runtime.sessionmaker() as session:
        for table in (Encounter, EncounterVersion, VitalSignsReading, Diagnosis):
            query = select(func.count()).select_from(table)
            counts[table.__tablename__] = int((await session.execute(query)).scalar_one())
    return counts


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The error envelope of a response that must have this status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert error["message"] and error["timestamp"].endswith("Z")
    assert error["request_id"] == response.headers["X-Request-ID"]
    return dict(error)


def refused_field(response: httpx.Response) -> str:
    """The field a 422 names first (and lists among all its problems)."""
    details = error_of(response, 422, "VALIDATION_ERROR")["details"]
    assert {"field": details["field"], "error": details["error"]} in details["errors"]
    return str(details["field"])
