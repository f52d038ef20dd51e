"""Rate limits as a client meets them: the X-RateLimit-* headers on every answer, 429 with
Retry-After past the limit, counted per user (per address when anonymous) and shared by every
server process through Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import redis.asyncio as redis

from hms.app import create_app
from hms.auth.permissions import Role
from hms.config import Settings
from hms.runtime import Runtime
from tests.conftest import REDIS_URL
from tests.conftest import test_settings as build_settings
from tests.factories import bearer, login, make_user

LOW = "5/minute;3/second"
PATIENTS = "/api/v1/patients"


@asynccontextmanager
async def served(settings: Settings, address: str = "10.0.0.1") -> AsyncIterator[httpx.AsyncClient]:
    """An app of its own (its own limiter, as a separate server process has), seen from
    `address`."""
    runtime = Runtime.build(settings)
    transport = httpx.ASGITransport(
        app=create_app(settings, runtime), raise_app_exceptions=False, client=(address, 40000)
    )
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        await runtime.close()


def low_limit(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    return build_settings(database_url, tmp_path / "low", rate_limit=LOW, **overrides)


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == "RATE_LIMITED"
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["X-RateLimit-Remaining"] == "0"


async def test_every_answer_carries_the_headers(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    tokens = await login(client, (await make_user(runtime, role=Role.NURSE))["username"])
    answers = [
        await client.get(PATIENTS, headers=bearer(tokens)),
        await client.get(PATIENTS),
        await client.get(PATIENTS, headers={"Authorization": "Bearer not-a-token"}),
        await client.get("/api/v1/no-such-thing"),
        await client.post(PATIENTS, json={}, headers=bearer(tokens)),
    ]
    assert [a.status_code for a in answers] == [200, 401, 401, 404, 422]
    now = time.time()
    for answer in answers:
        limit = int(answer.headers["X-RateLimit-Limit"])
        remaining = int(answer.headers["X-RateLimit-Remaining"])
        reset = int(answer.headers["X-RateLimit-Reset"])
        assert limit == 100000 and 0 <= remaining < limit
        assert now < reset <= now + 61, "epoch seconds, in the future, within the window"
    # The signed-in user's count goes down with each of its requests.
    again = await client.get(PATIENTS, headers=bearer(tokens))
    assert int(again.headers["X-RateLimit-Remaining"]) == (
        int(answers[0].headers["X-RateLimit-Remaining"]) - 2
    )


async def test_burst_over_the_limit_is_refused(database_url: str, tmp_path: Path) -> None:
    async with served(low_limit(database_url, tmp_path)) as client:
        ok = [await client.get(PATIENTS) for _ in range(3)]
        assert [r.status_code for r in ok] == [401, 401, 401]
        assert [r.headers["X-RateLimit-Limit"] for r in ok] == ["5", "5", "5"]
        assert [r.headers["X-RateLimit-Remaining"] for r in ok] == ["4", "3", "2"]
        refused = await client.get(PATIENTS, headers={"X-Request-ID": "burst-4"})
        assert_limited(refused)
        assert refused.headers["X-RateLimit-Limit"] == "3"  # the limit that refused it
        assert refused.json()["error"]["request_id"] == "burst-4"
        # Health checks from load balancers are never refused.
        assert (await client.get("/health/live")).status_code == 200


async def test_per_minute_limit_with_requests_spread_out(database_url: str, tmp_path: Path) -> None:
    async with served(low_limit(database_url, tmp_path)) as client:
        for _ in range(5):
            assert (await client.get(PATIENTS)).status_code == 401
            await asyncio.sleep(0.35)  # stays under the burst of 3 per second
        refused = await client.get(PATIENTS)
        assert_limited(refused)
        # The minute window, not the one-second burst, is what the client must wait for.
        assert refused.headers["X-RateLimit-Limit"] == "5"
        assert int(refused.headers["Retry-After"]) > 5


async def test_anonymous_limits_are_per_address(database_url: str, tmp_path: Path) -> None:
    settings = low_limit(database_url, tmp_path)
    async with served(settings, "10.0.0.1") as first, served(settings, "10.0.0.2") as second:
        for _ in range(3):
            await first.get(PATIENTS)
        assert_limited(await first.get(PATIENTS))
        # A made-up token does not open a fresh allowance: it counts against the address.
        assert_limited(await first.get(PATIENTS, headers={"Authorization": "Bearer made.up.x"}))
        assert (await second.get(PATIENTS)).status_code == 401


async def test_signed_in_limits_are_per_user(
    client: httpx.AsyncClient, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    # Signed in through the generously limited app; the tokens work on any app of the same DB.
    tired = bearer(await login(client, (await make_user(runtime, role=Role.NURSE))["username"]))
    fresh = bearer(await login(client, (await make_user(runtime, role=Role.NURSE))["username"]))
    async with served(low_limit(database_url, tmp_path)) as limited:
        for _ in range(3):
            assert (await limited.get(PATIENTS, headers=tired)).status_code == 200
        assert_limited(await limited.get(PATIENTS, headers=tired))
        other_user = await limited.get(PATIENTS, headers=fresh)
        assert other_user.status_code == 200
        assert other_user.headers["X-RateLimit-Remaining"] == "4"
        # The same address without a token has its own count as well.
        assert (await limited.get(PATIENTS)).status_code == 401


@pytest.mark.skipif(not REDIS_URL, reason="HMS_TEST_REDIS_URL not set")
async def test_processes_sharing_redis_share_the_count(database_url: str, tmp_path: Path) -> None:
    assert REDIS_URL
    store = redis.from_url(REDIS_URL)
    await store.flushdb()
    await store.aclose()
    settings = low_limit(database_url, tmp_path, redis_url=REDIS_URL)
    async with served(settings) as one, served(settings) as two:
        assert (await one.get(PATIENTS)).headers["X-RateLimit-Remaining"] == "4"
        assert (await two.get(PATIENTS)).headers["X-RateLimit-Remaining"] == "3"
        assert (await one.get(PATIENTS)).headers["X-RateLimit-Remaining"] == "2"
        assert_limited(await two.get(PATIENTS))
        assert_limited(await one.get(PATIENTS))


async def test_without_redis_each_process_counts_alone(database_url: str, tmp_path: Path) -> None:
    """The in-memory fallback is per process, which is why several processes need Redis."""
    settings = low_limit(database_url, tmp_path)
    async with served(settings) as one, served(settings) as two:
        for _ in range(3):
            await one.get(PATIENTS)
        assert_limited(await one.get(PATIENTS))
        assert (await two.get(PATIENTS)).headers["X-RateLimit-Remaining"] == "4"
