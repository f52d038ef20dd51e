"""A large demo hospital loaded fast: `hms demo --patients 1000000`.

Rows are built in the form the services store them (search columns by the patient service's own
`search_fields`, vital signs by the clinical parser) and written in chunks by the fastest path
each database has: COPY on PostgreSQL's raw asyncpg connection, one executemany per table on
SQLite. Record numbers are drawn from the same counters as the services, so records created
later continue after them. Bulk history writes no audit entries or events: it is not anybody's
access to patient data, and it would double the load time. Each chunk is its own transaction.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import JSON, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

import hms.models  # noqa: F401 - every table in the metadata
from hms import demo_records as records
from hms.analytics import summaries
from hms.auth.models import User
from hms.db import Base, utcnow
from hms.demo import create_staff, luhn_npi
from hms.numbering import reserve_numbers
from hms.patients import name_index
from hms.providers.models import Provider
from hms.runtime import Runtime

PATIENTS_PER_PROVIDER = 1000
SLOTS_PER_DAY = 16
SPECIALTIES = ("Family Medicine", "Internal Medicine", "Cardiology", "Endocrinology")
# Parents before children, so that foreign keys hold after every table.
TABLES = (
    "patients",
    "patient_name_words",
    "patient_coverage",
    "encounters",
    "encounter_versions",
    "vital_signs",
    "diagnoses",
    "charges",
    "prescriptions",
    "lab_orders",
    "lab_results",
    "appointments",
)
NUMBERED = {
    "patients": ("patient_number", "P"),
    "charges": ("charge_number", "CHG"),
    "prescriptions": ("prescription_number", "RX"),
    "lab_orders": ("order_number", "LAB"),
    "appointments": ("appointment_number", "APT"),
}


async def load_bulk(
    runtime: Runtime,
    *,
    patients: int,
    seed: int = 7,
    chunk: int = 10_000,
    progress: Callable[[int], None] | None = None,
) -> str:
    """Adds `patients` patients with their histories on every run (the staff only once)."""
    async with runtime.sessionmaker() as session:
        staff = (await session.execute(select(User.id).where(User.username == "admin"))).first()
    if not staff:
        await create_staff(runtime)
    providers = await _add_providers(runtime, max(2, patients // PATIENTS_PER_PROVIDER))
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    plan = Plan(rng=rng, names=records.NamePool.build(), providers=providers)
    totals: dict[str, int] = {}
    done = 0
    writing: asyncio.Task[None] | None = None
    while done < patients:
        size = min(chunk, patients - done)
        # The next chunk is built while the database stores the previous one.
        history = await asyncio.to_thread(plan.chunk, size)
        await _number(runtime, history)
        if writing is not None:
            await writing
        writing = asyncio.create_task(write(runtime.engine, history.rows))
        for table, rows in history.rows.items():
            totals[table] = totals.get(table, 0) + len(rows)
        done += size
        if progress:
            progress(done)
    if writing is not None:
        await writing
    async with runtime.engine.begin() as conn:
        await summaries.fill(conn)
        await name_index.add_vocabulary(conn, plan.words)
    if runtime.engine.dialect.name == "postgresql":
        # Statistics for the planner, and the visibility map that lets index-only scans (the
        # analytics' period scans) skip the table: outside a transaction, as VACUUM must be.
        async with runtime.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM (ANALYZE)"))
    return f"bulk demo loaded: {', '.join(f'{n} {t}' for t, n in totals.items())}"


async def _number(runtime: Runtime, history: records.History) -> None:
    """Record numbers from the services' own counters, drawn a whole table at a time."""
    async with runtime.sessionmaker() as session:
        for table, (column, prefix) in NUMBERED.items():
            rows = history.rows.get(table, [])
            numbers = await reserve_numbers(session, prefix, len(rows)) if rows else []
            for row, number in zip(rows, numbers, strict=True):
                row[column] = number
        await session.commit()


