"""What the auth tests expect of answers: the 401 envelope, and the audit trail as an
administrator reads it."""

from __future__ import annotations

import json
from typing import Any

import httpx

ENVELOPE_KEYS = {"code", "message", "details", "timestamp", "request_id"}


def unauthorized(response: httpx.Response) -> dict[str, Any]:
    """Assert a 401 in the contract's envelope with the Bearer challenge; return the error."""
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.headers["Content-Type"].startswith("application/json")
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == ENVELOPE_KEYS
    assert error["code"] == "UNAUTHORIZED"
    assert error["message"]
    assert error["request_id"] == response.headers["X-Request-ID"]
    return error


def same_answer(error: dict[str, Any]) -> tuple[str, str, str]:
    """The parts of an error a caller could compare (not its timestamp or request id)."""
    return error["code"], error["message"], json.dumps(error["details"], sort_keys=True)


async def audit_entries(
    client: httpx.AsyncClient, admin: dict[str, str], **filters: Any
) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/audit", params={"limit": 100, **filters}, headers=admin)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries
