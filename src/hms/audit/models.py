from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Identity, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hms.db import Base, JSONType, UTCDateTime

# The transaction that wrote a row, on PostgreSQL (64-bit, never wraps): the sealer links only
# entries of transactions that have ended, so a late commit is never skipped (hms.audit.sealing).
CURRENT_TRANSACTION = text("(pg_current_xact_id()::text::bigint)")


class AuditEntry(Base):
    """One audited event. Rows are only ever inserted (database triggers refuse the rest).

    `hash` is the server's HMAC of the entry's content, written with it: an entry added or
    edited by someone without the key does not match. Entries written before the chain moved
    to `AuditLink` also carry their link to the previous entry in `prev_hash` (empty since)."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), Identity(), primary_key=True
    )
    id: Mapped[uuid.UUID] = mapped_column(unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    username: Mapped[str | None] = mapped_column(String(150))
    role: Mapped[str | None] = mapped_column(String(32))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    action: Mapped[str] = mapped_column(String(64), index=True)
    resource_type: Mapped[str | None] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(64), index=True)
    patient_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # 0 on SQLite, whose writers take turns, and for entries older than the sealer.
    xid: Mapped[int] = mapped_column(BigInteger, server_default=text("0"), index=True)


class AuditLink(Base):
    """The chain: the entries in the order they were sealed, each link an HMAC over the
    previous link and its entry's hash."""

    __tablename__ = "audit_links"

    position: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The chain's last link, one row: where sealing goes on from, and what proves that no
    link was removed from the end. Before the links existed, `seq`/`hash` were the last
    entry's; the migration keeps them as the links' starting point.

    `position`/`hash`: the last link (0 and the last pre-link entry's hash at first);
    `sealed_xid`/`sealed_seq`: the last entry sealed, in sealing order."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    sealed_xid: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    sealed_seq: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
