"""`hms serve` on a brand-new installation migrates the database itself before it listens:
nobody has to run `hms migrate` first."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from hms.config import async_database_url
from hms.db import create_engine
from hms.migrate import upgrade
from tests.factories import PASSWORD, patient_body
from tests.server.support import Server, create_user, server_env


async def _drop_schema(url: str) -> None:
    engine = create_engine(async_database_url(url))
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def _migrate(url: str) -> None:
    engine = create_engine(async_database_url(url))
    await upgrade(engine)
    await engine.dispose()


@pytest.fixture
def empty_database(backend: str, database_url: str) -> Iterator[str | None]:
    """No database at all on SQLite (the server makes its file in the data folder); an empty
    schema on PostgreSQL, left migrated again afterwards for the tests that follow."""
    if backend == "sqlite":
        yield None
        return
    asyncio.run(_drop_schema(database_url))
    try:
        yield database_url
    finally:
        asyncio.run(_migrate(database_url))


def test_serve_on_a_fresh_data_dir_migrates_then_serves(
    empty_database: str | None, tmp_path: Path
) -> None:
    data_dir = tmp_path / "new-installation" / "data"
    # Nothing but the data folder on SQLite: the database file and the secret key are made there.
    secret = None if empty_database is None else "fresh-start-secret"
    env = server_env(data_dir, empty_database, secret_key=secret)
    server = Server(env, tmp_path)
    try:
        server.wait_ready()
        if empty_database is None:
            assert (data_dir / "hms.db").is_file()
            assert (data_dir / "secret_key").is_file()
        create_user(env, "first_admin", PASSWORD, "admin")
        headers = server.headers("first_admin", PASSWORD)
        created = requests.post(
            f"{server.url}/api/v1/patients", json=patient_body(), headers=headers, timeout=10
        )
        assert created.status_code == 201, created.text
        listed = requests.get(f"{server.url}/api/v1/patients", headers=headers, timeout=10)
        assert [p["id"] for p in listed.json()["patients"]] == [created.json()["id"]]
    finally:
        server.stop()
