"""Recording and reading the audit trail.

Entries collect on the session while a request works and are chained and inserted just before
it commits, so they share its transaction: an audited write and its audit row land together.
Failures (denials, failed logins) are written by `record_now` in a transaction of their own,
since the request's transaction is rolled back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hms.audit.chain import GENESIS, chain_key, entry_hash
from hms.audit.models import AuditChainHead, AuditEntry
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
    entry = AuditEntry(
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


async def _write_pending(session: AsyncSession) -> None:
    pending: list[AuditEntry] = session.info.pop("audit_pending", [])
    if not pending:
        return
    key = chain_key(session.info["secret_key"])
    # The head row is locked until the commit: the time between this read and the commit is
    # what every audited request waits for, so it holds three plain statements and no more.
    head = (
        await session.execute(
            select(AuditChainHead.seq, AuditChainHead.hash)
            .where(AuditChainHead.id == 1)
            .with_for_update()
        )
    ).first()
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
    for entry in pending:
        seq += 1
        entry.seq = seq
        entry.prev_hash = prev
        entry.hash = prev = entry_hash(key, entry, prev)
    # A bulk insert of plain rows: none of the unit of work's per-object bookkeeping.
    await session.execute(insert(AuditEntry), [_row(entry) for entry in pending])
    if head is None:
        await session.execute(insert(AuditChainHead).values(id=1, seq=seq, hash=prev))
    else:
        await session.execute(
            update(AuditChainHead).where(AuditChainHead.id == 1).values(seq=seq, hash=prev)
        )


_COLUMNS = tuple(column.key for column in AuditEntry.__table__.columns)


def _row(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in _COLUMNS}


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


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    ok: bool
    first_bad_seq: int | None = None
    problem: str | None = None


async def verify_chain(
    session: AsyncSession, *, secret_key: str, batch: int = 5000
) -> VerifyReport:
    """Walk the whole chain in order and recompute every link."""
    key = chain_key(secret_key)
    prev, expected_seq, checked = GENESIS, 1, 0
    last_seq = 0
    while True:
        rows = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(AuditEntry.seq > last_seq)
                    .order_by(AuditEntry.seq)
                    .limit(batch)
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for entry in rows:
            if entry.seq != expected_seq:
                return VerifyReport(checked, False, expected_seq, "entry missing")
            if entry.prev_hash != prev:
                return VerifyReport(checked, False, entry.seq, "link to previous entry broken")
            if entry_hash(key, entry, prev) != entry.hash:
                return VerifyReport(checked, False, entry.seq, "content does not match its hash")
            prev, expected_seq, last_seq = entry.hash, expected_seq + 1, entry.seq
            checked += 1
        session.expunge_all()
    head = (await session.execute(select(AuditChainHead))).scalar_one_or_none()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != last_seq or head_hash != prev:
        return VerifyReport(checked, False, last_seq + 1, "entries removed from the end")
    return VerifyReport(checked, True)
