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
    year = utcnow().year
    name = f"{prefix}{year}"
    insert = postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    upsert = (
        insert(NumberSequence)
        .values(name=name, value=1)
        .on_conflict_do_update(
            index_elements=[NumberSequence.name], set_={"value": NumberSequence.value + 1}
        )
        .returning(NumberSequence.value)
    )
    value = (await session.execute(upsert)).scalar_one()
    return f"{prefix}{year}{value:04d}"
