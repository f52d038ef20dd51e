"""The API document's client examples, run unchanged against a real `hms serve` over TCP."""

from __future__ import annotations

import ast
import re
from typing import Any

import requests

from tests.seed_examples import python_client_source, response_body, seed_text
from tests.server.conftest import SEED_PASSWORD, SEED_USERNAME
from tests.server.support import Server

ENVELOPE_KEYS = {"code", "message", "details", "timestamp", "request_id"}


def _seed_python_example() -> tuple[str, ast.Module]:
    """The client class as written (everything before its usage example), and the usage
    example parsed, to read the data it sends."""
    source = python_client_source()
    cut = source.index("# Usage example")
    return source[:cut], ast.parse(source[cut:])


def _usage_value(usage: ast.Module, name: str, **names: Any) -> Any:
    """The value the seed's usage example assigns to `name`, evaluated with `names` bound."""
    for node in usage.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            code = compile(ast.Expression(node.value), "<seed usage example>", "eval")
            return eval(code, {"__builtins__": {}}, names)
    raise AssertionError(f"the seed's usage example assigns no {name}")


def _http_example(first_line: str) -> tuple[str, str, dict[str, str], str]:
    """Method, path, headers and body of the seed's raw HTTP example starting `first_line`."""
    text = seed_text()
    start = text.index(f"{first_line}\n")
    block = text[start : text.index("```", start)]
    head, _, body = block.partition("\n\n")
    request_line, *header_lines = head.splitlines()
    method, path = request_line.split(" ", 1)
    headers = dict(line.split(": ", 1) for line in header_lines)
    return method, path, headers, body.strip()


def _assert_envelope(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == ENVELOPE_KEYS
    assert error["request_id"] == response.headers["X-Request-ID"]
    return dict(error)


def test_seed_python_client_creates_and_reads_a_patient(seed_server: Server) -> None:
    client_class_source, usage = _seed_python_example()
    namespace: dict[str, Any] = {}
    exec(client_class_source, namespace)
    client = namespace["HMSAPIClient"](
        seed_server.url, seed_server.token(SEED_USERNAME, SEED_PASSWORD)
    )

    patient_data = _usage_value(usage, "patient_data")
    patient = client.create_patient(patient_data)
    for name, value in patient_data.items():
        assert patient[name] == value, name
    assert re.fullmatch(r"P\d{8}", patient["patient_id"])
    assert patient["_links"]["self"]["href"] == f"{seed_server.url}/api/v1/patients/{patient['id']}"

    by_number = client.get_patient(patient["patient_id"])
    by_id = client.get_patient(patient["id"])
    assert by_number == by_id
    assert by_id["id"] == patient["id"] and by_id["email"] == patient_data["email"]

    appointment_data = _usage_value(usage, "appointment_data", patient=patient)
    try:
        client.create_appointment(appointment_data)
    except requests.HTTPError as exc:
        response = exc.response
    else:
        raise AssertionError("the seed's appointment names a provider this server does not have")
    paths = requests.get(f"{seed_server.url}/api/v1/openapi.json", timeout=10).json()["paths"]
    if "post" not in paths.get("/api/v1/appointments", {}):
        error = _assert_envelope(response, 404)
        assert error["code"] == "NOT_FOUND"
    else:
        # With appointments served, the seed's made-up provider (or its 2024 date) is refused.
        assert response.status_code in (404, 422), response.text
        _assert_envelope(response, response.status_code)


def test_seed_token_example_then_a_bearer_request(seed_server: Server) -> None:
    method, path, headers, body = _http_example("POST /auth/token")
    response = requests.request(method, f"{seed_server.url}{path}", headers=headers, data=body)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert set(response_body("#### JWT Authentication")) <= set(tokens)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0

    method, path, headers, _ = _http_example("GET /api/v1/patients")
    headers["Authorization"] = f"Bearer {tokens['access_token']}"
    listed = requests.request(method, f"{seed_server.url}{path}", headers=headers)
    assert listed.status_code == 200, listed.text
    assert {"patients", "total", "limit", "offset", "_links"} <= set(listed.json())
    for name in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert listed.headers[name].isdigit(), name

    headers["Authorization"] = "Bearer not-a-token"
    refused = requests.request(method, f"{seed_server.url}{path}", headers=headers)
    assert _assert_envelope(refused, 401)["code"] == "UNAUTHORIZED"
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