class Plan:
    """Who gets which history; appointments fill each provider's day slot by slot."""

    def __init__(
        self, *, rng: random.Random, names: records.NamePool, providers: list[uuid.UUID]
    ) -> None:
        self.rng, self.names, self.providers = rng, names, providers
        self.now = utcnow()
        self.today = self.now.date()
        self.booked = 0
        self.first_day = self.today - timedelta(days=7)
        self.words: set[str] = set()

    def chunk(self, size: int) -> records.History:
        history = records.History()
        for _ in range(size):
            self.patient(history)
        return history

    def patient(self, history: records.History) -> None:
        rng, now = self.rng, self.now
        patient = records.patient_row(rng, self.names, today=self.today, now=now)
        coverage = records.coverage_row(rng, patient)
        history.add("patients", patient)
        for row in name_index.name_word_rows(patient["id"], patient["search_name"]):
            history.add("patient_name_words", row)
            self.words.add(row["word"])
        history.add("patient_coverage", coverage)
        provider = self.providers[rng.randrange(len(self.providers))]
        conditions = patient["medical_conditions"]
        since = max(
            patient["created_at"],
            datetime.combine(patient["date_of_birth"], datetime.min.time(), UTC),
        )
        visits = sorted(
            _office_hour(rng, since + (now - since) * rng.random())
            for _ in range(1 + (1 if conditions else 0))
        )
        for when in visits:
            records.add_visit(
                history,
                rng,
                patient,
                provider_id=provider,
                when=when,
                charge_number="",
                coverage=coverage,
            )
            if "Diabetes Type 2" in conditions or rng.random() < 0.1:
                records.add_hba1c(history, rng, patient, provider_id=provider, number="", when=when)
        for medication in patient["current_medications"]:
            condition = next(c for c, m in MEDICATION_OF.items() if m == medication["name"])
            records.add_prescription(
                history,
                patient,
                medication,
                provider_id=provider,
                number="",
                when=visits[-1],
                codes=[records.CONDITION_CODES[condition][0]],
            )
        if rng.random() < 1 / 3:
            history.add("appointments", self.appointment(patient))

    def appointment(self, patient: dict[str, Any]) -> dict[str, Any]:
        index, self.booked = self.booked, self.booked + 1
        provider = self.providers[index % len(self.providers)]
        slot = index // len(self.providers)
        day = _weekday_after(self.first_day, slot // SLOTS_PER_DAY)
        start = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
            hours=8, minutes=30 * (slot % SLOTS_PER_DAY)
        )
        return records.appointment_row(
            patient, provider_id=provider, number="", start=start, now=self.now
        )


MEDICATION_OF = {c: m[0] for c, m in records.MEDICATIONS.items()}


def _office_hour(rng: random.Random, when: datetime) -> datetime:
    return when.replace(
        hour=rng.randint(8, 16), minute=rng.choice((0, 15, 30, 45)), second=0, microsecond=0
    )


def _weekday_after(first: date, weekdays: int) -> date:
    day = first
    while day.weekday() >= 5:
        day += timedelta(days=1)
    for _ in range(weekdays):
        day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
    return day


async def _add_providers(runtime: Runtime, count: int) -> list[uuid.UUID]:
    """New clinicians without accounts, so that a run's appointments meet no earlier booking."""
    async with runtime.sessionmaker() as session:
        existing = (await session.execute(select(func.count()).select_from(Provider))).scalar_one()
    rng = random.Random(existing)  # noqa: S311 - demo data, not secrets
    names = records.NamePool.build()
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for i in range(count):
        first, last = names.pick(rng, rng.choice("MF"))
        rows.append(
            {
                "id": uuid.uuid4(),
                "user_id": None,
                "first_name": first,
                "last_name": last,
                "specialty": SPECIALTIES[i % len(SPECIALTIES)],
                "npi": luhn_npi(f"2{existing + i:08d}"),
                "dea_number": None,
                "email": None,
                "phone": None,
                "is_active": True,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    await write(runtime.engine, {"providers": rows})
    return [row["id"] for row in rows]


async def write(engine: AsyncEngine, tables: dict[str, list[dict[str, Any]]]) -> None:
    """All the rows in one transaction, parents first."""
    order = [t for t in ("providers", *TABLES) if tables.get(t)]
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            async with raw.transaction():
                for name in order:
                    table = Base.metadata.tables[name]
                    columns = [c.name for c in table.columns]
                    await raw.copy_records_to_table(
                        name, columns=columns, records=_copy_records(table, tables[name])
                    )
        return
    async with engine.begin() as conn:
        for name in order:
            await conn.execute(Base.metadata.tables[name].insert(), tables[name])


def _copy_records(table: Table, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """COPY takes values as asyncpg encodes them: JSON as its text."""
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
    names = [c.name for c in table.columns]
    return [
        tuple(
            orjson.dumps(row[n]).decode() if n in json_columns and row[n] is not None else row[n]
            for n in names
        )
        for row in rows
    ]
