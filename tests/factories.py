"""Small keyword-only factories for test data, going through the real services and API."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pyotp

from hms.accounts import create_account
from hms.auth.permissions import Role
from hms.runtime import Runtime

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


async def make_user(
    runtime: Runtime,
    *,
    role: Role | str,
    username: str | None = None,
    password: str = PASSWORD,
    patient: str | None = None,
    mfa: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    role = Role(role)
    name = username or f"{role.value}_{next(_counter)}"
    return await create_account(
        runtime,
        username=name,
        password=password,
        role=role,
        patient=patient,
        mfa=mfa,
        first_name=extra.pop("first_name", "Test"),
        last_name=extra.pop("last_name", name.title()),
        **extra,
    )


async def login(
    client: httpx.AsyncClient,
    username: str,
    password: str = PASSWORD,
    *,
    totp_secret: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"username": username, "password": password}
    if totp_secret:
        body["mfa_code"] = pyotp.TOTP(totp_secret).now()
    response = await client.post("/auth/token", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def signed_in(
    client: httpx.AsyncClient,
    runtime: Runtime,
    *,
    role: Role | str,
    patient: str | None = None,
) -> dict[str, str]:
    """Headers of a freshly created and signed-in user of this role."""
    user = await make_user(runtime, role=role, patient=patient)
    return bearer(await login(client, user["username"]))


def patient_body(**overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    body: dict[str, Any] = {
        "first_name": "John",
        "last_name": overrides.get("last_name", f"Doe{n}"),
        "date_of_birth": "1990-01-15",
        "gender": "M",
        "contact_number": "+1234567890",
        "email": f"john.doe{n}@email.com",
    }
    body.update(overrides)
    return body


async def make_patient(
    client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/patients", json=patient_body(**overrides), headers=headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())
