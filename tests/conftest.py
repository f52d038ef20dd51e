"""Every test that uses `client` or `runtime` runs once on SQLite and, when
HMS_TEST_DATABASE_URL names a PostgreSQL database, once more on PostgreSQL.

The real migrations build each database once per run; each test then starts from empty tables
(a fresh copy of the migrated SQLite file; TRUNCATE on PostgreSQL). The PostgreSQL test database
is wiped: never point HMS_TEST_DATABASE_URL at data you want to keep.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from hms.app import create_app
from hms.config import Settings, async_database_url
from hms.db import create_engine
from hms.migrate import upgrade
from hms.runtime import Runtime

PG_URL = os.environ.get("HMS_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("HMS_TEST_REDIS_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])

TEST_SECRET = "test-secret-key-not-for-production"


def test_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "secret_key": TEST_SECRET,
        # OWASP's minimum argon2id cost keeps the suite quick while staying compliant.
        "argon2_time_cost": 2,
        "argon2_memory_kib": 19456,
        "argon2_parallelism": 1,
        "rate_limit": "100000/minute;10000/second",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "hms.db"
    engine = create_engine(async_database_url(f"sqlite:///{path}"))
    await upgrade(engine)
    await engine.dispose()
    return path


@pytest.fixture(scope="session")
async def pg_migrated() -> str | None:
    if not PG_URL:
        return None
    engine = create_engine(async_database_url(PG_URL))
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    await engine.dispose()
    return PG_URL


async def _truncate_pg(url: str) -> None:
    engine = create_engine(async_database_url(url))
    async with engine.begin() as conn:
        names = (
            (
                await conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename <> 'alembic_version'"
                    )
                )
            )
            .scalars()
            .all()
        )
        await conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        # The record-number counters start again at 1 (kept, since servers remember them).
        await conn.execute(
            text(
                "SELECT setval(format('%I', sequencename)::regclass, 1, false) FROM pg_sequences "
                "WHERE schemaname = 'public' AND sequencename LIKE 'hms_number_%'"
            )
        )
        # What the migrations seed: the audit chain's empty head.
        await conn.execute(
            text(
                "INSERT INTO audit_chain_head (id, seq, hash, position, sealed_xid, sealed_seq) "
                f"VALUES (1, 0, '{'0' * 64}', 0, 0, 0)"
            )
        )
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    pg_migrated: str | None,
) -> str:
    if request.param == "sqlite":
        path = tmp_path / "hms.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    assert pg_migrated
    await _truncate_pg(pg_migrated)
    return pg_migrated


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return test_settings(database_url, tmp_path / "data")


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    rt = Runtime.build(settings)
    yield rt
    await rt.close()


@pytest.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, runtime)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgres") else "sqlite"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.figures import summary

    lines = summary()
    if lines:
        terminalreporter.section("reliability figures")
        for line in lines:
            terminalreporter.write_line(line)
