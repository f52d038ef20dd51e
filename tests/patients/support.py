"""What the patient tests share: staff sign-in, the stored patient count, error-shape checks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from hms.auth.permissions import Role
from hms.patients.models import Patient
from hms.runtime import Runtime
from tests.factories import bearer, login, make_user

PATIENTS = "/api/v1/patients"


async def staff(client: httpx.AsyncClient, runtime: Runtime, role: Role | str) -> dict[str, str]:
    user = await make_user(runtime, role=role)
    return bearer(await login(client, user["username"]))


async def portal(client: httpx.AsyncClient, runtime: Runtime, number: str) -> dict[str, str]:
    """Headers of a patient account linked to the record with this patient number."""
    user = await make_user(runtime, role=Role.PATIENT, patient=number)
    return bearer(await login(client, user["username"]))


async def stored_patients(runtime: Runtime) -> int:
    """Rows in the patients table, active or not: what a half-written request would leave."""
    async with runtime.sessionmaker() as session:
        return int((await session.execute(select(func.count()).select_from(Patient))).scalar_one())


def this_year() -> int:
    return datetime.now(UTC).year


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The error envelope of a response that must have this status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert error["message"]
    assert error["timestamp"].endswith("Z")
    assert error["request_id"] == response.headers["X-Request-ID"]
    return dict(error)


def validation_error(response: httpx.Response) -> dict[str, Any]:
    """The details of a 422: the first problem's field and error plus the list of all."""
    details = error_of(response, 422, "VALIDATION_ERROR")["details"]
    assert isinstance(details["field"], str) and details["field"]
    assert isinstance(details["error"], str) and details["error"]
    assert isinstance(details["errors"], list) and details["errors"]
    assert {"field": details["field"], "error": details["error"]} in details["errors"]
    return dict(details)


def error_fields(details: dict[str, Any]) -> set[str]:
    return {item["field"] for item in details["errors"]}
