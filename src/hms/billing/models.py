from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hms.db import Base, JSONType, TimestampedMixin, UTCDateTime, utcnow

# Exact to the cent on both databases; up to 9,999,999,999.99.
MONEY = Numeric(12, 2, asdecimal=True)
CHARGE_STATUSES = ("pending", "billed", "paid", "voided")
CLAIM_STATUSES = ("submitted", "accepted", "rejected", "paid")
COVERAGE_TYPES = ("private", "medicare", "medicaid", "self_pay")


class Charge(TimestampedMixin, Base):
    __tablename__ = "charges"

    charge_number: Mapped[str] = mapped_column(String(16), unique=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("encounters.id"), index=True)
    charge_date: Mapped[datetime] = mapped_column(UTCDateTime)
    charge_code: Mapped[str] = mapped_column(String(5))
    description: Mapped[str | None] = mapped_column(String(500))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    total_amount: Mapped[Decimal] = mapped_column(MONEY)
    insurance_amount: Mapped[Decimal] = mapped_column(MONEY)
    patient_amount: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(16))
    billing_provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"))
    diagnosis_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    modifiers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    void_reason: Mapped[str | None] = mapped_column(String(500))
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'billed', 'paid', 'voided')", name="status"),
        CheckConstraint(
            "unit_price >= 0 AND insurance_amount >= 0 AND patient_amount >= 0", name="positive"
        ),
        Index(
            "ix_charges_charge_date",
            "charge_date",
            "status",
            "total_amount",
            "insurance_amount",
            "patient_amount",
        ),
        Index(
            "ix_charges_code_date",
            "charge_code",
            "charge_date",
            "status",
            "patient_id",
            "encounter_id",
        ),
    )


class Claim(TimestampedMixin, Base):
    __tablename__ = "claims"

    claim_number: Mapped[str] = mapped_column(String(16), unique=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    insurance_provider: Mapped[str] = mapped_column(String(200))
    policy_number: Mapped[str] = mapped_column(String(64))
    group_number: Mapped[str | None] = mapped_column(String(64))
    charge_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    total_amount: Mapped[Decimal] = mapped_column(MONEY)
    patient_responsibility: Mapped[Decimal] = mapped_column(MONEY)
    submission_method: Mapped[str] = mapped_column(String(16))
    diagnoses: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    insurance_paid: Mapped[Decimal | None] = mapped_column(MONEY)
    patient_paid: Mapped[Decimal | None] = mapped_column(MONEY)
    adjustments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    adjustment_total: Mapped[Decimal | None] = mapped_column(MONEY)
    resubmission_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("claims.id"))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("status IN ('submitted', 'accepted', 'rejected', 'paid')", name="status"),
    )


class ClaimCharge(Base):
    """A charge on a claim. `active` is true while the claim is not rejected: the partial unique
    index lets a charge sit on any number of rejected claims but on one live claim only, and the
    database decides it, so concurrent submissions cannot both take a charge."""

    __tablename__ = "claim_charges"

    claim_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("claims.id"), primary_key=True)
    charge_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charges.id"), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        Index(
            "uq_claim_charges_live_charge",
            "charge_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )


class Coverage(Base):
    """A patient's insurance: one row per patient."""

    __tablename__ = "patient_coverage"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    coverage_type: Mapped[str] = mapped_column(String(16), index=True)
    payer: Mapped[str | None] = mapped_column(String(200))
    policy_number: Mapped[str | None] = mapped_column(String(64))
    group_number: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(
            "coverage_type IN ('private', 'medicare', 'medicaid', 'self_pay')", name="type"
        ),
    )


class Payment(Base):
    """Money the patient paid towards its account."""

    __tablename__ = "patient_payments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    method: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str | None] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("amount > 0", name="positive"),)
