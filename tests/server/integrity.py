"""What a crash may not leave behind, read straight from the database a server used: every
patient, encounter and charge row has its audit entry and its event-log row (the three are
written in one transaction, or none is), and the patient-number counter is ahead of every
number handed out."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import func, select

from hms.audit.models import AuditEntry, AuditLink
from hms.billing.models import Charge
from hms.clinical.models import Encounter
from hms.config import async_database_url
from hms.db import create_engine
from hms.numbering import counter_values
from hms.patients.models import Patient
from hms.realtime.models import EventLogEntry


def served_database(data_dir: Path, database_url: str | None) -> str:
    """The database URL `hms serve` used with this data folder and HMS_DATABASE_URL."""
    return async_database_url(database_url or f"sqlite:///{(data_dir / 'hms.db').resolve()}")


async def half_written(database_url: str) -> tuple[int, list[str]]:
    """(rows checked, problems): an empty list of problems means nothing is half-written."""
    engine = create_engine(database_url)
    problems: list[str] = []
    try:
        async with engine.connect() as conn:
            rows = {
                kind: {str(i) for i in (await conn.execute(select(model.id))).scalars()}
                for kind, model in (
                    ("patient", Patient),
                    ("encounter", Encounter),
                    ("charge", Charge),
                )
            }
            audited = set((await conn.execute(select(AuditEntry.resource_id))).scalars())
            logged = {
                (str(e["resource_type"]), str(e["resource_id"]))
                for e in (await conn.execute(select(EventLogEntry.event))).scalars()
            }
            numbers = list((await conn.execute(select(Patient.patient_number))).scalars())
            counters = await counter_values(conn)
    finally:
        await engine.dispose()
    for kind, ids in rows.items():
        for record_id in sorted(ids):
            if record_id not in audited:
                problems.append(f"{kind} {record_id} has no audit entry")
            if (kind, record_id) not in logged:
                problems.append(f"{kind} {record_id} has no event-log row")
    if len(set(numbers)) != len(numbers):
        problems.append("a patient number was handed out twice")
    for number in numbers:
        prefix, value = number[:5], int(number[5:])
        if counters.get(prefix, 0) < value:
            problems.append(f"counter {prefix} is behind patient number {number}")
    return sum(len(ids) for ids in rows.values()), problems


async def sealed_within(database_url: str, seconds: float) -> int:
    """Waits until the servers' sealers have linked every audit entry into the chain; returns
    how many entries there are (fails after `seconds`)."""
    engine = create_engine(database_url)
    deadline = time.monotonic() + seconds
    try:
        while True:
            async with engine.connect() as conn:
                entries = (await conn.execute(select(func.count(AuditEntry.seq)))).scalar_one()
                links = (await conn.execute(select(func.count(AuditLink.seq)))).scalar_one()
            if entries == links:
                return int(entries)
            assert time.monotonic() < deadline, f"{entries - links} audit entries not sealed"
            await asyncio.sleep(0.5)
    finally:
        await engine.dispose()
