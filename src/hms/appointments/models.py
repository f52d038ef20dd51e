from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hms.db import Base, JSONType, TimestampedMixin, UTCDateTime, utcnow

STATUSES = ("scheduled", "checked_in", "completed", "cancelled", "no_show")
# Appointments in these states hold their time; the others free it for another booking.
# The overlap guards in the migration (exclusion constraints, SQLite triggers) use the same list.
FREEING_STATUSES = ("cancelled", "no_show")


class Appointment(TimestampedMixin, Base):
    __tablename__ = "appointments"

    appointment_number: Mapped[str] = mapped_column(String(16), unique=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"))
    appointment_type: Mapped[str] = mapped_column(String(50))
    start_datetime: Mapped[datetime] = mapped_column(UTCDateTime)
    end_datetime: Mapped[datetime] = mapped_column(UTCDateTime)
    duration: Mapped[int] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    reminder_method: Mapped[list[str]] = mapped_column(JSONType, default=list)
    telehealth: Mapped[bool] = mapped_column(Boolean, default=False)
    cancellation_reason: Mapped[str | None] = mapped_column(String(500))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("end_datetime > start_datetime", name="ends_after_start"),
        CheckConstraint(
            "status IN ('scheduled', 'checked_in', 'completed', 'cancelled', 'no_show')",
            name="status",
        ),
        Index("ix_appointments_provider_start", "provider_id", "start_datetime"),
        Index("ix_appointments_patient_start", "patient_id", "start_datetime"),
        Index("ix_appointments_start", "start_datetime"),
    )


class ProviderWorkingHours(Base):
    """A provider's weekly template: intervals per weekday, in the provider's own time zone."""

    __tablename__ = "provider_working_hours"

    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"), primary_key=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    # [{"weekday": "monday", "start_time": "09:00", "end_time": "17:00"}, ...]
    hours: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


class ProviderDayOff(Base):
    __tablename__ = "provider_days_off"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("provider_id", "day"),)
