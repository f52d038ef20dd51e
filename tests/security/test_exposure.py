"""Excessive data exposure (OWASP API3:2023): every GET of a populated system, read as an
administrator (who sees the most) and as each other role, carries no password, hash, TOTP
secret, refresh token or internal search column, neither as a key nor as a value."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import login, make_user
from tests.graphql.support import gql
from tests.security.tally import count
from tests.security.test_function_level import ENDPOINTS
from tests.security.world import API, build

FORBIDDEN_KEY = re.compile(
    r"password|hash|totp|secret|token|mfa_last_step|search_name|search_keys|normalized|"
    r"digits_reversed|failed_login|locked_until",
    re.I,
)
# The audit trail's chain hashes are integrity values meant for verification, not secrets.
ALLOWED = {("/api/v1/audit", "hash"), ("/api/v1/audit", "prev_hash")}
ARGON2 = re.compile(r"^\$argon2")


def pairs(body: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(body, dict):
        for key, value in body.items():
            yield key, value
            yield from pairs(value)
    elif isinstance(body, list):
        for item in body:
            yield from pairs(item)


def findings(route: str, body: Any, secrets: set[str]) -> list[str]:
    found = []
    for key, value in pairs(body):
        if FORBIDDEN_KEY.search(key) and (route, key) not in ALLOWED:
            found.append(f"{route}: key {key!r}")
        if isinstance(value, str) and (ARGON2.match(value) or value in secrets):
            found.append(f"{route}: a secret under {key!r}")
    return found


async def test_no_response_carries_secrets(client: httpx.AsyncClient, runtime: Runtime) -> None:
    w = await build(client, runtime)
    enrolled = await make_user(runtime, role=Role.DOCTOR, mfa=True)
    tokens = await login(client, enrolled["username"], totp_secret=enrolled["totp_secret"])
    secrets = {enrolled["totp_secret"], tokens["refresh_token"]}
    extra = {
        "spare": w.o.id,
        "spare_provider": w.other_provider_id,
        "username": "",
        "refresh_token": "",
    }
    problems: list[str] = []
    for role in Role:
        for key, (_needs, make) in ENDPOINTS.items():
            method, route = key.split(" ", 1)
            if method != "GET":
                continue
            call = make(w, extra)
            url = call.path if call.path.startswith(("/auth", "/health")) else API + call.path
            response = await client.get(url, headers=w.of(role))
            count("exposure_responses")
            if response.headers.get("content-type", "").startswith("application/json"):
                problems += findings(route, response.json(), secrets)
    body = await gql(
        client,
        "{ patients(limit: 100) { patients { id firstName restricted clinicalEncounters { id } } }"
        " providers { providers { id firstName } } }",
        headers=w.of(Role.ADMIN),
    )
    count("exposure_responses")
    problems += findings("graphql", body, secrets)
    count("exposure_findings", len(problems))
    assert not problems, "\n".join(problems)
