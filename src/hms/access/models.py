from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hms.db import Base, TimestampedMixin, UTCDateTime


class EmergencyAccessGrant(TimestampedMixin, Base):
    """A time-limited "break the glass" grant: one user may reach one restricted patient."""

    __tablename__ = "emergency_access_grants"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str] = mapped_column(String(150))
    role: Mapped[str] = mapped_column(String(32))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_emergency_access_grants_user_expires", "user_id", "expires_at"),)
