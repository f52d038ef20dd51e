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
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    any_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    union,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from hms.db import dialect_name, on_sqlite_connect
from hms.patients.models import NameVocabulary, Patient, PatientNameWord
from hms.patients.name_index import letter_key

SIMILARITY_THRESHOLD = 0.5
MIN_FUZZY_LENGTH = 3
MAX_QUERY_WORDS = 5
# For this transaction: the trigram threshold, and the vocabulary read through its trigram index
# (a scan computing the similarity of every word costs ten times more, and the planner, seeing a
# small table, would choose it).
TOLERANT_SETTINGS = select(
    func.set_config("pg_trgm.word_similarity_threshold", str(SIMILARITY_THRESHOLD), True),
    func.set_config("enable_seqscan", "off", True),
    func.set_config("plan_cache_mode", "auto", True),
)
# For the first stage: a plan made once per connection. Planning its prefix ranges weighs each
# against the statistics of every vocabulary word (~2 ms, more than running it); the ranges are
# narrow whatever the words, so one plan serves them all. The tolerant stage, whose plan depends
# on how many patients the matched words have, is planned for its words again. (The setting
# lasts until the transaction ends: what follows a search, audit rows and reads by id, plans
# the same either way.)
PRECISE_SETTINGS = select(func.set_config("plan_cache_mode", "force_generic_plan", True))
# Made once: an alias carries a copy of every column, too costly to build per request.
_NAME_WORDS = tuple(aliased(PatientNameWord, name=f"w{i}") for i in range(MAX_QUERY_WORDS))
_IDENTIFIED = aliased(Patient, name="identified")
# Above every character a name word holds: `word <= w < word + LAST_CHARACTER` is a prefix range.
LAST_CHARACTER = chr(0x10FFFF)


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


def _starts(column: Any, word: str) -> ColumnElement[bool]:
    """A name word starting with `word`: a range on the byte-ordered word index."""
    return and_(column >= word, column < word + LAST_CHARACTER)


async def _resembling(
    session: AsyncSession, dialect: str, words: list[str]
) -> Callable[[Any, str], ColumnElement[bool]]:
    """Matching by substring, swapped letters or trigram similarity, resolved first against the
    vocabulary of name words (a few thousand, however many patients): the name-word query then
    names its words, and the planner knows from their statistics how many patients each has."""
    lookups = []
    for position, word in enumerate(words):
        if len(word) < MIN_FUZZY_LENGTH:
            continue
        if dialect == "postgresql":
            similar: ColumnElement[bool] = literal(word).op("<%")(NameVocabulary.word)
        else:
            similar = func.hms_word_similarity(word, NameVocabulary.word) >= SIMILARITY_THRESHOLD
        lookups.append(
            select(literal(position), NameVocabulary.word).where(
                or_(
                    NameVocabulary.word.contains(word, autoescape=True),
                    NameVocabulary.letter_key == letter_key(word),
                    similar,
                )
            )
        )
    found: dict[int, list[str]] = {}
    if lookups:
        if dialect == "postgresql":
            await session.execute(TOLERANT_SETTINGS)
        for position, name_word in await session.execute(union_all(*lookups)):
            found.setdefault(position, []).append(name_word)
        if dialect == "postgresql":
            await session.execute(text("RESET enable_seqscan"))
    index = {word: position for position, word in enumerate(words)}

    def matches(column: Any, word: str) -> ColumnElement[bool]:
        if len(word) < MIN_FUZZY_LENGTH:
            # One or two letters carry no trigram: only the start of a name word counts.
            return _starts(column, word)
        return column.in_(found.get(index[word], []))

    return matches


def _patients_having(
    words: list[str], matches: Callable[[Any, str], ColumnElement[bool]]
) -> Select[Any]:
    """Ids of the patients with, for every query word, a name word that matches it."""
    first, *rest = sorted(words, key=len, reverse=True)  # the longest is likely the rarest
    driving, *others = _NAME_WORDS
    stmt = select(driving.patient_id).where(matches(driving.word, first))
    for word, other in zip(rest, others, strict=False):
        stmt = stmt.where(
            exists().where(other.patient_id == driving.patient_id, matches(other.word, word))
        )
    return stmt


