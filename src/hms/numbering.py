"""Human-readable record numbers: P20240001, RX20240001, ...

One counter per prefix and year, so concurrent requests never draw the same number. Past 9999
the number grows wider; a rolled-back request leaves a gap.

On PostgreSQL the counter is a sequence (`hms_number_p2026`, ...): drawing from it takes no
lock, so requests that create records of one kind do not wait for each other's commits, as they
would on a counter row. The sequence is created on first use, continuing from the counter row
that earlier versions kept. On SQLite, whose writers take turns anyway, the counter is a row of
`number_sequences`, advanced by an atomic upsert.
"""

from __future__ import annotations

import re
import weakref

from sqlalchemy import ColumnElement, Integer, String, column, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hms.db import Base, utcnow


class NumberSequence(Base):
    __tablename__ = "number_sequences"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


SEQUENCE_PREFIX = "hms_number_"
_NAME = re.compile(r"^[A-Z]{1,8}[0-9]{4}$")
# The sequences this process has seen exist, per database (a sequence is never dropped).
_known: weakref.WeakKeyDictionary[Engine, set[str]] = weakref.WeakKeyDictionary()


async def next_number(session: AsyncSession, prefix: str) -> str:
    return (await reserve_numbers(session, prefix, 1))[0]


async def number_for_insert(session: AsyncSession, prefix: str) -> str | ColumnElement[str]:
    """The next number as a value to give a new row's column: on PostgreSQL an expression that
    draws it inside the INSERT storing the row (which returns it), one round trip less than
    drawing it first; elsewhere the drawn number itself."""
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        return await next_number(session, prefix)
    name = f"{prefix}{utcnow().year}"
    sequence = await _sequence(connection, name)
    return _DRAWN.bindparams(hms_number_name=name, hms_number_sequence=sequence).scalar_subquery()


# The drawn value formatted as `reserve_numbers` does: at least four digits, wider past 9999.
_DRAWN = text(
    "SELECT CAST(:hms_number_name AS text) || lpad(CAST(n AS text), "
    "greatest(4, length(CAST(n AS text))), '0') "
    "FROM nextval(CAST(:hms_number_sequence AS regclass)) AS n"
).columns(column("number", String))


async def reserve_numbers(session: AsyncSession, prefix: str, count: int) -> list[str]:
    """`count` numbers in one step (bulk loading draws thousands at once), in order."""
    year = utcnow().year
    name = f"{prefix}{year}"
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        values = await _from_sequence(connection, name, count)
    else:
        values = await _from_row(connection, name, count)
    return [f"{prefix}{year}{value:04d}" for value in values]


async def _from_row(connection: AsyncConnection, name: str, count: int) -> list[int]:
    upsert = (
        sqlite.insert(NumberSequence)
        .values(name=name, value=count)
        .on_conflict_do_update(
            index_elements=[NumberSequence.name], set_={"value": NumberSequence.value + count}
        )
        .returning(NumberSequence.value)
    )
    last = (await connection.execute(upsert)).scalar_one()
    return list(range(last - count + 1, last + 1))


async def _from_sequence(connection: AsyncConnection, name: str, count: int) -> list[int]:
    sequence = await _sequence(connection, name)
    drawn = await connection.execute(_DRAW, {"sequence": sequence, "count": count})
    return sorted(drawn.scalars())


async def _sequence(connection: AsyncConnection, name: str) -> str:
    """The sequence of counter `name` (P2026...), created if this process has not yet seen it."""
    sequence = SEQUENCE_PREFIX + name.lower()
    known = _known.setdefault(connection.engine.sync_engine, set())
    if sequence not in known and await _ensure_sequence(connection, name, sequence):
        known.add(sequence)
    return sequence


_DRAW = text("SELECT nextval(CAST(:sequence AS regclass)) FROM generate_series(1, :count)")


async def _ensure_sequence(connection: AsyncConnection, name: str, sequence: str) -> bool:
    """Creates the sequence if it is missing, starting after the counter row of earlier
    versions; True when it already existed (committed). Concurrent first uses take turns on an
    advisory lock, since concurrent CREATE ... IF NOT EXISTS can collide; the creation is part
    of the caller's transaction and goes away if that rolls back."""
    if not _NAME.match(name):
        raise ValueError(f"not a counter name: {name!r}")
    await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:s))"), {"s": sequence})
    exists = await connection.execute(text("SELECT to_regclass(:s)"), {"s": sequence})
    if exists.scalar_one() is not None:
        return True
    counted = await connection.execute(
        select(NumberSequence.value).where(NumberSequence.name == name)
    )
    start = (counted.scalar_one_or_none() or 0) + 1
    # The name is checked above and the start is an integer: nothing here comes from a request.
    await connection.execute(text(f"CREATE SEQUENCE {sequence} START WITH {start}"))
    return False


async def counter_values(connection: AsyncConnection) -> dict[str, int]:
    """The last number handed out per counter name (P2026, RX2026, ...)."""
    if connection.dialect.name != "postgresql":
        rows = await connection.execute(select(NumberSequence.name, NumberSequence.value))
        return {str(name): int(value) for name, value in rows}
    rows = await connection.execute(
        text(
            "SELECT sequencename, last_value FROM pg_sequences "
            "WHERE schemaname = current_schema() AND sequencename LIKE :p"
        ),
        {"p": SEQUENCE_PREFIX + "%"},
    )
    return {
        str(sequence).removeprefix(SEQUENCE_PREFIX).upper(): int(value or 0)
        for sequence, value in rows
    }
