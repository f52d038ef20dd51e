"""Crash safety: under a steady write load, `hms serve` is killed with SIGKILL (no chance to
finish anything) and started again. Every write a client saw acknowledged must be there, no
write may be half there, and the audit chain must still verify."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.figures import count
from tests.server.integrity import half_written, served_database
from tests.server.load import UNLIMITED, WriteLoad, missing_writes, new_provider
from tests.server.support import Server, audit_verifies, create_user, server_env

USERNAME, PASSWORD = "crash_admin", "crash admin password 1"
# One kill per backend in CI; HMS_CRASHES=20 for a longer run.
CRASHES = int(os.environ.get("HMS_CRASHES", "1"))
# Acknowledged writes before each kill: enough that the kill lands mid-load.
WRITES_BEFORE_KILL = 45


async def test_sigkill_under_load_loses_no_acknowledged_write(
    module_database: str | None, tmp_path: Path, backend_name: str
) -> None:
    env = server_env(tmp_path / "data", module_database) | UNLIMITED
    create_user(env, USERNAME, PASSWORD, "admin")
    server = Server(env, tmp_path)
    try:
        server.wait_ready()
        headers = server.headers(USERNAME, PASSWORD)
        provider = new_provider(server.url, headers)
        acknowledged = 0
        for _ in range(CRASHES):
            with WriteLoad(server.url, headers, provider) as load:
                load.wait_for(WRITES_BEFORE_KILL)
                server.kill()
            outcome = load.outcome
            assert outcome.refusals == {}, outcome.refusals

            server = Server(env, tmp_path)
            server.wait_ready()
            headers = server.headers(USERNAME, PASSWORD)
            assert missing_writes(server.url, headers, outcome) == []
            checked, problems = await half_written(
                served_database(tmp_path / "data", module_database)
            )
            assert problems == []
            assert checked >= outcome.writes
            assert audit_verifies(env).startswith("ok: ")
            acknowledged += outcome.writes
            count(f"crash ({backend_name}): SIGKILLs under load", 1)
            count(
                f"crash ({backend_name}): acknowledged writes checked after a crash", outcome.writes
            )
            count(f"crash ({backend_name}): acknowledged writes lost", 0)
            count(f"crash ({backend_name}): rows checked for half-written data", checked)
        assert acknowledged >= CRASHES * WRITES_BEFORE_KILL
    finally:
        server.stop()


@pytest.fixture
def backend_name(module_database: str | None) -> str:
    return "sqlite" if module_database is None else "postgresql"
