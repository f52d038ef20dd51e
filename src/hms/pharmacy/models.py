from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hms.db import Base, JSONType, TimestampedMixin, UTCDateTime


class Prescription(TimestampedMixin, Base):
    """A signed prescription as the prescriber wrote it; only its status moves afterwards."""

    __tablename__ = "prescriptions"

    prescription_number: Mapped[str] = mapped_column(String(16), unique=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"), index=True)
    signed_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    medication: Mapped[dict[str, Any]] = mapped_column(JSONType)
    dosage: Mapped[dict[str, Any]] = mapped_column(JSONType)
    substitutions: Mapped[str] = mapped_column(String(20))
    refills_authorized: Mapped[int] = mapped_column(Integer)
    refills_remaining: Mapped[int] = mapped_column(Integer)
    fill_count: Mapped[int] = mapped_column(Integer, default=0)
    pharmacy: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    diagnosis_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    status_reason: Mapped[str | None] = mapped_column(Text)
    date_written: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    controlled_substance: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule: Mapped[str | None] = mapped_column(String(3))
    dea_number: Mapped[str | None] = mapped_column(String(9))
    alerts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    override_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # The last guard against a refill counter going negative, whatever the code does.
        CheckConstraint("refills_remaining >= 0", name="refills_not_negative"),
        CheckConstraint(
            "refills_remaining <= refills_authorized", name="refills_within_authorized"
        ),
        Index("ix_prescriptions_patient_written", "patient_id", "date_written"),
    )


class PrescriptionFill(Base):
    """One dispensing of a prescription: the first fill, then each refill."""

    __tablename__ = "prescription_fills"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    prescription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prescriptions.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    fill_number: Mapped[int] = mapped_column(Integer)
    refill: Mapped[bool] = mapped_column(Boolean)
    quantity: Mapped[str | None] = mapped_column(String(50))
    ndc: Mapped[str | None] = mapped_column(String(13))
    notes: Mapped[str | None] = mapped_column(Text)
    dispensed_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    dispensed_by_username: Mapped[str | None] = mapped_column(String(150))
    dispensed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # Two fills can never both be fill number N of one prescription.
    __table_args__ = (UniqueConstraint("prescription_id", "fill_number"),)
