"""Liveness and readiness for load balancers and orchestrators (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import text

from hms.api.deps import get_runtime
from hms.api.openapi import error_responses
from hms.api.responses import json_response
from hms.errors import ServiceUnavailable

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> Response:
    """The process is up."""
    return json_response({"status": "ok"})


@router.get("/ready", responses=error_responses(503))
async def ready(request: Request) -> Response:
    """The database answers; 503 otherwise."""
    runtime = get_runtime(request)
    try:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        raise ServiceUnavailable("Database is not reachable") from None
    return json_response({"status": "ready", "database": "ok"})
