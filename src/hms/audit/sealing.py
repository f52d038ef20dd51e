"""Linking committed audit entries into the chain, and checking the whole trail.

Requests only insert their entries, each signed with the server's key (`hms.audit.chain`).
The sealer, a task in every server process, links them into the chain about once a second,
in one transaction per batch: it locks the chain's head row, takes the entries after the last
one it sealed, checks each entry's signature, appends a link per entry and moves the head.
Only sealers wait for the head row (several processes take turns; one that finds it busy
skips its turn), so requests never queue on it.

On PostgreSQL, concurrent requests commit in an order their entry numbers do not follow: the
sealer orders entries by the transaction that wrote them and takes only transactions that have
ended (older than the oldest one still running), so an entry that commits late is not passed
over. On SQLite writers take turns, so entry numbers are the commit order.

An entry whose signature does not match stops the sealer at that entry (it is logged, and
`hms audit verify` names it): nothing after a forged or edited entry is sealed as genuine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from sqlalchemy import insert, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hms.audit.chain import GENESIS, UNCHAINED, chain_key, entry_hash, link_hash
from hms.audit.models import AuditChainHead, AuditEntry, AuditLink

log = logging.getLogger("hms.audit")
# A batch is read and its signatures checked between two awaits, so its size bounds how long
# the requests of the sealer's process wait behind it: 2,000 entries held the event loop for
# about 60 ms, 250 for under 10.
BATCH = 250
INTERVAL = 1.0
# Plain rows: ORM objects for a batch cost more than checking its signatures.
_ENTRIES = AuditEntry.__table__

# The oldest transaction still running in this database (its 32-bit id widened to the 64-bit
# ids entries record, by the statement snapshot's xmax), or that xmax when none is: every
# entry of an older transaction has committed or never will. Transactions of other databases
# on the same server, and the server's own (autovacuum's ANALYZE takes a transaction id), are
# left out: they write no audit entries, and must not hold the sealer back.
HORIZON = text(
    """
    WITH snap AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax)
    SELECT least(
        snap.xmax,
        (SELECT min(snap.xmax - (snap.xmax % 4294967296 - a.backend_xid::text::bigint
                                 + 4294967296) % 4294967296)
         FROM pg_stat_activity a
         WHERE a.datname = current_database() AND a.backend_xid IS NOT NULL
           AND a.backend_type = 'client backend')
    )
    FROM snap
    """
)


@dataclass(frozen=True)
class SealReport:
    sealed: int
    # The entry the sealer stopped at because its signature does not match, if any.
    refused_seq: int | None = None
    # Another process held the head row: nothing was done this turn.
    busy: bool = False


async def seal(session: AsyncSession, *, secret_key: str, batch: int = BATCH) -> SealReport:
    """Link every entry committed so far (in batches); the caller commits."""
    key = chain_key(secret_key)
    head = (
        await session.execute(
            select(
                AuditChainHead.position,
                AuditChainHead.hash,
                AuditChainHead.sealed_xid,
                AuditChainHead.sealed_seq,
            )
            .where(AuditChainHead.id == 1)
            .with_for_update(skip_locked=True)
        )
    ).first()
    if head is None:
        return SealReport(0, busy=True)
    position, last_hash, sealed_xid, sealed_seq = head
    horizon = None
    if session.get_bind().dialect.name == "postgresql":
        horizon = (await session.execute(HORIZON)).scalar_one()
    sealed, refused = 0, None
    while refused is None:
        stmt = (
            select(_ENTRIES)
            .where(tuple_(AuditEntry.xid, AuditEntry.seq) > tuple_(sealed_xid, sealed_seq))
            .order_by(AuditEntry.xid, AuditEntry.seq)
            .limit(batch)
        )
        if horizon is not None:
            stmt = stmt.where(AuditEntry.xid < horizon)
        entries = (await session.execute(stmt)).all()
        links = []
        for entry in entries:
            if entry.prev_hash != UNCHAINED or entry_hash(key, entry) != entry.hash:
                refused = entry.seq
                break
            position += 1
            link = link_hash(key, last_hash, entry.seq, entry.hash)
            links.append(
                {"position": position, "seq": entry.seq, "prev_hash": last_hash, "hash": link}
            )
            last_hash, sealed_xid, sealed_seq = link, entry.xid, entry.seq
        if links:
            await session.execute(insert(AuditLink), links)
            sealed += len(links)
        if len(entries) < batch:
            break
    if sealed:
        await session.execute(
            update(AuditChainHead)
            .where(AuditChainHead.id == 1)
            .values(position=position, hash=last_hash, sealed_xid=sealed_xid, sealed_seq=sealed_seq)
        )
    return SealReport(sealed, refused_seq=refused)


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    ok: bool
    first_bad_seq: int | None = None
    problem: str | None = None
    # Entries whose signature holds but which are not linked yet (their transaction was still
    # running when the sealer last ran).
    unsealed: int = 0


async def verify_chain(
    session: AsyncSession, *, secret_key: str, batch: int = 5000
) -> VerifyReport:
    """Seal what has committed, then recompute the whole trail: the entries chained before the
    links existed, every link and its entry, and the entries not linked yet."""
    sealing = await seal(session, secret_key=secret_key)
    await session.commit()
    if sealing.busy:
        # Another process is sealing: wait for its turn to end, then read the chain whole.
        await session.execute(select(AuditChainHead.id).with_for_update())
    key = chain_key(secret_key)
    head = (await session.execute(select(AuditChainHead))).scalar_one()
    checked = 0

    # Entries chained inside themselves, numbered 1 to head.seq.
    prev, last_seq = GENESIS, 0
    while last_seq < head.seq:
        entries = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(AuditEntry.seq > last_seq, AuditEntry.seq <= head.seq)
                    .order_by(AuditEntry.seq)
                    .limit(batch)
                )
            )
            .scalars()
            .all()
        )
        if not entries:
            return VerifyReport(checked, False, last_seq + 1, "entries removed from the end")
        for entry in entries:
            if entry.seq != last_seq + 1:
                return VerifyReport(checked, False, last_seq + 1, "entry missing")
            if entry.prev_hash != prev:
                return VerifyReport(checked, False, entry.seq, "link to previous entry broken")
            if entry_hash(key, entry) != entry.hash:
                return VerifyReport(checked, False, entry.seq, "content does not match its hash")
            prev, last_seq = entry.hash, entry.seq
            checked += 1
        session.expunge_all()

    # The links, in order, each with its entry.
    position = 0
    while True:
        rows = (
            await session.execute(
                select(AuditLink, AuditEntry)
                .outerjoin(AuditEntry, AuditEntry.seq == AuditLink.seq)
                .where(AuditLink.position > position)
                .order_by(AuditLink.position)
                .limit(batch)
            )
        ).all()
        if not rows:
            break
        for link, entry in rows:
            if link.position != position + 1:
                return VerifyReport(checked, False, link.seq, "link missing before this entry")
            if entry is None:
                return VerifyReport(checked, False, link.seq, "entry missing")
            if entry_hash(key, entry) != entry.hash:
                return VerifyReport(checked, False, entry.seq, "content does not match its hash")
            if link.prev_hash != prev or link_hash(key, prev, entry.seq, entry.hash) != link.hash:
                return VerifyReport(checked, False, entry.seq, "link to previous entry broken")
            prev, position = link.hash, link.position
            checked += 1
        session.expunge_all()
    if (head.position, head.hash) != (position, prev):
        return VerifyReport(checked, False, head.sealed_seq, "entries removed from the end")

    # What the sealer has not linked: an entry it refused, or entries still too recent.
    unsealed = 0
    after = (head.sealed_xid, head.sealed_seq)
    while True:
        entries = (
            (
                await session.execute(
                    select(AuditEntry)
                    .where(tuple_(AuditEntry.xid, AuditEntry.seq) > tuple_(*after))
                    .order_by(AuditEntry.xid, AuditEntry.seq)
                    .limit(batch)
                )
            )
            .scalars()
            .all()
        )
        if not entries:
            break
        for entry in entries:
            if entry.prev_hash != UNCHAINED or entry_hash(key, entry) != entry.hash:
                return VerifyReport(checked, False, entry.seq, "content does not match its hash")
            unsealed += 1
            checked += 1
        after = (entries[-1].xid, entries[-1].seq)
        session.expunge_all()
    return VerifyReport(checked, True, unsealed=unsealed)


class AuditSealer:
    """The sealing loop of one server process."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], secret_key: str) -> None:
        self._sessionmaker = sessionmaker
        self._secret_key = secret_key
        self._task: asyncio.Task[None] | None = None
        self._refused: int | None = None

    def launch(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="hms-audit-sealer")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(INTERVAL)
            try:
                async with self._sessionmaker() as session:
                    report = await seal(session, secret_key=self._secret_key)
                    await session.commit()
            except Exception:  # a database restart: try again next turn
                log.warning("audit sealing failed; retrying", exc_info=True)
                continue
            if report.refused_seq is not None and report.refused_seq != self._refused:
                log.error(
                    "audit entry %s does not carry this server's signature: sealing stopped "
                    "there (run `hms audit verify`)",
                    report.refused_seq,
                )
            self._refused = report.refused_seq
