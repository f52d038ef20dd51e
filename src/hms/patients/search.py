"""Patient search: names matched case-, accent- and typo-tolerantly, best matches first.

Names are kept normalised (`search_name`: lower case, accents removed). Each word of the query
must match a name word, by substring or by trigram word-similarity (pg_trgm's `<%` on
PostgreSQL with a GIN index; the same measure as an SQL function on SQLite). A query that is a
patient number, an e-mail address or a phone number (with or without its country code) also
matches those exactly, ranked first.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hms.db import dialect_name, on_sqlite_connect
from hms.patients.models import Patient

SIMILARITY_THRESHOLD = 0.3
MIN_FUZZY_LENGTH = 3
MAX_QUERY_WORDS = 5


def normalize(value: str) -> str:
    """Lower case, accents and punctuation removed, single spaces."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", stripped).split())


def search_name(first_name: str, last_name: str) -> str:
    return normalize(f"{first_name} {last_name}")


def letter_key(word: str) -> str:
    return "".join(sorted(word))


def search_keys(name: str) -> str:
    """Every word of a normalised name with its letters sorted, space-delimited on both ends."""
    return f" {' '.join(letter_key(w) for w in name.split())} "


def digits(value: str | None) -> str | None:
    found = "".join(c for c in value or "" if c.isdigit())
    return found or None


def reversed_digits(value: str | None) -> str | None:
    found = digits(value)
    return found[::-1] if found else None


def trigrams(word: str) -> set[str]:
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def word_similarity(word: str, name: str) -> float:
    """pg_trgm's word_similarity, word by word: the share of the query word's trigrams found
    in the best-matching word of the name."""
    query = trigrams(word)
    if not query or not name:
        return 0.0
    return max(len(query & trigrams(w)) / len(query) for w in name.split())


@on_sqlite_connect
def _register_sqlite_functions(dbapi_conn: Any) -> None:
    dbapi_conn.create_function(
        "hms_word_similarity", 2, _sqlite_word_similarity, deterministic=True
    )


def _sqlite_word_similarity(word: str | None, name: str | None) -> float:
    return word_similarity(word or "", name or "")


def _word_conditions(dialect: str, words: list[str]) -> tuple[list[ColumnElement[bool]], Any]:
    conditions: list[ColumnElement[bool]] = []
    scores: list[Any] = []
    for word in words:
        starts = or_(
            Patient.search_name.startswith(word, autoescape=True),
            Patient.search_name.contains(f" {word}", autoescape=True),
        )
        if len(word) < MIN_FUZZY_LENGTH:
            # One or two letters carry no trigram: only the start of a name word counts.
            conditions.append(starts)
            scores.append(case((starts, 1.0), else_=0.0))
            continue
        contains = Patient.search_name.contains(word, autoescape=True)
        if dialect == "postgresql":
            similar: ColumnElement[bool] = literal(word).op("<%")(Patient.search_name)
            similarity = func.word_similarity(word, Patient.search_name)
        else:
            similarity = func.hms_word_similarity(word, Patient.search_name)
            similar = similarity >= SIMILARITY_THRESHOLD
        swapped = Patient.search_keys.contains(f" {letter_key(word)} ", autoescape=True)
        conditions.append(or_(contains, similar, swapped))
        scores.append(case((starts, 1.0), (swapped, 0.85), (contains, 0.8), else_=similarity * 0.7))
    total: Any = scores[0]
    for score in scores[1:]:
        total = total + score
    return conditions, total


async def search(
    session: AsyncSession, query: str, *, scope: ColumnElement[bool], limit: int, offset: int
) -> tuple[list[Patient], int]:
    dialect = dialect_name(session)
    words = normalize(query).split()[:MAX_QUERY_WORDS]
    raw = query.strip()
    exact: list[ColumnElement[bool]] = [Patient.patient_number == raw.upper()]
    if "@" in raw:
        exact.append(Patient.email_normalized == raw.lower())
    phone = reversed_digits(raw)
    if phone and len(phone) >= 7 and not any(c.isalpha() for c in raw):
        # The number as typed is the end of the stored one (with or without country code): a
        # prefix range over the reversed digits. Letters sort after digits in every collation.
        exact.append(
            and_(
                Patient.phone_digits_reversed >= phone, Patient.phone_digits_reversed < phone + "a"
            )
        )
    is_exact = or_(*exact)
    if words:
        if dialect == "postgresql":
            await session.execute(
                text(f"SET LOCAL pg_trgm.word_similarity_threshold = {SIMILARITY_THRESHOLD}")
            )
        conditions, name_score = _word_conditions(dialect, words)
        match = or_(is_exact, and_(*conditions))
        score = case((is_exact, 100.0), else_=name_score)
    else:
        match, score = is_exact, case((is_exact, 100.0), else_=0.0)
    where = and_(scope, match)
    total = (
        await session.execute(select(func.count()).select_from(Patient).where(where))
    ).scalar_one()
    rows = await session.execute(
        select(Patient)
        .where(where)
        .order_by(score.desc(), Patient.last_name, Patient.first_name, Patient.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows.scalars()), total
