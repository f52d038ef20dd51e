"""The retained event log: the last events, numbered in commit order, for clients that reconnect."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from hms.db import Base, JSONType, UTCDateTime, utcnow

# SQLite only numbers rows itself for an INTEGER PRIMARY KEY.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class EventLogEntry(Base):
    __tablename__ = "event_log"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event: Mapped[dict[str, Any]] = mapped_column(JSONType)
