from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hms.db import Base, JSONType, TimestampedMixin, UTCDateTime


class LabOrder(TimestampedMixin, Base):
    """An order as the clinician placed it; each entry of `tests` carries its own status."""

    __tablename__ = "lab_orders"

    order_number: Mapped[str] = mapped_column(String(20), unique=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"), index=True)
    ordering_location: Mapped[str | None] = mapped_column(String(200))
    priority: Mapped[str] = mapped_column(String(10))
    clinical_information: Mapped[str | None] = mapped_column(Text)
    tests: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    diagnoses: Mapped[list[str]] = mapped_column(JSONType, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), index=True)
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    collection_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    pathologist_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("providers.id"))
    result_notes: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_lab_orders_patient_ordered", "patient_id", "ordered_at"),)


class LabResult(Base):
    """One component's current result, a row each, so analytics query values without JSON.
    Earlier values of a corrected result stay in `previous`, oldest first."""

    __tablename__ = "lab_results"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lab_orders.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    test_code: Mapped[str] = mapped_column(String(20))
    component: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    loinc_code: Mapped[str | None] = mapped_column(String(20))
    result: Mapped[str] = mapped_column(String(100))
    value_numeric: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(30))
    reference_range: Mapped[str | None] = mapped_column(String(100))
    flag: Mapped[str | None] = mapped_column(String(2))
    # preliminary, final, corrected
    status: Mapped[str] = mapped_column(String(20))
    resulted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resulted_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    resulted_by_username: Mapped[str | None] = mapped_column(String(150))
    previous: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)

    __table_args__ = (
        UniqueConstraint("order_id", "test_code", "component"),
        Index("ix_lab_results_patient_loinc", "patient_id", "loinc_code", "resulted_at"),
        Index("ix_lab_results_patient_component", "patient_id", "component", "resulted_at"),
        Index(
            "ix_lab_results_loinc_resulted",
            "loinc_code",
            "resulted_at",
            "patient_id",
            "value_numeric",
        ),
    )
