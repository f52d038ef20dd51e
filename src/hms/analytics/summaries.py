"""The analytics summaries (a row per patient, a row per visit), kept up to date on write.

Every service that changes one of their inputs (a patient's record, its coverage, its
encounters with their coded diagnoses and vital signs) calls `refresh_patient` in the same
transaction, after its own flush; the patient's rows are then worked out again from the stored
records, so that a correction (an encounter entered in error, a condition removed from the list)
is reflected as surely as an addition. `summary_rows` and `visit_rows` are the one definition,
used by that refresh, by the migration that creates the tables and by the bulk loader.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, delete, exists, false, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from hms.analytics.conditions import CONDITIONS, conditions_text
from hms.analytics.models import PatientSummary, VisitSummary
from hms.billing.models import Coverage
from hms.clinical.models import Diagnosis, Encounter, VitalSignsReading
from hms.db import UTCDateTime
from hms.patients.models import Patient

COLUMNS = [column.name for column in PatientSummary.__table__.columns]
VISIT_COLUMNS = [column.name for column in VisitSummary.__table__.columns]


def summary_rows(patient_id: uuid.UUID | None = None) -> Select[Any]:
    """The summary rows of every patient, or of one, in the order of `COLUMNS`."""
    first_coded = select(
        Diagnosis.patient_id,
        *(
            func.min(Diagnosis.encounter_date).filter(condition.coded()).label(condition.key)
            for condition in CONDITIONS
        ),
    ).where(*_one(Diagnosis.patient_id, patient_id))
    coded = first_coded.group_by(Diagnosis.patient_id).subquery()
    text = conditions_text()
    values: dict[str, Any] = {
        "patient_id": Patient.id,
        "created_at": Patient.created_at,
        "is_active": Patient.is_active,
        "date_of_birth": Patient.date_of_birth,
        "gender": Patient.gender,
        "coverage_type": Coverage.coverage_type,
    }
    for condition in CONDITIONS:
        values[f"{condition.key}_written"] = func.coalesce(condition.written(text), false())
        values[f"{condition.key}_coded_since"] = coded.c[condition.key]
    return (
        select(*(values[name] for name in COLUMNS))
        .select_from(Patient)
        .outerjoin(Coverage, Coverage.patient_id == Patient.id)
        .outerjoin(coded, coded.c.patient_id == Patient.id)
        .where(*_one(Patient.id, patient_id))
    )


def visit_rows(patient_id: uuid.UUID | None = None) -> Select[Any]:
    """The visit rows of every patient, or of one, in the order of `VISIT_COLUMNS`; they read
    the patient's summary, which must be up to date."""
    v = VitalSignsReading
    readings = (
        select(
            v.encounter_id,
            v.systolic,
            v.diastolic,
            func.lead(v.recorded_at, type_=UTCDateTime)
            .over(
                partition_by=v.patient_id,
                order_by=(v.recorded_at, v.systolic.desc(), v.diastolic.desc(), v.id),
            )
            .label("next_reading_at"),
        )
        .where(v.systolic.is_not(None), v.diastolic.is_not(None), *_one(v.patient_id, patient_id))
        .subquery()
    )
    e, p = Encounter, PatientSummary
    values: dict[str, Any] = {
        "encounter_id": e.id,
        "patient_id": e.patient_id,
        "visit_at": e.encounter_date,
        "previous_visit_at": func.lag(e.encounter_date, type_=UTCDateTime).over(
            partition_by=e.patient_id, order_by=(e.encounter_date, e.id)
        ),
        "systolic": readings.c.systolic,
        "diastolic": readings.c.diastolic,
        "next_reading_at": readings.c.next_reading_at,
        "date_of_birth": p.date_of_birth,
    }
    for condition in CONDITIONS:
        for part in ("written", "coded_since"):
            values[f"{condition.key}_{part}"] = getattr(p, f"{condition.key}_{part}")
    return (
        select(*(values[name] for name in VISIT_COLUMNS))
        .select_from(e)
        .join(p, p.patient_id == e.patient_id)
        .outerjoin(readings, readings.c.encounter_id == e.id)
        .where(e.status != "entered_in_error", *_one(e.patient_id, patient_id))
    )


async def refresh_patient(session: AsyncSession, patient_id: uuid.UUID) -> None:
    """Works the patient's summary and visits out again, within the caller's transaction."""
    # Writers of one patient take turns from here on (PostgreSQL; SQLite has one writer at a
    # time anyway), and each reads what the previous one committed.
    await session.execute(select(Patient.id).where(Patient.id == patient_id).with_for_update())
    dialect = session.get_bind().dialect.name
    upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(PatientSummary)
    statement = upsert.from_select(COLUMNS, summary_rows(patient_id))
    statement = statement.on_conflict_do_update(
        index_elements=["patient_id"],
        set_={name: statement.excluded[name] for name in COLUMNS if name != "patient_id"},
    )
    await session.execute(statement)
    await session.execute(delete(VisitSummary).where(VisitSummary.patient_id == patient_id))
    await session.execute(insert(VisitSummary).from_select(VISIT_COLUMNS, visit_rows(patient_id)))


async def fill(connection: AsyncConnection) -> None:
    """Writes the summaries of the patients added behind the services' back (the bulk loader's
    last step): those without a summary, and those with a visit not summarised yet."""
    missing = ~exists().where(PatientSummary.patient_id == Patient.id)
    await connection.execute(
        insert(PatientSummary).from_select(COLUMNS, summary_rows().where(missing))
    )
    new = aliased(Encounter)
    unsummarised = select(new.patient_id).where(
        new.status != "entered_in_error", ~exists().where(VisitSummary.encounter_id == new.id)
    )
    await connection.execute(delete(VisitSummary).where(VisitSummary.patient_id.in_(unsummarised)))
    await connection.execute(
        insert(VisitSummary).from_select(
            VISIT_COLUMNS, visit_rows().where(Encounter.patient_id.in_(unsummarised))
        )
    )


def _one(column: Any, patient_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    return [] if patient_id is None else [column == patient_id]
