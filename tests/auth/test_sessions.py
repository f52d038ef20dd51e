"""A sign-in's life: logout ends it at once, idleness and its absolute lifetime end it too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.db import utcnow
from hms.runtime import Runtime
from tests.auth.expect import unauthorized
from tests.auth.stored import idle_for, session_id_of, set_session, stored_session
from tests.factories import bearer, login, make_user


async def refresh(client: httpx.AsyncClient, tokens: dict[str, Any]) -> httpx.Response:
    return await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})


async def me(client: httpx.AsyncClient, tokens: dict[str, Any]) -> httpx.Response:
    return await client.get("/auth/me", headers=bearer(tokens))


async def test_logout_ends_the_access_and_refresh_tokens_at_once(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.DOCTOR)
    tokens = await login(client, user["username"])
    other = await login(client, user["username"])
    response = await client.post(
        "/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=bearer(tokens)
    )
    assert response.status_code == 204
    assert response.content == b""
    unauthorized(await me(client, tokens))
    unauthorized(await client.get("/api/v1/patients", headers=bearer(tokens)))
    unauthorized(await refresh(client, tokens))
    # Signing out here leaves the user's other sign-ins alone.
    assert (await me(client, other)).status_code == 200


async def test_logout_without_a_body_also_ends_the_refresh_token(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.NURSE)
    tokens = await login(client, user["username"])
    assert (await client.post("/auth/logout", headers=bearer(tokens))).status_code == 204
    unauthorized(await refresh(client, tokens))
    unauthorized(await me(client, tokens))
    unauthorized(await client.post("/auth/logout", headers=bearer(tokens)))


async def test_logout_cannot_end_someone_elses_sign_in(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    victim = await login(client, (await make_user(runtime, role=Role.DOCTOR))["username"])
    intruder = await login(client, (await make_user(runtime, role=Role.NURSE))["username"])
    response = await client.post(
        "/auth/logout", json={"refresh_token": victim["refresh_token"]}, headers=bearer(intruder)
    )
    assert response.status_code == 204
    unauthorized(await me(client, intruder))
    assert (await me(client, victim)).status_code == 200
    assert (await refresh(client, victim)).status_code == 200


async def test_logout_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    unauthorized(await client.post("/auth/logout"))


async def test_an_idle_sign_in_expires(client: httpx.AsyncClient, runtime: Runtime) -> None:
    user = await make_user(runtime, role=Role.DOCTOR)
    tokens = await login(client, user["username"])
    idle = timedelta(seconds=runtime.settings.session_idle_timeout + 1)
    await idle_for(runtime, session_id_of(tokens["access_token"]), idle)
    error = unauthorized(await me(client, tokens))
    assert "inactivity" in error["message"]
    unauthorized(await refresh(client, tokens))
    # Once the refresh is refused for idleness the sign-in is over for good.
    stored = await stored_session(runtime, session_id_of(tokens["access_token"]))
    assert stored.revoked_reason == "idle_timeout"
    assert (await login(client, user["username"]))["access_token"]


async def test_a_refresh_alone_is_also_refused_after_idleness(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.RECEPTIONIST)
    tokens = await login(client, user["username"])
    idle = timedelta(seconds=runtime.settings.session_idle_timeout + 1)
    await idle_for(runtime, session_id_of(tokens["access_token"]), idle)
    unauthorized(await refresh(client, tokens))


async def test_use_keeps_a_sign_in_alive(client: httpx.AsyncClient, runtime: Runtime) -> None:
    user = await make_user(runtime, role=Role.DOCTOR)
    tokens = await login(client, user["username"])
    sid = session_id_of(tokens["access_token"])
    almost = timedelta(seconds=runtime.settings.session_idle_timeout - 60)
    await idle_for(runtime, sid, almost)
    assert (await me(client, tokens)).status_code == 200
    # The request counted as activity: the idle clock started again.
    assert utcnow() - (await stored_session(runtime, sid)).last_seen_at < timedelta(minutes=1)
    await idle_for(runtime, sid, almost)
    refreshed = await refresh(client, tokens)
    assert refreshed.status_code == 200
    assert (await me(client, refreshed.json())).status_code == 200


async def test_a_sign_in_ends_at_its_absolute_lifetime(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.DOCTOR)
    tokens = await login(client, user["username"])
    sid = session_id_of(tokens["access_token"])
    stored = await stored_session(runtime, sid)
    lifetime = timedelta(seconds=runtime.settings.refresh_token_ttl)
    assert stored.expires_at - stored.created_at == lifetime
    await set_session(runtime, sid, expires_at=utcnow() - timedelta(seconds=1))
    unauthorized(await refresh(client, tokens))
    # An access token issued shortly before the end does not outlive the sign-in.
    unauthorized(await me(client, tokens))
