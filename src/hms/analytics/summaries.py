"""The per-patient analytics summary, kept up to date on write.

Every service that changes one of its inputs (a patient's record, its coverage, the coded
diagnoses of its encounters) calls `refresh_patient` in the same transaction, after its own
flush; the row is then worked out again from the stored records, so that a correction (an
encounter entered in error, a condition removed from the list) is reflected as surely as an
addition. `summary_rows` is the one definition, used by that refresh, by the migration that
creates the table and by the bulk loader.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, exists, false, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from hms.analytics.conditions import CONDITIONS, conditions_text
from hms.analytics.models import PatientSummary
from hms.billing.models import Coverage
from hms.clinical.models import Diagnosis
from hms.patients.models import Patient

COLUMNS = [column.name for column in PatientSummary.__table__.columns]


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


async def refresh_patient(session: AsyncSession, patient_id: uuid.UUID) -> None:
    """Works the patient's summary out again, within the caller's transaction."""
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


async def fill(connection: AsyncConnection) -> None:
    """Writes the summary of every patient that has none yet (the bulk loader's last step)."""
    missing = ~exists().where(PatientSummary.patient_id == Patient.id)
    await connection.execute(
        insert(PatientSummary).from_select(COLUMNS, summary_rows().where(missing))
    )


def _one(column: Any, patient_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    return [] if patient_id is None else [column == patient_id]
