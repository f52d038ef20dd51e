"""The FHIR door's one error handler: every failure under `/fhir/R4` is an OperationOutcome
with the HTTP status REST would give, and every answer is `application/fhir+json`."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hms.api.errors import infrastructure_error, validation_details
from hms.errors import HMSError

log = logging.getLogger("hms.fhir")

MEDIA_TYPE = "application/fhir+json"
# OperationOutcome.issue.code (http://hl7.org/fhir/issue-type) for each HTTP status.
ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-long",
    422: "invalid",
    429: "throttled",
    503: "transient",
}


def fhir_response(
    body: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def issue(
    severity: str, code: str, diagnostics: str, expression: str | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        found["expression"] = [expression]
    return found


def outcome(*issues: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": list(issues)}


def outcome_response(
    status: int,
    message: str,
    *,
    expression: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    code = ISSUE_TYPES.get(status, "exception")
    body = outcome(issue("error" if status < 500 else "fatal", code, message, expression))
    return fhir_response(body, status=status, headers=headers)


def install_outcome_handlers(app: FastAPI) -> None:
    @app.exception_handler(HMSError)
    async def _domain(request: Request, exc: HMSError) -> Response:
        field = exc.details.get("field") if exc.status == 422 else None
        return outcome_response(exc.status, exc.message, expression=field, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        details = validation_details(list(exc.errors()))
        return outcome_response(
            400, f"{details['field']}: {details['error']}", expression=details["field"]
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {
            404: "No such FHIR endpoint: see /fhir/R4/metadata",
            405: "Method not allowed: this FHIR server is read-only",
        }
        message = messages.get(exc.status_code)
        if message is None:
            message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        headers = dict(exc.headers or {})
        if exc.status_code == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        return outcome_response(exc.status_code, message, headers=headers)

    # The database's and backing services' failures mean what they mean on REST; their own
    # handler, not a branch of the catch-all below (see hms.api.errors).
    async def _infrastructure(request: Request, exc: Exception) -> Response:
        if (known := infrastructure_error(exc)) is None:
            return await _unexpected(request, exc)
        return await _domain(request, known)

    app.add_exception_handler(DBAPIError, _infrastructure)
    app.add_exception_handler(OSError, _infrastructure)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error", exc_info=exc)
        return outcome_response(500, "Internal server error")
