"""The OpenAPI document, with the error answers every operation can give.

FastAPI documents only the success status and its own 422 shape, which HMS never sends. An
integrator (and a schema-driven client generator) needs every status an operation may answer,
each with the one error envelope. They are derived here from the operation itself, so an
endpoint added later is documented without anyone remembering to."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"

DESCRIPTIONS = {
    400: "BAD_REQUEST: malformed JSON body or URL",
    401: "UNAUTHORIZED: missing, invalid or expired credentials",
    403: "FORBIDDEN: the signed-in role may not do this",
    404: "NOT_FOUND: no such record, or not visible to the caller",
    409: "CONFLICT: duplicate, double booking or a state conflict",
    412: "PRECONDITION_FAILED: the If-Match ETag is stale",
    413: "PAYLOAD_TOO_LARGE: the request body exceeds the limit",
    422: "VALIDATION_ERROR: details name the first bad field and list all of them",
    429: "RATE_LIMITED: too many requests; retry after Retry-After seconds",
    503: "SERVICE_UNAVAILABLE: the database or another backing service is down",
}
_HEADERS = {
    401: {"WWW-Authenticate": "Bearer"},
    429: {"Retry-After": "Seconds to wait before retrying"},
}
_WRITE_METHODS = ("post", "put", "patch", "delete")


class ErrorDetail(BaseModel):
    code: str = Field(description="Machine-readable, e.g. VALIDATION_ERROR")
    message: str = Field(description="For people, not for parsing")
    details: dict[str, Any] = Field(
        description="For 422: `field` and `error` of the first problem, `errors` listing all"
    )
    timestamp: datetime
    request_id: str | None = Field(description="Also in the X-Request-ID header and the log")


class ErrorEnvelope(BaseModel):
    """Every error HMS answers, whatever the status."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Route-level `responses=` for statuses the operation's shape does not reveal (a 401 from
    an endpoint that needs no token, for example)."""
    return {status: {"description": DESCRIPTIONS[status]} for status in statuses}


def _statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    # Any URL can be malformed (a NUL in a parameter), whatever the operation.
    found = {int(code) for code in operation.get("responses", {}) if int(code) >= 400} | {400}
    params = operation.get("parameters", [])
    if not path.startswith("/health/"):
        found |= {429, 503}
    if operation.get("security"):
        found |= {401, 403}
        if method in _WRITE_METHODS:
            found.add(409)
    if "requestBody" in operation:
        found |= {413, 422}
    if params:
        found.add(422)
    if any(p.get("in") == "path" for p in params):
        found.add(404)
    if method in ("put", "delete"):
        found.add(412)
    return found


def _error_response(status: int, given: dict[str, Any] | None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": (given or {}).get("description") or DESCRIPTIONS.get(status, "Error"),
        "content": {"application/json": {"schema": {"$ref": ENVELOPE_REF}}},
    }
    if status in _HEADERS:
        response["headers"] = {
            name: {"description": text, "required": True, "schema": {"type": "string"}}
            for name, text in _HEADERS[status].items()
        }
    return response


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    envelope = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(envelope.pop("$defs", {}))
    components["ErrorEnvelope"] = envelope
    # FastAPI's own 422 body ({"detail": [...]}) is never sent: the handler answers the envelope.
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "delete", "patch"):
                continue
            responses = operation.setdefault("responses", {})
            for status in _statuses(path, method, operation):
                responses[str(status)] = _error_response(status, responses.get(str(status)))
            operation["responses"] = dict(sorted(responses.items()))
    return schema


def install_openapi(app: FastAPI) -> None:
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
