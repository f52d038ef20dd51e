"""What analytics keep per patient, so that a request counts narrow rows instead of reading
every patient's record, coverage and coded diagnoses (see `hms.analytics.summaries`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hms.db import Base, UTCDateTime


class PatientSummary(Base):
    """One row per patient: the register's fields, the coverage type, and for each condition
    whether the medical conditions text names it and the date of its first coded diagnosis."""

    __tablename__ = "analytics_patients"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(Boolean)
    date_of_birth: Mapped[date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(1))
    coverage_type: Mapped[str | None] = mapped_column(String(16))
    hypertension_written: Mapped[bool] = mapped_column(Boolean)
    hypertension_coded_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    diabetes_written: Mapped[bool] = mapped_column(Boolean)
    diabetes_coded_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    colorectal_cancer_written: Mapped[bool] = mapped_column(Boolean)
    colorectal_cancer_coded_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_analytics_patients_created_at", "created_at"),)


class VisitSummary(Base):
    """One row per visit (an encounter not entered in error), carrying what the measures ask
    of it, so that a period's figures come from one scan of its visits, without grouping them
    by patient or joining the register:

    - `previous_visit_at`, the patient's visit before this one: the patient's first visit in a
      period is the one whose previous visit is before the period (or none), so counting those
      counts the patients seen;
    - the blood pressure taken at the visit, and `next_reading_at`, when the patient's next
      blood pressure was taken (readings ordered by time, then highest systolic and diastolic
      first): a reading is the latest of a period when the next one is after it (or none);
    - the patient's birth date and conditions, as in its `PatientSummary`.
    """

    __tablename__ = "analytics_visits"

    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id"), primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    visit_at: Mapped[datetime] = mapped_column(UTCDateTime)
    previous_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    systolic: Mapped[int | None] = mapped_column(Integer)
    diastolic: Mapped[int | None] = mapped_column(Integer)
    next_reading_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    date_of_birth: Mapped[date] = mapped_column(Date)
    hypertension_written: Mapped[bool] = mapped_column(Boolean)
    hypertension_coded_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    diabetes_written: Mapped[bool] = mapped_column(Boolean)
    diabetes_coded_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    colorectal_cancer_written: Mapped[bool] = mapped_column(Boolean)
    colorectal_cancer_coded_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Visits and patients seen are counted from this index alone.
    __table_args__ = (Index("ix_analytics_visits_visit_at", "visit_at", "previous_visit_at"),)


class RevenueDay(Base):
    """The revenue of one UTC day: the charges dated that day and not voided, summed as whole
    cents (as analytics sum them)."""

    __tablename__ = "analytics_revenue_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    insurance_cents: Mapped[int] = mapped_column(BigInteger)
    patient_cents: Mapped[int] = mapped_column(BigInteger)
