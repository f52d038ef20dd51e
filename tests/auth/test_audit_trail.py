"""Every sign-in, failed sign-in, refresh, refresh reuse, sign-out and denial is in the audit
trail, as an administrator reads it through GET /api/v1/audit."""

from __future__ import annotations

from typing import Any

import httpx
import pyotp

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.auth.expect import audit_entries, unauthorized
from tests.auth.stored import session_id_of
from tests.auth.totp import wrong_code
from tests.factories import PASSWORD, bearer, login, make_user


def only(entries: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(entries) == 1, entries
    return entries[0]


async def test_a_sign_in_is_audited_with_who_where_and_which_request(
    client: httpx.AsyncClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    user = await make_user(runtime, role=Role.DOCTOR)
    response = await client.post(
        "/auth/token",
        json={"username": user["username"], "password": PASSWORD},
        headers={"User-Agent": "ward-3-terminal", "X-Request-ID": "signin-ward-3"},
    )
    assert response.status_code == 200
    entry = only(await audit_entries(client, admin, action="auth.login", user_id=user["id"]))
    assert entry["outcome"] == "success"
    assert (entry["username"], entry["role"]) == (user["username"], "doctor")
    assert entry["user_agent"] == "ward-3-terminal"
    assert entry["ip_address"]
    assert entry["request_id"] == "signin-ward-3" == response.headers["X-Request-ID"]
    assert entry["resource_type"] == "session"
    assert entry["resource_id"] == str(session_id_of(response.json()["access_token"]))
    assert entry["occurred_at"].endswith("Z")


async def test_failed_sign_ins_are_audited_with_their_reason(
    client: httpx.AsyncClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    user = await make_user(runtime, role=Role.NURSE)
    name = user["username"]
    for _ in range(runtime.settings.login_max_failures):
        unauthorized(await client.post("/auth/token", json={"username": name, "password": "x"}))
    unauthorized(await client.post("/auth/token", json={"username": name, "password": PASSWORD}))
    unauthorized(
        await client.post("/auth/token", json={"username": "no_such_user", "password": "x"})
    )

    failed = await audit_entries(client, admin, action="auth.login_failed")
    mine = [e for e in reversed(failed) if e["user_id"] == user["id"]]
    assert [e["details"]["reason"] for e in mine] == ["bad_credentials"] * (
        runtime.settings.login_max_failures - 1
    ) + ["locked_out", "locked"]
    assert all(e["outcome"] == "failure" and e["username"] == name for e in mine)
    unknown = only([e for e in failed if e["user_id"] is None])
    assert unknown["details"] == {"username": "no_such_user", "reason": "bad_credentials"}
    assert unknown["outcome"] == "failure"
    assert not await audit_entries(client, admin, action="auth.login", user_id=user["id"])


async def test_a_missing_or_wrong_mfa_code_is_audited(
    client: httpx.AsyncClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    user = await make_user(runtime, role=Role.DOCTOR, mfa=True)
    body = {"username": user["username"], "password": PASSWORD}
    unauthorized(await client.post("/auth/token", json=body))
    code = pyotp.TOTP(user["totp_secret"]).now()
    await login(client, user["username"], totp_secret=user["totp_secret"])
    unauthorized(await client.post("/auth/token", json={**body, "mfa_code": code}))

    attempts = await audit_entries(client, admin, action="auth.login", user_id=user["id"])
    assert [(e["outcome"], e["details"]) for e in reversed(attempts)] == [
        ("failure", {"reason": "mfa_required"}),
        ("success", {}),
    ]
    replay = only(
        await audit_entries(client, admin, action="auth.login_failed", user_id=user["id"])
    )
    assert replay["details"]["reason"] == "bad_mfa_code"


async def test_refresh_and_refresh_reuse_are_audited(
    client: httpx.AsyncClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    user = await make_user(runtime, role=Role.PHARMACIST)
    first = await login(client, user["username"])
    sid = str(session_id_of(first["access_token"]))
    rotated = await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    unauthorized(await client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}))

    refresh = only(await audit_entries(client, admin, action="auth.refresh", user_id=user["id"]))
    assert (refresh["outcome"], refresh["resource_id"]) == ("success", sid)
    assert refresh["request_id"] == rotated.headers["X-Request-ID"]
    reuse = only(
        await audit_entries(client, admin, action="auth.refresh_reuse", user_id=user["id"])
    )
    assert (reuse["outcome"], reuse["resource_id"]) == ("failure", sid)
    assert reuse["username"] == user["username"]


async def test_logout_is_audited(
    client: httpx.AsyncClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    user = await make_user(runtime, role=Role.RECEPTIONIST)
    tokens = await login(client, user["username"])
    response = await client.post("/auth/logout", headers=bearer(tokens))
    assert response.status_code == 204
    entry = only(await audit_entries(client, admin, action="auth.logout", user_id=user["id"]))
    assert entry["outcome"] == "success"
    assert entry["resource_id"] == str(session_id_of(tokens["access_token"]))
    assert entry["request_id"] == response.headers["X-Request-ID"]


async def test_a_permission_denial_is_audited(
    client: httpx.AsyncClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    user = await make_user(runtime, role=Role.RECEPTIONIST)
    tokens = await login(client, user["username"])
    denied = await client.get("/api/v1/audit", headers=bearer(tokens))
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "FORBIDDEN"

    entry = only(await audit_entries(client, admin, action="access.denied", user_id=user["id"]))
    assert entry["outcome"] == "denied"
    assert entry["details"]["status"] == 403
    assert (entry["username"], entry["role"]) == (user["username"], "receptionist")
    assert entry["request_id"] == denied.headers["X-Request-ID"]


async def test_a_refused_token_is_audited_but_a_missing_one_is_not(
    client: httpx.AsyncClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    before = len(await audit_entries(client, admin, action="access.denied"))
    unauthorized(await client.get("/api/v1/patients"))
    assert len(await audit_entries(client, admin, action="access.denied")) == before
    refused = await client.get("/api/v1/patients", headers={"Authorization": "Bearer forged"})
    unauthorized(refused)
    entry = only(
        await audit_entries(
            client, admin, action="access.denied", request_id=refused.headers["X-Request-ID"]
        )
    )
    assert entry["details"]["status"] == 401
    assert entry["user_id"] is None


async def test_a_failed_mfa_confirmation_is_audited(
    client: httpx.AsyncClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    user = await make_user(runtime, role=Role.NURSE)
    headers = bearer(await login(client, user["username"]))
    secret = (await client.post("/auth/mfa/setup", headers=headers)).json()["secret"]
    failed = await client.post(
        "/auth/mfa/verify", json={"code": wrong_code(secret)}, headers=headers
    )
    assert failed.status_code == 422
    entry = only(
        await audit_entries(
            client, admin, action="auth.mfa_verify", request_id=failed.headers["X-Request-ID"]
        )
    )
    assert (entry["outcome"], entry["user_id"]) == ("failure", user["id"])
