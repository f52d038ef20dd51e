"""Requests sign their audit entries; the sealer links them into the chain once they have
committed, in commit order, and a trail written before the links existed still verifies after
the upgrade."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hms.app import create_app
from hms.audit import service as audit
from hms.audit.chain import GENESIS, chain_key, entry_hash
from hms.audit.models import AuditEntry
from hms.audit.sealing import seal, verify_chain
from hms.config import async_database_url
from hms.db import commit, create_engine
from hms.migrate import upgrade
from hms.runtime import Runtime
from tests.audit.test_tamper_evidence import (
    audited_activity,
    entry_count,
    without_append_only_triggers,
)
from tests.conftest import test_settings as settings_for


async def unsealed(runtime: Runtime) -> int:
    async with runtime.engine.connect() as conn:
        linked = (await conn.execute(text("SELECT count(*) FROM audit_links"))).scalar_one()
    return await entry_count(runtime) - int(linked)


async def test_entries_are_linked_after_they_commit_and_verify(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await audited_activity(client, runtime)
    total = await entry_count(runtime)
    assert await unsealed(runtime) == total  # requests only sign and insert

    async with runtime.sessionmaker() as session:
        report = await seal(session, secret_key=runtime.auth.secret_key)
        await session.commit()
    assert (report.sealed, report.refused_seq) == (total, None)
    assert await unsealed(runtime) == 0
    async with runtime.sessionmaker() as session:
        again = await seal(session, secret_key=runtime.auth.secret_key)
    assert again.sealed == 0

    async with runtime.sessionmaker() as session:
        verified = await verify_chain(session, secret_key=runtime.auth.secret_key)
    assert (verified.ok, verified.checked, verified.unsealed) == (True, total, 0)


async def test_removing_the_last_entries_with_their_links_is_noticed(
    client: httpx.AsyncClient, runtime: Runtime, backend: str
) -> None:
    await audited_activity(client, runtime)
    async with runtime.sessionmaker() as session:
        await seal(session, secret_key=runtime.auth.secret_key)
        await session.commit()
    last = await entry_count(runtime)
    async with without_append_only_triggers(runtime, backend) as conn:
        await conn.execute(text(f"DELETE FROM audit_entries WHERE seq = {last}"))
        if backend == "postgresql":
            await conn.execute(text("ALTER TABLE audit_links DISABLE TRIGGER USER"))
        else:
            await conn.execute(text("DROP TRIGGER audit_links_no_delete"))
        await conn.execute(text(f"DELETE FROM audit_links WHERE seq = {last}"))
        if backend == "postgresql":
            await conn.execute(text("ALTER TABLE audit_links ENABLE TRIGGER USER"))
    async with runtime.sessionmaker() as session:
        report = await verify_chain(session, secret_key=runtime.auth.secret_key)
    assert (report.ok, report.problem) == (False, "entries removed from the end")
    assert report.checked == last - 1


async def test_a_transaction_that_commits_late_is_sealed_in_its_turn(
    client: httpx.AsyncClient, runtime: Runtime, backend: str
) -> None:
    """On PostgreSQL an entry numbered before others may commit after them: the sealer waits
    for it rather than passing over it."""
    if backend != "postgresql":
        pytest.skip("SQLite writers take turns: entry numbers are the commit order")
    await audited_activity(client, runtime)
    secret = runtime.auth.secret_key

    async with runtime.sessionmaker() as slow:
        audit.record(slow, actor=None, action="test.slow", resource_type="test")
        # The slow transaction has its entry inserted (and its transaction id) first...
        await audit._write_pending(slow)
        # ...then a quicker request's entry commits.
        async with runtime.sessionmaker() as quick:
            audit.record(quick, actor=None, action="test.quick", resource_type="test")
            await commit(quick)
        async with runtime.sessionmaker() as sealer:
            first = await seal(sealer, secret_key=secret)
            await sealer.commit()
        await slow.commit()
    assert first.sealed >= 1
    async with runtime.engine.connect() as conn:
        linked = set(
            (
                await conn.execute(
                    text("SELECT e.action FROM audit_links l JOIN audit_entries e ON e.seq = l.seq")
                )
            ).scalars()
        )
    assert "test.slow" not in linked and "test.quick" not in linked

    async with runtime.sessionmaker() as sealer:
        second = await seal(sealer, secret_key=secret)
        await sealer.commit()
    assert second.sealed == 2
    async with runtime.engine.connect() as conn:
        order = (
            await conn.execute(
                text(
                    "SELECT e.action FROM audit_links l JOIN audit_entries e ON e.seq = l.seq "
                    "ORDER BY l.position DESC LIMIT 2"
                )
            )
        ).scalars()
        assert list(order) == ["test.quick", "test.slow"]
    async with runtime.sessionmaker() as session:
        report = await verify_chain(session, secret_key=secret)
    assert report.ok and report.unsealed == 0 and report.checked == await entry_count(runtime)


async def test_a_trail_from_before_the_links_verifies_after_the_upgrade(
    database_url: str, backend: str, tmp_path: Path
) -> None:
    """An existing database's entries, chained inside themselves, stay verifiable, and the
    links carry on from their last hash; an edit among the old entries is still found."""
    if backend == "postgresql":
        url = await scratch_postgres(database_url)
    else:
        url = f"sqlite:///{tmp_path / 'legacy.db'}"
    engine = create_engine(async_database_url(url))
    try:
        await upgrade(engine, "0001")
        settings = settings_for(url, tmp_path / "data")
        key = chain_key(settings.secret_key)
        await write_pre_link_trail(engine, key, entries=5)
        await upgrade(engine, "heads")

        runtime = Runtime.build(settings)
        try:
            app = create_app(settings, runtime)
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                await audited_activity(client, runtime)
            total = await entry_count(runtime)
            async with runtime.sessionmaker() as session:
                report = await verify_chain(session, secret_key=runtime.auth.secret_key)
            assert (report.ok, report.checked, report.unsealed) == (True, total, 0)

            async with without_append_only_triggers(runtime, backend) as conn:
                await conn.execute(
                    text("UPDATE audit_entries SET outcome = 'denied' WHERE seq = 3")
                )
            async with runtime.sessionmaker() as session:
                report = await verify_chain(session, secret_key=runtime.auth.secret_key)
            assert (report.ok, report.first_bad_seq, report.checked) == (False, 3, 2)
        finally:
            await runtime.close()
    finally:
        await engine.dispose()


async def write_pre_link_trail(engine: AsyncEngine, key: bytes, *, entries: int) -> None:
    """Entries as the earlier release wrote them: numbered and chained by each request."""
    prev = GENESIS
    async with engine.begin() as conn:
        for seq in range(1, entries + 1):
            entry = AuditEntry(
                seq=seq,
                id=uuid.uuid4(),
                occurred_at=datetime(2026, 1, 1, 9, seq, tzinfo=UTC),
                action="auth.login",
                outcome="success",
                username="admin",
                role="admin",
                details={},
                prev_hash=prev,
            )
            entry.hash = entry_hash(key, entry)
            await conn.execute(
                AuditEntry.__table__.insert().values(
                    {
                        c.key: getattr(entry, c.key)
                        for c in AuditEntry.__table__.columns
                        if c.key != "xid"
                    }
                )
            )
            prev = entry.hash
        await conn.execute(
            text("INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, :seq, :hash)"),
            {"seq": entries, "hash": prev},
        )


async def scratch_postgres(url: str) -> str:
    """A new, empty database beside the test database, for a migration from an old schema."""
    name = url.rsplit("/", 1)[1] + "_legacy"
    admin = create_async_engine(async_database_url(url), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return url.rsplit("/", 1)[0] + "/" + name
