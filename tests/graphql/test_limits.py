"""Protection: too-deep and too-costly queries are refused before they touch the database;
introspection can be switched off."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from hms.app import create_app
from hms.config import Settings
from hms.runtime import Runtime
from tests.appointments.support import clinician
from tests.graphql.support import codes, get_patient_query, gql, statements

GET_PATIENT = get_patient_query()
COSTLY = """
query Everything {
  patients(limit: 100) {
    patients {
      clinicalEncounters { id diagnoses { code description } provider { id lastName } }
      appointments { id provider { id lastName specialty } }
    }
  }
}
"""
INTROSPECTION = "query { __schema { queryType { name } } }"


@pytest.fixture
async def strict(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a shallow depth limit, a small cost budget and introspection off."""
    strict_settings = settings.model_copy(
        update={
            "graphql_max_depth": 2,
            "graphql_max_complexity": 50,
            "graphql_introspection": False,
        }
    )
    app = create_app(strict_settings, runtime)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_a_too_deep_query_is_refused_before_any_sql(
    strict: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await clinician(strict, runtime)
    # Twice: the second time the document's validation comes from the cache.
    for _ in range(2):
        with statements(runtime) as seen:
            body = await gql(strict, GET_PATIENT, {"id": "P20260001"}, doctor.headers)
        assert body.get("data") is None
        assert set(codes(body)) == {"BAD_REQUEST"}
        messages = {error["message"] for error in body["errors"]}
        assert "'GetPatient' exceeds maximum operation depth of 2" in messages
        assert seen == []


async def test_a_too_costly_query_is_refused_before_any_sql(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await clinician(client, runtime)
    with statements(runtime) as seen:
        body = await gql(client, COSTLY, None, doctor.headers)
    assert body["data"] is None
    assert codes(body) == ["BAD_REQUEST"]
    assert body["errors"][0]["message"].startswith("Query cost ")
    assert "exceeds the maximum of 10000" in body["errors"][0]["message"]
    assert seen == []


async def test_the_cost_counts_the_limit_sent_in_variables(
    strict: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await clinician(strict, runtime)
    query = "query P($n: Int!) { patients(limit: $n) { total patients { id lastName } } }"
    small = await gql(strict, query, {"n": 5}, doctor.headers)
    assert "errors" not in small, small
    with statements(runtime) as seen:
        large = await gql(strict, query, {"n": 100}, doctor.headers)
    assert codes(large) == ["BAD_REQUEST"] and "maximum of 50" in large["errors"][0]["message"]
    assert seen == []


async def test_introspection_follows_the_setting(
    client: httpx.AsyncClient, strict: httpx.AsyncClient
) -> None:
    # In turn, twice: one query text, validated per schema and its rules even when cached.
    for _ in range(2):
        allowed = await gql(client, INTROSPECTION)
        assert allowed["data"] == {"__schema": {"queryType": {"name": "Query"}}}
        refused = await gql(strict, INTROSPECTION)
        assert refused.get("data") is None
        assert set(codes(refused)) == {"BAD_REQUEST"}
        assert all("introspection" in e["message"].lower() for e in refused["errors"])


async def test_a_page_larger_than_100_is_a_validation_error(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await clinician(client, runtime)
    body = await gql(client, "{ patients(limit: 101) { total } }", None, doctor.headers)
    assert codes(body) == ["VALIDATION_ERROR"]
    assert body["errors"][0]["extensions"]["details"]["field"] == "limit"
