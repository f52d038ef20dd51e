"""What the FHIR door can do with each resource type: read by id and search with the listed
parameters. The router serves exactly these, and the CapabilityStatement is written from them,
so the two cannot disagree."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from hms.api.fhir.search import Search
from hms.auth.permissions import Actor

ParamType = Literal["token", "reference", "date", "string"]
Resource = dict[str, Any]


@dataclass(frozen=True)
class Context:
    session: AsyncSession
    actor: Actor


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: ParamType
    documentation: str


Reader = Callable[[Context, str], Awaitable[Resource]]
Searcher = Callable[[Context, Search], Awaitable[tuple[list[Resource], int]]]


@dataclass(frozen=True)
class ResourceType:
    name: str
    read: Reader
    search: Searcher
    params: tuple[SearchParam, ...]
    profile: str | None = None
    documentation: str = ""

    @property
    def param_types(self) -> dict[str, str]:
        return {p.name: p.type for p in self.params}


ID = SearchParam("_id", "token", "The resource's id; several separated by commas")
PATIENT = SearchParam("patient", "reference", "The patient: Patient/<id> or <id>")
SUBJECT = SearchParam("subject", "reference", "The same as patient: Patient/<id> or <id>")
