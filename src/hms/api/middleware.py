"""Pure ASGI middleware: request ids, the access log, security headers, the URL and body
guards."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any
from urllib.parse import unquote

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hms.api.errors import send_error

log = logging.getLogger("hms.access")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
HSTS = "max-age=63072000; includeSubDomains"
# The docs page and GraphiQL load their own scripts and styles from this server.
PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def route_template(scope: Scope) -> str:
    """The matched route's template, e.g. `/api/v1/patients/{patient_id}`.

    FastAPI (since 0.137) leaves the prefixes given to `include_router` out of the matched
    route's own path; they are the leading segments of the request path that the route's
    template does not account for (prefixes here hold no parameters)."""
    template = getattr(scope.get("route"), "path", None)
    if not template:
        return "unmatched"
    path = str(scope.get("path", ""))
    extra = path.count("/") - template.count("/")
    if extra > 0 and not path.startswith(template):
        return "/".join(path.split("/")[: extra + 1]) + template
    return str(template)


class RequestContextMiddleware:
    """Gives every request an id (the client's if sane), logs one JSON line per request with
    the route template only (paths and query strings can carry identifiers), and adds the
    security headers."""

    def __init__(self, app: ASGIApp, *, security_headers: bool = True, hsts: bool = False) -> None:
        self.app = app
        self.headers = dict(SECURITY_HEADERS) if security_headers else {}
        # HSTS goes with every answer given over HTTPS (TLS ended here, or by a trusted proxy
        # that says so); `hsts` also sends it over plain HTTP, for a proxy that does not.
        if hsts:
            self.headers["Strict-Transport-Security"] = HSTS
        self.https_headers = dict(self.headers)
        if security_headers:
            self.https_headers["Strict-Transport-Security"] = HSTS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        request_id = given if given and _SANE_ID.match(given) else f"req_{uuid.uuid4().hex}"
        scope.setdefault("state", {})["request_id"] = request_id
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        extra_headers = self.https_headers if scope.get("scheme") == "https" else self.headers

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                for key, value in extra_headers.items():
                    if key not in headers:
                        headers[key] = value
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope.get("method"),
                    "route": route_template(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": scope.get("state", {}).get("user_id"),
                },
            )


class BodyTooLarge(StarletteHTTPException):
    """An HTTPException so that the framework's body reader passes it on as a 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"Request body exceeds {max_bytes} bytes")


class RequestGuardMiddleware:
    """What every HTTP request must pass before it reaches a route (one layer, since each
    layer costs every request):

    - a URL carrying a NUL character (`%00`) is refused with 400: PostgreSQL cannot compare
      text with NUL, so a path or query parameter holding one would otherwise fail deep inside
      a query (request bodies are checked by the input models);
    - a body over the limit is refused with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if "\x00" in scope["path"] or (
            (b"%00" in query or b"\x00" in query) and "\x00" in unquote(query.decode("latin-1"))
        ):
            await send_error(
                scope,
                send,
                status=400,
                code="BAD_REQUEST",
                message="The URL must not contain NUL characters",
            )
            return
        length = _header(scope, b"content-length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        await send_error(
            scope,
            send,
            status=413,
            code="PAYLOAD_TOO_LARGE",
            message=f"Request body exceeds {self.max_bytes} bytes",
            details={"max_bytes": self.max_bytes},
        )


def client_address(scope: Scope) -> str:
    client: Any = scope.get("client")
    return str(client[0]) if client else "unknown"