def _name_score(dialect: str, words: list[str]) -> Any:
    """How well the name matches: 1 per word matched by the start of a name word, less for
    swapped letters, a substring or mere similarity."""
    total: Any = literal(0.0)
    for word in words:
        starts = or_(
            Patient.search_name.startswith(word, autoescape=True),
            Patient.search_name.contains(f" {word}", autoescape=True),
        )
        if len(word) < MIN_FUZZY_LENGTH:
            total = total + case((starts, 1.0), else_=0.0)
            continue
        contains = Patient.search_name.contains(word, autoescape=True)
        if dialect == "postgresql":
            similarity = func.word_similarity(word, Patient.search_name)
        else:
            similarity = func.hms_word_similarity(word, Patient.search_name)
        swapped = Patient.search_keys.contains(f" {letter_key(word)} ", autoescape=True)
        total = total + case(
            (starts, 1.0), (swapped, 0.85), (contains, 0.8), else_=similarity * 0.7
        )
    return total


def _exact(raw: str, patient: Any) -> ColumnElement[bool]:
    """The query as a patient number, e-mail address or phone number."""
    exact: list[ColumnElement[bool]] = [patient.patient_number == raw.upper()]
    if "@" in raw:
        exact.append(patient.email_normalized == raw.lower())
    phone = reversed_digits(raw)
    if phone and len(phone) >= 7 and not any(c.isalpha() for c in raw):
        # The number as typed is the end of the stored one (with or without country code): a
        # prefix range over the reversed digits. Letters sort after digits in every collation.
        exact.append(
            and_(
                patient.phone_digits_reversed >= phone, patient.phone_digits_reversed < phone + "a"
            )
        )
    return or_(*exact)


async def search(
    session: AsyncSession, query: str, *, scope: ColumnElement[bool], limit: int, offset: int
) -> tuple[list[Patient], int]:
    """Exact identifiers first, then the patients whose name words start with every query word
    (by last and first name); only when those do not fill the page, every patient matching
    each word in some way, ranked by how well. `total` counts the matches of the stage that
    filled the page."""
    dialect = dialect_name(session)
    words = normalize(query).split()[:MAX_QUERY_WORDS]
    raw = query.strip()
    exact_ids = select(_IDENTIFIED.id).where(_exact(raw, _IDENTIFIED))
    is_exact = _exact(raw, Patient)
    if not words:
        return await _page(session, scope, [exact_ids], [Patient.last_name], limit, offset)
    precise = [exact_ids, _patients_having(words, _starts)]
    first_exact = case((is_exact, 0), else_=1)
    if dialect == "postgresql":
        await session.execute(PRECISE_SETTINGS)
    patients, total = await _page(session, scope, precise, [first_exact], limit, offset)
    if total >= offset + limit:
        return patients, total
    resembling = await _resembling(session, dialect, words)
    tolerant = [exact_ids, _patients_having(words, resembling)]
    score = case((is_exact, 100.0), else_=_name_score(dialect, words))
    return await _page(session, scope, tolerant, [score.desc()], limit, offset)


async def _page(
    session: AsyncSession,
    scope: ColumnElement[bool],
    candidates: list[Select[Any]],
    ranking: list[Any],
    limit: int,
    offset: int,
) -> tuple[list[Patient], int]:
    ids = union(*candidates) if len(candidates) > 1 else candidates[0]
    if dialect_name(session) == "postgresql":
        # The candidates gathered once into an array: the patients are then read in one index
        # scan, and the scope's subqueries run once per query rather than once per candidate
        # (the planner would otherwise rather read the whole register).
        member = Patient.id == any_(func.array(ids.scalar_subquery()))
    else:
        member = Patient.id.in_(ids)
    where = and_(scope, member)
    rows = (
        await session.execute(
            select(Patient, func.count().over())
            .where(where)
            .order_by(*ranking, Patient.last_name, Patient.first_name, Patient.id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    if rows:
        return [row[0] for row in rows], rows[0][1]
    if offset == 0:
        return [], 0
    total = (
        await session.execute(select(func.count()).select_from(Patient).where(where))
    ).scalar_one()
    return [], total
