"""The name-word index search reads: each patient's name words, and the vocabulary of them all.

Kept in the transaction that writes the name (the patient service calls `index_name`), so that
every door (REST, GraphQL, FHIR, the portal) leaves search consistent. The bulk demo loader
writes the same rows with `name_word_rows` and `add_vocabulary`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import Insert, delete, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from hms.patients.models import NameVocabulary, PatientNameWord


def name_words(search_name: str) -> list[str]:
    """The distinct words of a normalised name."""
    return sorted(set(search_name.split()))


def letter_key(word: str) -> str:
    return "".join(sorted(word))


def name_word_rows(patient_id: uuid.UUID, search_name: str) -> list[dict[str, Any]]:
    return [{"word": w, "patient_id": patient_id} for w in name_words(search_name)]


def vocabulary_rows(words: Iterable[str]) -> list[dict[str, str]]:
    return [{"word": w, "letter_key": letter_key(w)} for w in sorted(set(words))]


async def index_name(
    session: AsyncSession, patient_id: uuid.UUID, search_name: str, *, new: bool = False
) -> None:
    """Replace the patient's name words (the patient row must already be flushed); a `new`
    patient has none to replace."""
    # Plain rows on the session's connection: the ORM's bulk path costs more than the insert.
    connection = await session.connection()
    if not new:
        await connection.execute(
            delete(PatientNameWord).where(PatientNameWord.patient_id == patient_id)
        )
    words = name_words(search_name)
    if not words:
        return
    if connection.dialect.name == "postgresql":
        # One round trip for both tables: a registration's statements are each a round trip.
        await connection.execute(
            _INDEX_WORDS_PG,
            {"words": words, "keys": [letter_key(w) for w in words], "patient_id": patient_id},
        )
        return
    await add_vocabulary(connection, words)
    await connection.execute(
        insert(PatientNameWord), [{"word": w, "patient_id": patient_id} for w in words]
    )


# The words arrive sorted, so concurrent writers insert new vocabulary in one order.
_INDEX_WORDS_PG = text(
    "WITH vocabulary AS (INSERT INTO name_vocabulary (word, letter_key) "
    "SELECT * FROM unnest(CAST(:words AS text[]), CAST(:keys AS text[])) "
    "ON CONFLICT DO NOTHING) "
    "INSERT INTO patient_name_words (word, patient_id) "
    "SELECT unnest(CAST(:words AS text[])), CAST(:patient_id AS uuid)"
)


@cache
def _vocabulary_upsert(dialect: str) -> Insert:
    """One statement per dialect, sent with a list of rows: compiled once, where rows written
    into the statement made each call compile anew."""
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return upsert(NameVocabulary).on_conflict_do_nothing()


async def add_vocabulary(connection: AsyncConnection, words: Iterable[str]) -> None:
    rows = vocabulary_rows(words)
    if rows:
        await connection.execute(_vocabulary_upsert(connection.dialect.name), rows)
