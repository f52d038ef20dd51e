"""The REST adapter's one error handler: every failure becomes the contract's envelope."""

from __future__ import annotations

import logging
import re
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hms.db import utcnow
from hms.errors import Conflict, HMSError, ServiceUnavailable

log = logging.getLogger("hms.api")


_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def _allowed_methods(request: Request) -> str | None:
    """The `Allow` header of a 405: every method of the resource at this path (a path may be
    served by several routes, and the framework names only the first one's). A literal path
    (`/patients/search`) is its own resource, not an instance of a template beside it."""
    paths = request.app.openapi()["paths"].items()
    for template, operations in sorted(paths, key=lambda item: item[0].count("{")):
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            return ", ".join(m.upper() for m in operations if m in _METHODS) or None
    return None


_STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}
_STATUS_MESSAGES = {
    404: "No such endpoint",
    405: "Method not allowed on this endpoint",
}


def error_body(
    *, status: int, code: str, message: str, details: dict[str, Any] | None, request_id: str | None
) -> bytes:
    return orjson.dumps(
        {
            "error": {
                "code": code,
                "message": message,
                "details": details or {},
                "timestamp": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "request_id": request_id,
            }
        }
    )


async def send_error(
    scope: Any,
    send: Any,
    *,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer with the envelope straight from ASGI middleware, before any route runs."""
    body = error_body(
        status=status,
        code=code,
        message=message,
        details=details,
        request_id=scope.get("state", {}).get("request_id"),
    )
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *raw,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def error_response(
    request: Request | None,
    *,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    request_id = getattr(request.state, "request_id", None) if request is not None else None
    return Response(
        error_body(
            status=status, code=code, message=message, details=details, request_id=request_id
        ),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    # Pydantic names union branches and validator functions in the location; drop them.
    parts = [p for p in parts if not p.startswith(("function-", "str", "Allergy", "tagged"))]
    return ".".join(parts) or "body"


def _message(err: dict[str, Any]) -> str:
    msg = str(err.get("msg", "Invalid value"))
    if err.get("type") == "extra_forbidden":
        return "Unknown field"
    if err.get("type") == "missing":
        return "Field required"
    return msg.removeprefix("Value error, ")


def validation_details(errors: list[dict[str, Any]]) -> dict[str, Any]:
    items = []
    seen = set()
    for err in errors:
        item = {"field": _field(tuple(err.get("loc", ()))), "error": _message(err)}
        key = (item["field"], item["error"])
        if key not in seen:
            seen.add(key)
            items.append(item)
    first = items[0] if items else {"field": "body", "error": "Invalid request"}
    return {"field": first["field"], "error": first["error"], "errors": items}


# SQLSTATE classes of a database that is not there to answer: connection exceptions, a lack of
# resources, and operator intervention (shutting down, starting up, cancelled).
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")


# A transaction the database gave up so that a concurrent one could go on (a deadlock, or a
# serialization failure): nothing of it was written, and the same request can simply be retried.
_RETRYABLE_SQLSTATES = ("40001", "40P01")


def _sqlstate(exc: DBAPIError) -> str | None:
    cause = exc.orig.__cause__ if exc.orig is not None else None
    found = getattr(exc.orig, "sqlstate", None) or getattr(cause, "sqlstate", None)
    return found if isinstance(found, str) else None


def concurrency_conflict(exc: DBAPIError) -> Conflict | None:
    """The conflict a transaction aborted by the database means for the client, if it was."""
    if _sqlstate(exc) not in _RETRYABLE_SQLSTATES:
        return None
    return Conflict(
        "The request collided with a concurrent one and was not applied; retry",
        headers={"Retry-After": "1"},
    )


def database_unavailable(exc: DBAPIError) -> bool:
    """Whether a database error means "the database is down or going away", not a bug: the
    driver lost or could not make its connection, or the server said it cannot serve now."""
    if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
        return True
    sqlstate = _sqlstate(exc)
    if sqlstate is not None and sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES:
        return True
    # asyncpg's own protocol state, left inconsistent by a connection cut mid-statement.
    cause = exc.orig.__cause__ if exc.orig is not None else None
    return type(cause).__name__ in ("InternalClientError", "ConnectionDoesNotExistError")


def infrastructure_error(exc: BaseException) -> HMSError | None:
    """What a failure of the database or a backing service means for the client, the same on
    every door: a conflict, the service unavailable, or None (a bug, answered as such)."""
    if isinstance(exc, IntegrityError):
        return Conflict("The request conflicts with an existing record")
    if isinstance(exc, DBAPIError):
        if (conflict := concurrency_conflict(exc)) is not None:
            log.warning("transaction aborted by the database: %s", _sqlstate(exc))
            return conflict
        if database_unavailable(exc):
            log.error("database unavailable: %s", type(exc.orig).__name__)
            return ServiceUnavailable(
                "The database is unavailable; try again shortly", headers={"Retry-After": "5"}
            )
        return None
    if isinstance(exc, OSError):
        # A connection refused or cut below the database driver (Redis, the database's socket).
        log.error("backing service unavailable: %s", type(exc).__name__)
        return ServiceUnavailable(
            "A backing service is unavailable; try again shortly", headers={"Retry-After": "5"}
        )
    return None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HMSError)
    async def _domain(request: Request, exc: HMSError) -> Response:
        return error_response(
            request,
            status=exc.status,
            code=exc.code,
            message=exc.message,
            details=exc.details,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(
                request,
                status=400,
                code="BAD_REQUEST",
                message="Malformed JSON in request body",
                details={"error": "Request body is not valid JSON"},
            )
        details = validation_details(errors)
        more = len(details["errors"]) - 1
        message = f"Invalid request data: {details['field']}: {details['error']}"
        if more > 0:
            message += f" (and {more} more)"
        return error_response(
            request, status=422, code="VALIDATION_ERROR", message=message, details=details
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = _STATUS_CODES.get(exc.status_code, "ERROR")
        message = exc.detail if isinstance(exc.detail, str) else "Request failed"
        if message in ("Not Found", "Method Not Allowed"):
            message = _STATUS_MESSAGES.get(exc.status_code, message)
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and (allow := _allowed_methods(request)):
            headers["Allow"] = allow
        if exc.status_code == 401:
            headers.setdefault("WWW-Authenticate", "Bearer")
        return error_response(
            request, status=exc.status_code, code=code, message=message, headers=headers
        )

    # Its own handler (for OSError too), not a branch of the catch-all below: the framework
    # re-raises what the catch-all answered, and the server then drops the client's connection
    # (keep-alive too).
    async def _infrastructure(request: Request, exc: Exception) -> Response:
        if (known := infrastructure_error(exc)) is None:
            return await _unexpected(request, exc)
        return await _domain(request, known)

    app.add_exception_handler(DBAPIError, _infrastructure)
    app.add_exception_handler(OSError, _infrastructure)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error", exc_info=exc)
        return error_response(
            request, status=500, code="INTERNAL_ERROR", message="Internal server error"
        )
