"""Recording and reading the audit trail.

Entries collect on the session while a request works and are signed and inserted just before
it commits, so they share its transaction: an audited write and its audit row land together
(`hms.audit.sealing` links them into the chain after they commit).
Failures (denials, failed logins) are written by `record_now` in a transaction of their own,
since the request's transaction is rolled back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hms.audit.chain import UNCHAINED, chain_key, entry_hash
from hms.audit.models import AuditEntry
from hms.auth.permissions import Actor, Permission
from hms.db import add_before_commit, utcnow
from hms.errors import Forbidden


@dataclass(frozen=True)
class RequestContext:
    """Where a request came from: what the audit trail records besides the actor."""

    request_id: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None


def set_request_context(session: AsyncSession, ctx: RequestContext) -> None:
    session.info["request_ctx"] = ctx


def record(
    session: AsyncSession,
    *,
    actor: Actor | None,
    action: str,
    resource_type: str | None = None,
    resource_id: Any = None,
    patient_id: uuid.UUID | None = None,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
) -> None:
    """Queue an audit entry on this unit of work; it is written when the work commits."""
    ctx: RequestContext = session.info.get("request_ctx") or RequestContext()
    if actor is not None and patient_id is not None and patient_id in actor.emergency_patients:
        # A read or write made while holding a break-the-glass grant for this patient.
        details = {**(details or {}), "emergency_access": True}
    entry = PendingEntry(
        id=uuid.uuid4(),
        occurred_at=utcnow(),
        user_id=actor.user_id if actor else None,
        username=actor.username if actor else None,
        role=str(actor.role) if actor else None,
        ip_address=ctx.ip_address,
        user_agent=(ctx.user_agent or None) and ctx.user_agent[:512],
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id) if resource_id is not None else None,
        patient_id=patient_id,
        outcome=outcome,
        request_id=ctx.request_id,
        details=details or {},
    )
    session.info.setdefault("audit_pending", []).append(entry)
    add_before_commit(session, "audit", _write_pending)


@dataclass(slots=True)
class PendingEntry:
    """An entry waiting for its unit of work to commit: the columns of `AuditEntry` that the
    request writes (the database numbers it)."""

    id: uuid.UUID
    occurred_at: datetime
    user_id: uuid.UUID | None
    username: str | None
    role: str | None
    ip_address: str | None
    user_agent: str | None
    action: str
    resource_type: str | None
    resource_id: str | None
    patient_id: uuid.UUID | None
    outcome: str
    request_id: str | None
    details: dict[str, Any]
    prev_hash: str = UNCHAINED
    hash: str = ""


_COLUMNS = tuple(field.name for field in fields(PendingEntry))
_INSERT = insert(AuditEntry)


async def _write_pending(session: AsyncSession) -> None:
    pending: list[PendingEntry] = session.info.pop("audit_pending", [])
    if not pending:
        return
    key = chain_key(session.info["secret_key"])
    for entry in pending:
        entry.hash = entry_hash(key, entry)
    # Plain rows on the session's connection, numbered by the database: nothing here waits for
    # another request (the sealer links the entries into the chain once they have committed).
    connection = await session.connection()
    await connection.execute(
        _INSERT, [{name: getattr(entry, name) for name in _COLUMNS} for entry in pending]
    )


async def record_now(
    sessionmaker: async_sessionmaker[AsyncSession],
    ctx: RequestContext,
    **entry: Any,
) -> None:
    """Write one entry in its own transaction (for outcomes whose request is rolled back)."""
    from hms.db import commit

    async with sessionmaker() as session:
        set_request_context(session, ctx)
        record(session, **entry)
        await commit(session)


@dataclass(frozen=True)
class AuditFilter:
    user_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    action: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    outcome: str | None = None
    request_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def list_entries(
    session: AsyncSession, *, actor: Actor, filters: AuditFilter, limit: int, offset: int
) -> tuple[list[AuditEntry], int]:
    """Admins read the whole trail; a patient user reads who touched its own record."""
    stmt = select(AuditEntry)
    if actor.can(Permission.AUDIT_READ):
        pass
    elif actor.can(Permission.AUDIT_READ_OWN):
        stmt = stmt.where(AuditEntry.patient_id == actor.patient_scope)
    else:
        raise Forbidden(f"Role '{actor.role}' may not read the audit log")
    for column, value in (
        (AuditEntry.user_id, filters.user_id),
        (AuditEntry.patient_id, filters.patient_id),
        (AuditEntry.action, filters.action),
        (AuditEntry.resource_type, filters.resource_type),
        (AuditEntry.resource_id, filters.resource_id),
        (AuditEntry.outcome, filters.outcome),
        (AuditEntry.request_id, filters.request_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if filters.since:
        stmt = stmt.where(AuditEntry.occurred_at >= filters.since)
    if filters.until:
        stmt = stmt.where(AuditEntry.occurred_at < filters.until)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(stmt.order_by(AuditEntry.seq.desc()).limit(limit).offset(offset))
    return list(rows.scalars().all()), total
