"""Patient search: names matched case-, accent- and typo-tolerantly, best matches first.

Names are kept normalised (`search_name`: lower case, accents removed) and split into an index
of name words (`hms.patients.name_index`). Each word of the query must match a name word: first
by its start (prefix ranges of the index, intersected); only when those matches do not fill the
page, also by substring, swapped letters or trigram word-similarity (pg_trgm's `<%` on
PostgreSQL; the same measure as an SQL function on SQLite), looked up in the vocabulary of name
words. A query that is a patient number, an e-mail address or a phone number (with or without
its country code) also matches those exactly, ranked first. docs/decisions.md ("Patients")
says what `total` counts and what was measured.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hms.db import dialect_name, on_sqlite_connect
from hms.patients import search_statements as statements
from hms.patients.models import Patient
from hms.patients.name_index import letter_key
from hms.patients.search_statements import MAX_QUERY_WORDS, SIMILARITY_THRESHOLD

# For this transaction: the trigram threshold, and the vocabulary read through its trigram index
# (a scan computing the similarity of every word costs ten times more, and the planner, seeing a
# small table, would choose it).
TOLERANT_SETTINGS = select(
    func.set_config("pg_trgm.word_similarity_threshold", str(SIMILARITY_THRESHOLD), True),
    func.set_config("enable_seqscan", "off", True),
    func.set_config("plan_cache_mode", "force_custom_plan", True),
)
# For the first stage: a plan made once per connection. Planning its prefix ranges weighs each
# against the statistics of every vocabulary word (~2 ms, more than running it); the ranges are
# narrow whatever the words, so one plan serves them all. The tolerant stage, whose plan depends
# on how many patients the matched words have, is planned for its words again. (The setting
# lasts until the transaction ends: what follows a search, audit rows and reads by id, plans
# the same either way.)
PRECISE_SETTINGS = select(func.set_config("plan_cache_mode", "force_generic_plan", True))


def normalize(value: str) -> str:
    """Lower case, accents and punctuation removed, single spaces."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w]+", " ", stripped).split())


def search_name(first_name: str, last_name: str) -> str:
    return normalize(f"{first_name} {last_name}")


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


async def _resembling(
    session: AsyncSession, shape: statements.Shape, words: list[str]
) -> dict[str, Any]:
    """The tolerant stage's bound values: the vocabulary words (a few thousand, however many
    patients) matching each long query word, so that the name-word query names its words and
    the planner knows from their statistics how many patients each has."""
    found: dict[int, list[str]] = {p: [] for p, fuzzy in enumerate(shape.fuzzy) if fuzzy}
    if found:
        if shape.dialect == "postgresql":
            await session.execute(TOLERANT_SETTINGS)
        rows = await session.execute(
            statements.vocabulary_lookup(shape), statements.lookup_values(words)
        )
        for position, name_word in rows:
            found[position].append(name_word)
        if shape.dialect == "postgresql":
            await session.execute(text("RESET enable_seqscan"))
    return {f"found{position}": name_words for position, name_words in found.items()}


async def search(
    session: AsyncSession, query: str, *, scope: ColumnElement[bool], limit: int, offset: int
) -> tuple[list[Patient], int]:
    """Exact identifiers first, then the patients whose name words start with every query word
    (by last and first name); only when those do not fill the page, every patient matching
    each word in some way, ranked by how well. `total` counts the matches of the stage that
    filled the page. `scope` should be one expression per kind of reader (see
    hms.access.scoping): the statements are kept per scope."""
    words = normalize(query).split()[:MAX_QUERY_WORDS]
    raw = query.strip()
    phone = reversed_digits(raw)
    shape, ordered = statements.shape_of(dialect_name(session), raw, words, phone)
    values = {
        **statements.exact_values(shape, raw, phone),
        **statements.start_values(ordered),
        "page_limit": limit,
        "page_offset": offset,
    }
    if shape.dialect == "postgresql" and words:
        await session.execute(PRECISE_SETTINGS)
    patients, total = await _page(session, statements.precise(shape, scope), values, offset)
    if not words or total >= offset + limit:
        return patients, total
    values |= await _resembling(session, shape, ordered)
    values |= statements.score_values(ordered)
    return await _page(session, statements.tolerant(shape, scope), values, offset)


async def _page(
    session: AsyncSession, page_and_count: tuple[Any, Any], values: dict[str, Any], offset: int
) -> tuple[list[Patient], int]:
    page, count = page_and_count
    rows = (await session.execute(page, values)).all()
    if rows:
        return [row[0] for row in rows], rows[0][1]
    if offset == 0:
        return [], 0
    return [], (await session.execute(count, values)).scalar_one()
