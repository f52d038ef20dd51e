"""Human-readable record numbers: P20240001, RX20240001, ...

One counter row per prefix and year, advanced by an atomic upsert, so concurrent requests never
draw the same number. Past 9999 the number grows wider; a rolled-back request leaves a gap.
"""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hms.db import Base, dialect_name, utcnow


class NumberSequence(Base):
    __tablename__ = "number_sequences"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


async def next_number(session: AsyncSession, prefix: str) -> str:
    return (await reserve_numbers(session, prefix, 1))[0]


async def reserve_numbers(session: AsyncSession, prefix: str, count: int) -> list[str]:
    """`count` consecutive numbers in one step (bulk loading draws thousands at once)."""
    year = utcnow().year
    name = f"{prefix}{year}"
    insert = postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    upsert = (
        insert(NumberSequence)
        .values(name=name, value=count)
        .on_conflict_do_update(
            index_elements=[NumberSequence.name], set_={"value": NumberSequence.value + count}
        )
        .returning(NumberSequence.value)
    )
    last = (await session.execute(upsert)).scalar_one()
    return [f"{prefix}{year}{value:04d}" for value in range(last - count + 1, last + 1)]
