"""Signing in: the documented token body, one answer for every refused sign-in, the lockout."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import jwt

from hms.auth.permissions import ROLE_PERMISSIONS, Role
from hms.db import utcnow
from hms.runtime import Runtime
from tests.auth.expect import same_answer, unauthorized
from tests.auth.stored import app_with, set_user, stored_user
from tests.factories import PASSWORD, bearer, make_user
from tests.seed_examples import response_body


async def sign_in(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post("/auth/token", json={"username": username, "password": password})


async def test_sign_in_returns_the_documented_token_body(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.NURSE)
    response = await sign_in(client, user["username"])
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert set(tokens) == set(response_body("#### JWT Authentication"))
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == runtime.settings.access_token_ttl
    assert tokens["scope"].split() == sorted(ROLE_PERMISSIONS[Role.NURSE])
    assert tokens["refresh_token"] != tokens["access_token"]
    assert response.headers["Cache-Control"] == "no-store"
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["alg"] == "HS256" and header["typ"] == "at+jwt"
    me = await client.get("/auth/me", headers=bearer(tokens))
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]


async def test_usernames_are_matched_regardless_of_case_and_spaces(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await make_user(runtime, role=Role.DOCTOR, username="dr.house")
    assert (await sign_in(client, "  Dr.House ")).status_code == 200


async def test_every_refused_sign_in_gets_the_same_answer(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """Nobody learns from the answer whether a username exists, is disabled or is locked."""
    await make_user(runtime, role=Role.DOCTOR, username="present")
    await make_user(runtime, role=Role.DOCTOR, username="retired")
    await make_user(runtime, role=Role.DOCTOR, username="locked")
    await set_user(runtime, "retired", is_active=False)
    await set_user(runtime, "locked", locked_until=utcnow() + timedelta(minutes=10))

    answers = {
        "wrong password": await sign_in(client, "present", "not the password"),
        "unknown username": await sign_in(client, "absent"),
        "inactive account": await sign_in(client, "retired"),
        "locked account": await sign_in(client, "locked"),
    }
    errors = {case: unauthorized(response) for case, response in answers.items()}
    assert {same_answer(e) for e in errors.values()} == {
        ("UNAUTHORIZED", "Invalid username or password", "{}")
    }
    assert len({frozenset(response.headers) for response in answers.values()}) == 1


async def test_five_failures_lock_the_account_even_against_the_right_password(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    assert runtime.settings.login_max_failures == 5
    user = await make_user(runtime, role=Role.PHARMACIST)
    name = user["username"]
    refused = unauthorized(await sign_in(client, name, "guess"))
    for _ in range(3):
        unauthorized(await sign_in(client, name, "guess"))
    # Four failures are not yet a lockout.
    assert (await stored_user(runtime, name)).locked_until is None
    before = utcnow()
    unauthorized(await sign_in(client, name, "guess"))
    locked_until = (await stored_user(runtime, name)).locked_until
    assert locked_until is not None
    lockout = timedelta(seconds=runtime.settings.login_lockout_seconds)
    assert before + lockout <= locked_until <= utcnow() + lockout

    locked = unauthorized(await sign_in(client, name))
    assert same_answer(locked) == same_answer(refused)


async def test_the_lockout_ends_after_its_period(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.PHARMACIST)
    name = user["username"]
    for _ in range(5):
        unauthorized(await sign_in(client, name, "guess"))
    unauthorized(await sign_in(client, name))
    # Move the end of the lockout into the past instead of waiting fifteen minutes.
    await set_user(runtime, name, locked_until=utcnow() - timedelta(seconds=1))

    # The count starts afresh: one more slip does not lock the account again.
    unauthorized(await sign_in(client, name, "guess"))
    assert (await sign_in(client, name)).status_code == 200
    assert (await stored_user(runtime, name)).failed_logins == 0


async def test_a_successful_sign_in_resets_the_failure_count(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.BILLING)
    name = user["username"]
    for _ in range(4):
        unauthorized(await sign_in(client, name, "guess"))
    assert (await sign_in(client, name)).status_code == 200
    for _ in range(4):
        unauthorized(await sign_in(client, name, "guess"))
    assert (await sign_in(client, name)).status_code == 200


async def test_failure_limit_and_lockout_length_follow_the_settings(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    user = await make_user(runtime, role=Role.RECEPTIONIST)
    name = user["username"]
    async with app_with(
        database_url, tmp_path / "strict", login_max_failures=2, login_lockout_seconds=120
    ) as (strict, strict_runtime):
        unauthorized(await sign_in(strict, name, "guess"))
        assert (await sign_in(strict, name)).status_code == 200
        unauthorized(await sign_in(strict, name, "guess"))
        before = utcnow()
        unauthorized(await sign_in(strict, name, "guess"))
        unauthorized(await sign_in(strict, name))
        locked_until = (await stored_user(strict_runtime, name)).locked_until
        assert locked_until is not None
        assert before + timedelta(seconds=120) <= locked_until
        assert locked_until <= utcnow() + timedelta(seconds=120)


async def test_sign_in_refuses_malformed_and_incomplete_bodies(client: httpx.AsyncClient) -> None:
    missing = await client.post("/auth/token", json={"username": "someone"})
    assert missing.status_code == 422
    assert missing.json()["error"]["details"]["field"] == "password"
    unknown = await client.post(
        "/auth/token", json={"username": "a", "password": "b", "remember_me": True}
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["details"]["field"] == "remember_me"
    broken = await client.post(
        "/auth/token", content=b'{"username": ', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "BAD_REQUEST"
