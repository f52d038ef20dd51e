"""The analytics summaries (a row per patient, a row per visit), kept up to date on write.

Every service that changes one of their inputs (a patient's record, its coverage, its
encounters with their coded diagnoses and vital signs) calls `refresh_patient` in the same
transaction, after its own flush; the patient's rows are then worked out again from the stored
records, so that a correction (an encounter entered in error, a condition removed from the list)
is reflected as surely as an addition. `summary_rows` and `visit_rows` are the one definition,
used by that refresh, by the migration that creates the tables and by the bulk loader.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Select,
    Uuid,
    and_,
    bindparam,
    cast,
    delete,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement

from hms.analytics.conditions import CONDITIONS, conditions_text
from hms.analytics.models import PatientSummary, RevenueDay, VisitSummary
from hms.billing.models import Charge, Coverage
from hms.clinical.models import Diagnosis, Encounter, VitalSignsReading
from hms.db import UTCDateTime
from hms.patients.models import Patient

COLUMNS = [column.name for column in PatientSummary.__table__.columns]
VISIT_COLUMNS = [column.name for column in VisitSummary.__table__.columns]
REVENUE_COLUMNS = [column.name for column in RevenueDay.__table__.columns]


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


async def refresh_patient(
    session: AsyncSession, patient_id: uuid.UUID, *, new: bool = False
) -> None:
    """Works the patient's summary and visits out again, within the caller's transaction.

    `new`: the patient was inserted by this transaction, so it has no visits yet and its row is
    already locked."""
    connection = await session.connection()
    statements = _refresh_statements(connection.dialect.name)
    params = {"patient_id": patient_id}
    if not new:
        # Writers of one patient take turns from here on (PostgreSQL; SQLite has one writer at
        # a time anyway), and each reads what the previous one committed.
        await connection.execute(statements.lock, params)
    await connection.execute(statements.summary, params)
    if not new:
        await connection.execute(statements.forget_visits, params)
        await connection.execute(statements.visits, params)


async def lock_patient(session: AsyncSession, patient_id: uuid.UUID) -> None:
    """Takes the lock `refresh_patient` takes, for a service that must hold it before it writes
    rows referring to the patient (the order that keeps concurrent writers from deadlocking)."""
    connection = await session.connection()
    await connection.execute(
        _refresh_statements(connection.dialect.name).lock, {"patient_id": patient_id}
    )


@dataclass(frozen=True)
class _Refresh:
    lock: Executable
    summary: Executable
    forget_visits: Executable
    visits: Executable


@functools.cache
def _refresh_statements(dialect: str) -> _Refresh:
    """The refresh of one patient, built once per dialect with the patient as a bound
    parameter: these statements are large, and they run on every clinical write."""
    patient_id: Any = bindparam("patient_id", type_=Uuid())
    upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(PatientSummary)
    summary = upsert.from_select(COLUMNS, summary_rows(patient_id))
    summary = summary.on_conflict_do_update(
        index_elements=["patient_id"],
        set_={name: summary.excluded[name] for name in COLUMNS if name != "patient_id"},
    )
    return _Refresh(
        lock=select(Patient.id).where(Patient.id == patient_id).with_for_update(key_share=True),
        summary=summary,
        forget_visits=delete(VisitSummary).where(VisitSummary.patient_id == patient_id),
        visits=insert(VisitSummary).from_select(VISIT_COLUMNS, visit_rows(patient_id)),
    )


async def fill(connection: AsyncConnection) -> None:
    """Writes the summaries of the records added behind the services' back (the bulk loader's
    last step): the patients without a summary, those with a visit not summarised yet, and the
    revenue of every day."""
    missing = ~exists().where(PatientSummary.patient_id == Patient.id)
    await connection.execute(
        insert(PatientSummary).from_select(COLUMNS, summary_rows().where(missing))
    )
    await connection.execute(delete(RevenueDay))
    await connection.execute(
        insert(RevenueDay).from_select(REVENUE_COLUMNS, revenue_day_rows(connection.dialect.name))
    )
    new = aliased(Encounter)
    unsummarised = select(new.patient_id).where(
        new.status != "entered_in_error", ~exists().where(VisitSummary.encounter_id == new.id)
    )
    await connection.execute(delete(VisitSummary).where(VisitSummary.patient_id.in_(unsummarised)))
    await connection.execute(
        insert(VisitSummary).from_select(
            VISIT_COLUMNS,
            # Stored in date order: a period's visits then lie together on disk.
            visit_rows()
            .where(Encounter.patient_id.in_(unsummarised))
            .order_by(Encounter.encounter_date),
        )
    )


def cents(column: Any) -> ColumnElement[int]:
    """An amount as whole cents: summed exactly on SQLite too, which would add decimals as
    floats."""
    return cast(func.round(column * 100), BigInteger)


def revenue_day_rows(dialect: str, days: list[date] | None = None) -> Select[Any]:
    """The revenue of every day with charges, or of the given days, in the order of
    `REVENUE_COLUMNS`."""
    if dialect == "postgresql":
        day: ColumnElement[Any] = cast(func.timezone("UTC", Charge.charge_date), Date)
    else:
        day = func.date(Charge.charge_date, type_=Date)  # stored as UTC text
    where = [Charge.status != "voided"]
    if days is not None:
        where.append(
            or_(
                *(
                    and_(Charge.charge_date >= _start(d), Charge.charge_date < _start(d, 1))
                    for d in days
                )
            )
        )
    return (
        select(
            day.label("day"),
            *(
                func.sum(cents(getattr(Charge, f"{part}_amount")))
                for part in ("total", "insurance", "patient")
            ),
        )
        .where(*where)
        .group_by(day)
    )


async def refresh_revenue(session: AsyncSession, *moments: datetime) -> None:
    """Works the revenue of the days of `moments` (charge dates) out again, within the caller's
    transaction."""
    days = sorted({moment.astimezone(UTC).date() for moment in moments})
    dialect = session.get_bind().dialect.name
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    zero = {"total_cents": 0, "insurance_cents": 0, "patient_cents": 0}
    # Charges of one day take turns on the day's row (PostgreSQL; SQLite has one writer), and
    # each sums what the previous one committed.
    await session.execute(
        insert_(RevenueDay).values([{"day": d, **zero} for d in days]).on_conflict_do_nothing()
    )
    await session.execute(select(RevenueDay.day).where(RevenueDay.day.in_(days)).with_for_update())
    sums = {row[0]: row[1:] for row in await session.execute(revenue_day_rows(dialect, days))}
    for d in days:
        found = sums.get(d, (0, 0, 0))
        values = dict(zip(REVENUE_COLUMNS[1:], (int(v or 0) for v in found), strict=True))
        await session.execute(update(RevenueDay).where(RevenueDay.day == d).values(**values))


def _start(day: date, later: int = 0) -> datetime:
    return datetime.combine(day + timedelta(days=later), time.min, UTC)


def _one(column: Any, patient_id: Any) -> list[ColumnElement[bool]]:
    return [] if patient_id is None else [column == patient_id]
