"""create_app(): the one ASGI application with every door mounted."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from hms import __version__
from hms.api import ws
from hms.api.docs import OPENAPI_PATH, mount_docs
from hms.api.errors import install_error_handlers
from hms.api.fhir.router import mount_fhir
from hms.api.graphql.router import mount_graphql
from hms.api.middleware import RequestContextMiddleware, RequestGuardMiddleware
from hms.api.openapi import install_openapi
from hms.api.ratelimit import RateLimitMiddleware, RateLimits
from hms.api.rest import (
    analytics,
    appointments,
    audit,
    auth,
    billing,
    clinical,
    emergency,
    health,
    laboratory,
    patients,
    pharmacy,
    providers,
)
from hms.api.routing import add_routes
from hms.audit.sealing import AuditSealer
from hms.clinical import coding
from hms.config import Settings, get_settings
from hms.runtime import Runtime

DESCRIPTION = """\
HMS keeps patients, clinical encounters, prescriptions, lab orders, appointments and billing.

Sign in with `POST /auth/token`, then send `Authorization: Bearer <access_token>`.
Errors use one envelope: `{"error": {"code", "message", "details", "timestamp", "request_id"}}`.
"""


def create_app(
    settings: Settings | None = None, runtime: Runtime | None = None, *, served: bool = False
) -> FastAPI:
    """The application; `served` when it is the process's one application (`hms serve`)."""
    settings = settings or get_settings()
    runtime = runtime or Runtime.build(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Read before the server listens, so no request waits for it.
        await asyncio.to_thread(coding.load)
        ws.startup(app)
        sealer = AuditSealer(runtime.sessionmaker, runtime.auth.secret_key)
        sealer.launch()
        if served:
            # What start-up loaded (the ICD-10-CM codes, the schema, the routes: about 200,000
            # objects) lives as long as the process: frozen, the garbage collector no longer
            # walks it, and a full collection pauses every request for ~10 ms instead of ~140.
            gc.collect()
            gc.freeze()
        yield
        await sealer.close()
        await ws.shutdown(app)
        await runtime.close()

    app = FastAPI(
        title="HMS API",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=OPENAPI_PATH,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    install_error_handlers(app)

    # The REST routes go into the application's own table (hms.api.routing says why).
    for module in (
        patients,
        providers,
        clinical,
        appointments,
        billing,
        laboratory,
        pharmacy,
        audit,
        emergency,
        analytics,
    ):
        add_routes(app.router, module.router, "/api/v1")
    add_routes(app.router, auth.router)
    add_routes(app.router, health.router)
    app.include_router(ws.router)
    mount_graphql(app, settings)
    mount_fhir(app, runtime)
    mount_docs(app)
    install_openapi(app)

    # Added innermost first: the request id wraps everything, so even a 413 or 429 carries it.
    app.add_middleware(RequestGuardMiddleware, max_bytes=settings.max_body_bytes)
    if settings.rate_limit_enabled:
        app.add_middleware(
            RateLimitMiddleware,
            limits=RateLimits(settings.rate_limit, settings.redis_url),
            auth=runtime.auth,
        )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "Idempotency-Key",
                "X-Request-ID",
                "Prefer",
            ],
            expose_headers=[
                "ETag",
                "Location",
                "X-Request-ID",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
                "Retry-After",
            ],
        )
    app.add_middleware(
        RequestContextMiddleware, security_headers=settings.security_headers, hsts=settings.hsts
    )
    return app


def create_served_app() -> FastAPI:
    """The factory `hms serve` gives uvicorn (also in each worker process)."""
    from hms.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings, served=True)
