"""The API document's two analytics requests, sent as written, answer every field it shows."""

from __future__ import annotations

from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import signed_in
from tests.seed_examples import response_body, seed_text


def _request_path(heading: str) -> str:
    text = seed_text()
    start = text.index("GET /api/v1/analytics", text.index(heading))
    return text[start + len("GET ") : text.index("\n", start)]


def _shape(value: Any) -> Any:
    """Field names and nesting, without the values."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return None


def _covers(documented: Any, answered: Any) -> None:
    if isinstance(documented, dict):
        assert isinstance(answered, dict), answered
        for key, item in documented.items():
            assert key in answered, key
            _covers(item, answered[key])


async def test_patient_analytics_request_answers_every_documented_field(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await signed_in(client, runtime, role=Role.DOCTOR)
    path = _request_path("#### Get Patient Analytics")
    assert path == (
        "/api/v1/analytics/patients?start_date=2024-01-01&end_date=2024-01-31"
        "&metrics=registrations,visits,revenue"
    )
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    _covers(_shape(response_body("#### Get Patient Analytics")), body)
    assert (body["start_date"], body["end_date"]) == ("2024-01-01", "2024-01-31")
    # Money is written with two decimals, as everywhere in the API.
    assert b'"total":0.00' in response.content


async def test_clinical_quality_request_answers_every_documented_field(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await signed_in(client, runtime, role=Role.NURSE)
    path = _request_path("#### Get Clinical Quality Metrics")
    assert path == "/api/v1/analytics/clinical-quality?start_date=2024-01-01&end_date=2024-01-31"
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    documented = response_body("#### Get Clinical Quality Metrics")
    _covers(_shape(documented), body)
    assert {name: m["target"] for name, m in body["metrics"].items()} == {
        name: m["target"] for name, m in documented["metrics"].items()
    }
