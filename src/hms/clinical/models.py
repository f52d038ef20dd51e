from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hms.db import Base, JSONType, TimestampedMixin, UTCDateTime


class Encounter(TimestampedMixin, Base):
    """The clinical note as the clinician wrote it (the API document's shape)."""

    __tablename__ = "encounters"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    provider_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("providers.id"), index=True)
    encounter_type: Mapped[str] = mapped_column(String(50))
    encounter_date: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str | None] = mapped_column(String(200))
    chief_complaint: Mapped[str | None] = mapped_column(Text)
    history_of_present_illness: Mapped[str | None] = mapped_column(Text)
    review_of_systems: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    physical_examination: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    assessment: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    plan: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    diagnoses: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_encounters_patient_date", "patient_id", "encounter_date"),
        # Analytics' visits: notes not entered in error, by date (migration 0008).
        Index(
            "ix_encounters_date_patient",
            "encounter_date",
            "patient_id",
            postgresql_where=text("status <> 'entered_in_error'"),
            sqlite_where=text("status <> 'entered_in_error'"),
        ),
    )


class EncounterVersion(Base):
    """Every version an encounter has had, the current one included: nothing written is lost."""

    __tablename__ = "encounter_versions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    # created, updated (a draft edited), amended (a signed note changed), entered_in_error
    change: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    fields: Mapped[list[str]] = mapped_column(JSONType, default=list)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType)
    changed_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    changed_by_username: Mapped[str | None] = mapped_column(String(150))
    changed_by_role: Mapped[str | None] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # One row per version: two writers can never both record version N.
    __table_args__ = (UniqueConstraint("encounter_id", "version"),)


class VitalSignsReading(Base):
    """The numbers of an encounter's vital signs, for queries that should not parse notes."""

    __tablename__ = "vital_signs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    systolic: Mapped[int | None] = mapped_column(Integer)
    diastolic: Mapped[int | None] = mapped_column(Integer)
    heart_rate: Mapped[int | None] = mapped_column(Integer)
    respiratory_rate: Mapped[int | None] = mapped_column(Integer)
    temperature_c: Mapped[float | None] = mapped_column(Float)
    oxygen_saturation: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        Index("ix_vital_signs_patient_recorded", "patient_id", "recorded_at"),
        Index("ix_vital_signs_recorded_at", "recorded_at", "patient_id", "systolic", "diastolic"),
    )


class Diagnosis(Base):
    """An encounter's coded diagnoses, one row each (codes in dotted form, `E11.9`), so that
    ranges compare as text: `code >= 'I10' AND code < 'I17'` is I10-I16."""

    __tablename__ = "diagnoses"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(10), index=True)
    description: Mapped[str | None] = mapped_column(String(500))
    type: Mapped[str | None] = mapped_column(String(50))
    confirmed: Mapped[bool] = mapped_column(Boolean)
    encounter_date: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_diagnoses_patient_date", "patient_id", "encounter_date"),
        Index("ix_diagnoses_code_patient", "code", "patient_id", "encounter_date"),
    )
