"""Two `hms serve` processes on one PostgreSQL database and one Redis behave as one: patients
registered at the same time through both get distinct numbers, each write once, all audited.
(Shared events: tests/realtime/test_processes.py; shared rate limits:
tests/api/test_rate_limits.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import PG_URL, REDIS_URL, _truncate_pg
from tests.figures import count
from tests.server.integrity import half_written, sealed_within
from tests.server.load import UNLIMITED, WriteLoad, missing_writes, new_provider
from tests.server.support import Server, audit_verifies, create_user, server_env

pytestmark = pytest.mark.skipif(
    not (PG_URL and REDIS_URL), reason="needs HMS_TEST_DATABASE_URL and HMS_TEST_REDIS_URL"
)
USERNAME, PASSWORD = "twin_admin", "twin admin password 1"


async def test_two_processes_hand_out_no_number_twice(
    pg_migrated: str | None, tmp_path: Path
) -> None:
    assert pg_migrated and REDIS_URL
    await _truncate_pg(pg_migrated)
    env = server_env(tmp_path / "data", pg_migrated) | UNLIMITED | {"HMS_REDIS_URL": REDIS_URL}
    create_user(env, USERNAME, PASSWORD, "admin")
    servers = [Server(env, tmp_path), Server(env, tmp_path)]
    try:
        for server in servers:
            server.wait_ready()
        headers = servers[0].headers(USERNAME, PASSWORD)
        provider = new_provider(servers[0].url, headers)
        with WriteLoad(
            servers[0].url, headers, provider, clients=6, urls=[s.url for s in servers]
        ) as load:
            load.wait_for(90)
        outcome = load.outcome
        assert outcome.refusals == {} and outcome.unanswered == {}
        numbers = outcome.numbers
        assert len(numbers) == len(set(numbers)) == len(outcome.acknowledged["patient"])
        assert all(re.fullmatch(r"P\d{8,}", n) for n in numbers)
        # Each process finds what the other wrote.
        assert missing_writes(servers[1].url, headers, outcome) == []
        checked, problems = await half_written(pg_migrated.replace("://", "+asyncpg://", 1))
        assert problems == [] and checked >= outcome.writes
        # Both processes' sealers take turns: every entry is linked into one chain.
        entries = await sealed_within(pg_migrated.replace("://", "+asyncpg://", 1), 15)
        assert audit_verifies(env).strip() == f"ok: {entries} audit entries verified"
        count("two processes (postgresql): patient numbers drawn concurrently", len(numbers))
        count("two processes (postgresql): duplicate numbers", 0)
    finally:
        for server in servers:
            server.stop()
