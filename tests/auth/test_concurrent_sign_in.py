"""Sign-ins racing each other: parallel guesses all count, a TOTP code works once."""

from __future__ import annotations

import asyncio

import httpx
import pyotp

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.auth.expect import unauthorized
from tests.auth.stored import stored_user
from tests.factories import PASSWORD, make_user


async def test_parallel_wrong_guesses_all_count_towards_the_lockout(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.DOCTOR)
    name = user["username"]
    guesses = [
        client.post("/auth/token", json={"username": name, "password": f"guess {n}"})
        for n in range(runtime.settings.login_max_failures)
    ]
    for response in await asyncio.gather(*guesses):
        unauthorized(response)
    assert (await stored_user(runtime, name)).locked_until is not None
    unauthorized(await client.post("/auth/token", json={"username": name, "password": PASSWORD}))


async def test_one_totp_code_sent_twice_at_once_signs_in_once(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.DOCTOR, mfa=True)
    body = {
        "username": user["username"],
        "password": PASSWORD,
        "mfa_code": pyotp.TOTP(user["totp_secret"]).now(),
    }
    responses = await asyncio.gather(*(client.post("/auth/token", json=body) for _ in range(3)))
    assert sorted(r.status_code for r in responses) == [200, 401, 401]
