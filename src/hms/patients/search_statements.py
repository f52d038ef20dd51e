"""The statements of a patient search, built once per shape of query and kept.

A shape is what a query's statements are made of: how many words, which are long enough for
typo matching, whether it could be an e-mail address or a phone number. The words themselves are
bound values, so that a search neither builds its expressions nor works out their cache key
anew: that Python time was larger than the time PostgreSQL takes to run the search.
`hms.patients.search` runs them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import aliased

from hms.patients.models import NameVocabulary, Patient, PatientNameWord
from hms.patients.name_index import letter_key

SIMILARITY_THRESHOLD = 0.5
MIN_FUZZY_LENGTH = 3
MAX_QUERY_WORDS = 5
# Made once: an alias carries a copy of every column, too costly to build per request.
_NAME_WORDS = tuple(aliased(PatientNameWord, name=f"w{i}") for i in range(MAX_QUERY_WORDS))
_IDENTIFIED = aliased(Patient, name="identified")
# Above every character a name word holds: `word <= w < word + LAST_CHARACTER` is a prefix range.
LAST_CHARACTER = chr(0x10FFFF)
# Statements kept per kind: a shape and a scope (one per kind of reader) each.
STATEMENTS_KEPT = 512
ESCAPE = "/"


def _escaped(value: str) -> str:
    """`value` for a LIKE pattern with ESCAPE '/': its wildcards match themselves."""
    return value.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def _like(column: Any, name: str) -> ColumnElement[bool]:
    return column.like(bindparam(name, type_=String), escape=ESCAPE)


@dataclass(frozen=True)
class Shape:
    """What a query's statements are built from; the words themselves are bound values."""

    dialect: str
    email: bool
    phone: bool
    words: int
    # By position in the query: is the word long enough to be matched by similarity.
    fuzzy: tuple[bool, ...]


def shape_of(
    dialect: str, raw: str, words: list[str], phone: str | None
) -> tuple[Shape, list[str]]:
    """The shape of a query (`phone`: its digits reversed) and its words in the order the
    statements take them: the longest first, likely the rarest, drives."""
    ordered = sorted(words, key=len, reverse=True)
    return (
        Shape(
            dialect=dialect,
            email="@" in raw,
            phone=bool(phone and len(phone) >= 7 and not any(c.isalpha() for c in raw)),
            words=len(ordered),
            fuzzy=tuple(len(w) >= MIN_FUZZY_LENGTH for w in ordered),
        ),
        ordered,
    )


def _exact(shape: Shape, patient: Any) -> ColumnElement[bool]:
    """The query as a patient number, e-mail address or phone number."""
    exact: list[ColumnElement[bool]] = [patient.patient_number == bindparam("number", type_=String)]
    if shape.email:
        exact.append(patient.email_normalized == bindparam("email", type_=String))
    if shape.phone:
        # The number as typed is the end of the stored one (with or without country code): a
        # prefix range over the reversed digits. Letters sort after digits in every collation.
        exact.append(
            and_(
                patient.phone_digits_reversed >= bindparam("phone_from", type_=String),
                patient.phone_digits_reversed < bindparam("phone_to", type_=String),
            )
        )
    return or_(*exact)


