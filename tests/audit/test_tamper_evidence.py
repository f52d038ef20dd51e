"""The audit chain verifies after real activity, and `hms audit verify` (run as an operator
would, against the same database) catches an edited or a removed entry even when the attacker
first drops the append-only triggers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from hms.audit.sealing import seal, verify_chain
from hms.auth.permissions import Role
from hms.config import Settings
from hms.runtime import Runtime
from tests.cli.command import hms_env, run_hms
from tests.factories import make_patient, make_user, signed_in

PG_TRIGGER = (
    "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION hms_audit_append_only()"
)
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_entries_no_{event.lower()} BEFORE {event} ON audit_entries "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    for event in ("UPDATE", "DELETE")
]


@asynccontextmanager
async def without_append_only_triggers(
    runtime: Runtime, backend: str
) -> AsyncIterator[AsyncConnection]:
    """What an attacker with database access does: drop the triggers, tamper, put them back.
    One transaction, so the triggers are back (or never gone) whatever happens inside."""
    async with runtime.engine.begin() as conn:
        if backend == "postgresql":
            await conn.execute(text("DROP TRIGGER audit_entries_append_only ON audit_entries"))
        else:
            await conn.execute(text("DROP TRIGGER audit_entries_no_update"))
            await conn.execute(text("DROP TRIGGER audit_entries_no_delete"))
        yield conn
        for statement in [PG_TRIGGER] if backend == "postgresql" else SQLITE_TRIGGERS:
            await conn.execute(text(statement))


async def audited_activity(client: httpx.AsyncClient, runtime: Runtime) -> None:
    """Sign-ins, a registration, reads, an update and a denial: rows from several paths."""
    admin = await signed_in(client, runtime, role=Role.ADMIN)
    doctor = await signed_in(client, runtime, role=Role.DOCTOR)
    patient = await make_patient(client, admin)
    assert (
        await client.get(f"/api/v1/patients/{patient['id']}", headers=doctor)
    ).status_code == 200
    changed = await client.put(
        f"/api/v1/patients/{patient['id']}", json={"blood_type": "A+"}, headers=doctor
    )
    assert changed.status_code == 200
    assert (await client.get("/api/v1/audit", headers=doctor)).status_code == 403
    failed = await client.post("/auth/token", json={"username": "nobody", "password": "wrong!"})
    assert failed.status_code == 401


async def sealed(runtime: Runtime) -> None:
    """What a running server's sealer does within a second of the entries' commit."""
    async with runtime.sessionmaker() as session:
        await seal(session, secret_key=runtime.auth.secret_key)
        await session.commit()


async def entry_count(runtime: Runtime) -> int:
    async with runtime.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM audit_entries"))).scalar_one())


async def test_chain_verifies_after_api_activity_and_cli_agrees(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    await audited_activity(client, runtime)
    count = await entry_count(runtime)
    assert count >= 8
    async with runtime.sessionmaker() as session:
        report = await verify_chain(session, secret_key=runtime.auth.secret_key)
    assert report.ok and report.checked == count

    result = run_hms("audit", "verify", env=hms_env(tmp_path / "cli", settings))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ok: {count} audit entries verified"


async def test_verify_with_another_secret_key_fails(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """The chain is keyed: someone who rewrites every hash without the key cannot pass."""
    await audited_activity(client, runtime)
    async with runtime.sessionmaker() as session:
        report = await verify_chain(session, secret_key="some-other-key")
    assert not report.ok and report.first_bad_seq == 1


async def test_cli_names_an_edited_entry(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, backend: str, tmp_path: Path
) -> None:
    await audited_activity(client, runtime)
    target = 3
    edit = text(f"UPDATE audit_entries SET action = 'patient.list' WHERE seq = {target}")

    with pytest.raises(DBAPIError, match="append-only"):
        async with runtime.engine.begin() as conn:
            await conn.execute(edit)

    async with without_append_only_triggers(runtime, backend) as conn:
        assert (await conn.execute(edit)).rowcount == 1

    result = run_hms("audit", "verify", env=hms_env(tmp_path / "cli", settings))
    assert result.returncode == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"error: audit chain broken at entry {target}:"), lines[0]
    assert "content does not match its hash" in lines[0]

    # The triggers are back: the next tampering attempt is refused again.
    with pytest.raises(DBAPIError, match="append-only"):
        async with runtime.engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_entries WHERE seq = 1"))


async def test_cli_notices_the_last_entry_removed(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, backend: str, tmp_path: Path
) -> None:
    await audited_activity(client, runtime)
    await sealed(runtime)
    last = await entry_count(runtime)
    delete = text("DELETE FROM audit_entries WHERE seq = (SELECT max(seq) FROM audit_entries)")

    with pytest.raises(DBAPIError, match="append-only"):
        async with runtime.engine.begin() as conn:
            await conn.execute(delete)
    async with without_append_only_triggers(runtime, backend) as conn:
        await conn.execute(delete)
    assert await entry_count(runtime) == last - 1

    result = run_hms("audit", "verify", env=hms_env(tmp_path / "cli", settings))
    assert result.returncode == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"error: audit chain broken at entry {last}:"), lines[0]
    assert "entry missing" in lines[0]


async def test_forged_actor_or_missing_entry_is_found(
    client: httpx.AsyncClient, runtime: Runtime, backend: str
) -> None:
    await audited_activity(client, runtime)
    scapegoat = await make_user(runtime, role=Role.NURSE)
    # SQLite keeps UUIDs as 32 hex digits, PostgreSQL as its uuid type.
    forged = uuid.UUID(scapegoat["id"]).hex if backend == "sqlite" else scapegoat["id"]
    async with without_append_only_triggers(runtime, backend) as conn:
        await conn.execute(
            text("UPDATE audit_entries SET user_id = :forged WHERE seq = 5"), {"forged": forged}
        )
    async with runtime.sessionmaker() as session:
        report = await verify_chain(session, secret_key=runtime.auth.secret_key)
    assert (report.ok, report.first_bad_seq, report.checked) == (False, 5, 4)
    assert report.problem == "content does not match its hash"

    async with without_append_only_triggers(runtime, backend) as conn:
        await conn.execute(text("DELETE FROM audit_entries WHERE seq = 2"))
    async with runtime.sessionmaker() as session:
        report = await verify_chain(session, secret_key=runtime.auth.secret_key)
    assert (report.ok, report.first_bad_seq, report.problem) == (False, 2, "entry missing")
