"""What the GraphQL tests share: the API document's GraphQL text, posting operations, the
seed's REST bodies in GraphQL spelling, and a counter of SQL statements."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from hms.runtime import Runtime
from tests.seed_examples import request_body, seed_text

GRAPHQL = "/api/v1/graphql"
# Free-form note sections travel as JSON: their keys stay as the domain writes them.
JSON_FIELDS = {"review_of_systems", "physical_examination"}
SPELLING = {"start_datetime": "startDateTime", "end_datetime": "endDateTime"}


def seed_graphql(heading: str) -> str:
    """The GraphQL document under this heading of the API document, exactly as written."""
    text = seed_text()
    start = text.index("```graphql\n", text.index(heading)) + len("```graphql\n")
    return text[start : text.index("```", start)]


def camel(name: str) -> str:
    if name in SPELLING:
        return SPELLING[name]
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def camelized(value: Any) -> Any:
    if isinstance(value, list):
        return [camelized(item) for item in value]
    if isinstance(value, dict):
        return {camel(k): (v if k in JSON_FIELDS else camelized(v)) for k, v in value.items()}
    return value


def seed_encounter_input(patient_id: str, provider_id: str) -> dict[str, Any]:
    """The API document's encounter create body, as CreateClinicalEncounterInput."""
    body = copy.deepcopy(request_body("POST /api/v1/clinical/encounters"))
    body["patient_id"] = patient_id
    body["provider_id"] = provider_id
    return dict(camelized(body))


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        GRAPHQL, json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


@contextmanager
def statements(runtime: Runtime) -> Iterator[list[str]]:
    """Every SQL statement the app sends while the block runs."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def get_patient_query() -> str:
    """The seed's GetPatient query, exactly as written."""
    return seed_graphql("#### Patient Query")
