"""What the pharmacy tests share: signed-in staff (prescribers with DEA numbers and MFA),
patients, the API document's prescription bound to real records, TOTP codes, the error shape."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pyotp
from sqlalchemy import select

from hms.audit.models import AuditEntry
from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import bearer, login, make_patient, make_user
from tests.seed_examples import request_body

PRESCRIPTIONS = "/api/v1/pharmacy/prescriptions"
INTERACTIONS = "/api/v1/pharmacy/drug-interactions"
# A DEA number with a correct check digit: (1+3+5) + 2*(2+4+6) = 33, ends in 3.
DEA = "AB1234563"


@dataclass(frozen=True)
class Staff:
    headers: dict[str, str]
    user: dict[str, Any]

    @property
    def provider_id(self) -> str | None:
        return self.user.get("provider_id")

    def next_code(self) -> str:
        """A code of the next time step: valid (within the drift window) and newer than the
        one spent signing in."""
        return pyotp.TOTP(self.user["totp_secret"]).at(time.time() + 30)


async def staff(
    client: httpx.AsyncClient, runtime: Runtime, role: Role | str, **extra: Any
) -> Staff:
    user = await make_user(runtime, role=role, **extra)
    tokens = await login(client, user["username"], totp_secret=user.get("totp_secret"))
    return Staff(bearer(tokens), user)


async def prescriber(client: httpx.AsyncClient, runtime: Runtime, **extra: Any) -> Staff:
    """A doctor with a DEA number on record and MFA enrolled: may sign controlled drugs."""
    return await staff(client, runtime, Role.DOCTOR, dea=DEA, mfa=True, **extra)


async def portal(client: httpx.AsyncClient, runtime: Runtime, number: str) -> dict[str, str]:
    user = await make_user(runtime, role=Role.PATIENT, patient=number)
    return bearer(await login(client, user["username"]))


def seed_patient_fields() -> dict[str, Any]:
    """The API document's patient's allergies and current medications."""
    body = request_body("POST /api/v1/patients")
    return {k: body[k] for k in ("allergies", "current_medications")}


async def new_patient(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    return await make_patient(client, headers, **fields)


def seed_prescription(patient_id: str, provider_id: str | None, **overrides: Any) -> dict[str, Any]:
    """The API document's create request, for a real patient and prescriber."""
    body = copy.deepcopy(request_body("POST /api/v1/pharmacy/prescriptions"))
    body["patient_id"] = patient_id
    body["provider_id"] = provider_id
    body.update(overrides)
    return body


def drug(name: str, **overrides: Any) -> dict[str, Any]:
    """A plain prescription body's medication part."""
    return {"name": name, "strength": "10mg", "form": "tablet", **overrides}


async def prescribe(
    client: httpx.AsyncClient, doctor: Staff, patient_id: str, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        PRESCRIPTIONS,
        json=seed_prescription(patient_id, doctor.provider_id, **overrides),
        headers=doctor.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["request_id"] == response.headers["X-Request-ID"]
    return dict(error)


def refused_field(response: httpx.Response) -> str:
    return str(error_of(response, 422, "VALIDATION_ERROR")["details"]["field"])


async def audit_entries(runtime: Runtime, action: str) -> list[AuditEntry]:
    async with runtime.sessionmaker() as session:
        rows = await session.execute(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        )
        return list(rows.scalars())
