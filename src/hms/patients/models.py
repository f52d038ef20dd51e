from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Boolean, Date, FetchedValue, ForeignKey, Index, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from hms.db import Base, JSONType, TimestampedMixin


class Patient(TimestampedMixin, Base):
    __tablename__ = "patients"

    # FetchedValue: no default in the schema, but the INSERT may draw the number itself
    # (`numbering.number_for_insert`) and returns it.
    patient_number: Mapped[str] = mapped_column(
        String(16), unique=True, server_default=FetchedValue()
    )
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(1))
    contact_number: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    emergency_contact: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    blood_type: Mapped[str | None] = mapped_column(String(3))
    allergies: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    medical_conditions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    current_medications: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A confidential record: see hms.access.scoping for who still reaches it.
    restricted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    version: Mapped[int] = mapped_column(Integer)

    # Normalised copies for search: lower case, accents removed; the phone's digits reversed,
    # so that a number typed without its country code is a prefix range on an ordinary index.
    search_name: Mapped[str] = mapped_column(String(210))
    # Each name word with its letters sorted (" hjno eod "): finds swapped-letter typos.
    search_keys: Mapped[str] = mapped_column(String(220))
    email_normalized: Mapped[str | None] = mapped_column(String(254), index=True)
    phone_digits_reversed: Mapped[str | None] = mapped_column(String(32), index=True)

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}
    __table_args__ = (
        Index("ix_patients_last_first", "last_name", "first_name"),
        Index("ix_patients_created_at", "created_at"),
        # The few confidential records, which every staff query leaves out: read from this
        # small index rather than by scanning the register.
        Index(
            "ix_patients_restricted",
            "id",
            postgresql_where=text("restricted"),
            sqlite_where=text("restricted"),
        ),
    )


# Byte order ("C" collation) on PostgreSQL, as SQLite's default: a word prefix is an index range.
WordType = String(210, collation="C").with_variant(String(210), "sqlite")


class PatientNameWord(Base):
    """Each distinct word of a patient's normalised name: search intersects their prefix ranges."""

    __tablename__ = "patient_name_words"

    word: Mapped[str] = mapped_column(WordType, primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), primary_key=True)

    __table_args__ = (Index("ix_patient_name_words_patient_word", "patient_id", "word"),)


class NameVocabulary(Base):
    """Every name word ever indexed, with its letters sorted: typo matching runs over these few
    thousand words instead of a million names. Words are never removed (an unused one matches
    no patient)."""

    __tablename__ = "name_vocabulary"

    word: Mapped[str] = mapped_column(WordType, primary_key=True)
    letter_key: Mapped[str] = mapped_column(WordType, index=True)