def exact_values(shape: Shape, raw: str, phone: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {"number": raw.upper()}
    if shape.email:
        values["email"] = raw.lower()
    if shape.phone:
        values["phone_from"], values["phone_to"] = phone, f"{phone}a"
    return values


def _starts(column: Any, position: int) -> ColumnElement[bool]:
    """A name word starting with the query word: a range on the byte-ordered word index."""
    return and_(
        column >= bindparam(f"from{position}", type_=String),
        column < bindparam(f"to{position}", type_=String),
    )


def start_values(words: list[str]) -> dict[str, str]:
    values = {}
    for position, word in enumerate(words):
        values[f"from{position}"], values[f"to{position}"] = word, word + LAST_CHARACTER
    return values


def _resembles(shape: Shape, column: Any, position: int) -> ColumnElement[bool]:
    """A name word that the vocabulary lookup found for the query word (a short word: one it
    starts)."""
    if not shape.fuzzy[position]:
        # One or two letters carry no trigram: only the start of a name word counts.
        return _starts(column, position)
    name = f"found{position}"
    if shape.dialect == "postgresql":
        # One statement text whatever the number of words found.
        return column == any_(bindparam(name, type_=ARRAY(String)))
    return column.in_(bindparam(name, type_=String, expanding=True))


def _patients_having(
    shape: Shape, matches: Callable[[Any, int], ColumnElement[bool]]
) -> Select[Any]:
    """Ids of the patients with, for every query word, a name word that matches it."""
    driving, *others = _NAME_WORDS
    stmt = select(driving.patient_id).where(matches(driving.word, 0))
    for position, other in zip(range(1, shape.words), others, strict=False):
        stmt = stmt.where(
            exists().where(other.patient_id == driving.patient_id, matches(other.word, position))
        )
    return stmt


@functools.lru_cache(maxsize=STATEMENTS_KEPT)
def vocabulary_lookup(shape: Shape) -> Any:
    """The vocabulary words resembling each long query word: by substring, by the same sorted
    letters, or by trigram similarity."""
    lookups = []
    for position, fuzzy in enumerate(shape.fuzzy):
        if not fuzzy:
            continue
        word = bindparam(f"word{position}", type_=String)
        if shape.dialect == "postgresql":
            similar: ColumnElement[bool] = word.op("<%")(NameVocabulary.word)
        else:
            similar = func.hms_word_similarity(word, NameVocabulary.word) >= SIMILARITY_THRESHOLD
        lookups.append(
            select(literal(position), NameVocabulary.word).where(
                or_(
                    _like(NameVocabulary.word, f"within{position}"),
                    NameVocabulary.letter_key == bindparam(f"key{position}", type_=String),
                    similar,
                )
            )
        )
    return union_all(*lookups)


def lookup_values(words: list[str]) -> dict[str, str]:
    values = {}
    for position, word in enumerate(words):
        values[f"word{position}"] = word
        values[f"within{position}"] = f"%{_escaped(word)}%"
        values[f"key{position}"] = letter_key(word)
    return values


def _name_score(shape: Shape) -> Any:
    """How well the name matches: 1 per word matched by the start of a name word, less for
    swapped letters, a substring or mere similarity."""
    total: Any = literal(0.0)
    for position, fuzzy in enumerate(shape.fuzzy):
        starts = or_(
            _like(Patient.search_name, f"begins{position}"),
            _like(Patient.search_name, f"inner{position}"),
        )
        if not fuzzy:
            total = total + case((starts, 1.0), else_=0.0)
            continue
        word = bindparam(f"word{position}", type_=String)
        if shape.dialect == "postgresql":
            similarity = func.word_similarity(word, Patient.search_name)
        else:
            similarity = func.hms_word_similarity(word, Patient.search_name)
        total = total + case(
            (starts, 1.0),
            (_like(Patient.search_keys, f"sorted{position}"), 0.85),
            (_like(Patient.search_name, f"within{position}"), 0.8),
            else_=similarity * 0.7,
        )
    return total


def score_values(words: list[str]) -> dict[str, str]:
    values = {}
    for position, word in enumerate(words):
        escaped = _escaped(word)
        values[f"word{position}"] = word
        values[f"begins{position}"] = f"{escaped}%"
        values[f"inner{position}"] = f"% {escaped}%"
        values[f"within{position}"] = f"%{escaped}%"
        values[f"sorted{position}"] = f"% {_escaped(letter_key(word))} %"
    return values


@functools.lru_cache(maxsize=STATEMENTS_KEPT)
def precise(shape: Shape, scope: ColumnElement[bool]) -> tuple[Any, Any]:
    candidates = [select(_IDENTIFIED.id).where(_exact(shape, _IDENTIFIED))]
    ranking: list[Any] = [Patient.last_name]
    if shape.words:
        candidates.append(_patients_having(shape, _starts))
        ranking = [case((_exact(shape, Patient), 0), else_=1)]
    return _page_statements(shape, scope, candidates, ranking)


@functools.lru_cache(maxsize=STATEMENTS_KEPT)
def tolerant(shape: Shape, scope: ColumnElement[bool]) -> tuple[Any, Any]:
    candidates = [
        select(_IDENTIFIED.id).where(_exact(shape, _IDENTIFIED)),
        _patients_having(shape, functools.partial(_resembles, shape)),
    ]
    score = case((_exact(shape, Patient), 100.0), else_=_name_score(shape))
    return _page_statements(shape, scope, candidates, [score.desc()])


def _page_statements(
    shape: Shape, scope: ColumnElement[bool], candidates: list[Select[Any]], ranking: list[Any]
) -> tuple[Any, Any]:
    """A page of the candidates in this order, with their count; and the count alone, for a
    page past the last of them."""
    ids = union(*candidates) if len(candidates) > 1 else candidates[0]
    if shape.dialect == "postgresql":
        # The candidates gathered once into an array: the patients are then read in one index
        # scan, and the scope's subqueries run once per query rather than once per candidate
        # (the planner would otherwise rather read the whole register).
        member = Patient.id == any_(func.array(ids.scalar_subquery()))
    else:
        member = Patient.id.in_(ids)
    where = and_(scope, member)
    page = (
        select(Patient, func.count().over())
        .where(where)
        .order_by(*ranking, Patient.last_name, Patient.first_name, Patient.id)
        .limit(bindparam("page_limit", type_=Integer))
        .offset(bindparam("page_offset", type_=Integer))
    )
    return page, select(func.count()).select_from(Patient).where(where)
