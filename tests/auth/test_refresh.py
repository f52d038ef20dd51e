"""Refresh tokens: rotation on every use, and a spent one ends its whole sign-in."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.auth.expect import unauthorized
from tests.auth.stored import session_id_of, set_user, stored_session
from tests.factories import bearer, login, make_user


async def refresh(client: httpx.AsyncClient, tokens: dict[str, Any]) -> httpx.Response:
    return await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})


async def me(client: httpx.AsyncClient, tokens: dict[str, Any]) -> httpx.Response:
    return await client.get("/auth/me", headers=bearer(tokens))


async def signed_in_user(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, Any]:
    user = await make_user(runtime, role=Role.DOCTOR)
    return await login(client, user["username"])


async def test_refresh_rotates_the_pair(client: httpx.AsyncClient, runtime: Runtime) -> None:
    first = await signed_in_user(client, runtime)
    response = await refresh(client, first)
    assert response.status_code == 200, response.text
    second = response.json()
    assert set(second) == set(first)
    assert second["token_type"] == "Bearer"
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert session_id_of(second["access_token"]) == session_id_of(first["access_token"])
    assert (await me(client, second)).status_code == 200

    third = await refresh(client, second)
    assert third.status_code == 200, third.text


async def test_a_spent_refresh_token_no_longer_works(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    first = await signed_in_user(client, runtime)
    assert (await refresh(client, first)).status_code == 200
    error = unauthorized(await refresh(client, first))
    assert "sign" in error["message"].lower() or "revoked" in error["message"].lower()


async def test_reusing_a_spent_refresh_token_revokes_the_whole_sign_in(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.NURSE)
    first = await login(client, user["username"])
    elsewhere = await login(client, user["username"])
    second = (await refresh(client, first)).json()
    third = (await refresh(client, second)).json()
    assert (await me(client, third)).status_code == 200

    # Someone replays the first refresh token (stolen, or a client gone wrong).
    unauthorized(await refresh(client, first))

    unauthorized(await refresh(client, third))
    for tokens in (first, second, third):
        unauthorized(await me(client, tokens))
    stored = await stored_session(runtime, session_id_of(first["access_token"]))
    assert stored.revoked_at is not None
    assert stored.revoked_reason == "refresh_token_reuse"

    # Only the compromised sign-in ends; the user's other sign-in goes on.
    assert (await me(client, elsewhere)).status_code == 200
    assert (await refresh(client, elsewhere)).status_code == 200


async def test_two_parallel_refreshes_with_one_token_succeed_once(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    tokens = await signed_in_user(client, runtime)
    responses = await asyncio.gather(refresh(client, tokens), refresh(client, tokens))
    assert sorted(r.status_code for r in responses) == [200, 401]
    for response in responses:
        if response.status_code == 401:
            unauthorized(response)


async def test_unknown_refresh_tokens_are_refused(client: httpx.AsyncClient) -> None:
    unauthorized(await client.post("/auth/refresh", json={"refresh_token": "not-a-token"}))
    missing = await client.post("/auth/refresh", json={})
    assert missing.status_code == 422
    assert missing.json()["error"]["details"]["field"] == "refresh_token"


async def test_an_access_token_is_not_a_refresh_token(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    tokens = await signed_in_user(client, runtime)
    unauthorized(await client.post("/auth/refresh", json={"refresh_token": tokens["access_token"]}))
    assert (await refresh(client, tokens)).status_code == 200


async def test_a_deactivated_user_cannot_refresh(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.BILLING)
    tokens = await login(client, user["username"])
    await set_user(runtime, user["username"], is_active=False)
    unauthorized(await refresh(client, tokens))
