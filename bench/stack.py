"""The duties on HMS's stack: the least that FastAPI and SQLAlchemy can do for a request.

`bench/floor.py`'s duties reference (the floor's SQL, the token and session check, the signed
audit entries, in the request's transaction), served the cheapest way the stack allows: one
catch-all FastAPI route that validates nothing, and the references' own SQL text sent through a
SQLAlchemy Core connection (`exec_driver_sql`, no ORM, no compiled statements, no session, no
Pydantic models), in autocommit so that a read that needs no transaction sends no BEGIN. The
connections carry the same JSON codecs as the floor's.

HMS can do no less than this while it answers through FastAPI and sends its SQL through
SQLAlchemy, so stack / floor is the ceiling of HMS / floor: a target above it cannot be met by
any such code, however it is written. HMS / stack is what HMS's own code adds to the stack's least.

    HMS_BENCH_DATABASE_URL=... HMS_SECRET_KEY=<HMS's> uvicorn bench.stack:app --port 8004
    HMS_BENCH_DATABASE_URL=... uvicorn bench.stack:plain --port 8005   # no duties
"""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

import orjson
from bench.floor import Duties, Floor, _default, _init
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


class CoreConnection:
    """The asyncpg calls the references make, sent through a SQLAlchemy Core connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.in_transaction = False

    def is_in_transaction(self) -> bool:
        return self.in_transaction

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        # The connection is in autocommit: BEGIN and COMMIT are sent as asyncpg's own
        # transaction() sends them, one round trip each.
        await self.conn.exec_driver_sql("BEGIN")
        self.in_transaction = True
        try:
            yield
        except BaseException:
            await self.conn.exec_driver_sql("ROLLBACK")
            raise
        else:
            await self.conn.exec_driver_sql("COMMIT")
        finally:
            self.in_transaction = False

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        result = await self.conn.exec_driver_sql(sql, args)
        return [dict(row) for row in result.mappings()]

    async def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None:
        row = (await self.conn.exec_driver_sql(sql, args)).mappings().first()
        return dict(row) if row is not None else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        return (await self.conn.exec_driver_sql(sql, args)).scalar()

    async def execute(self, sql: str, *args: Any) -> None:
        await self.conn.exec_driver_sql(sql, args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.conn.exec_driver_sql(sql, [tuple(row) for row in rows])


def _engine() -> AsyncEngine:
    url = os.environ["HMS_BENCH_DATABASE_URL"].split("://", 1)[1]
    engine = create_async_engine(
        f"postgresql+asyncpg://{url}",
        # As many connections as HMS's engine keeps for the benchmark (HMS_DB_POOL_SIZE=10);
        # with fewer than the load's 32 requests, the waits for one are unfair and the tail long.
        pool_size=20,
        max_overflow=0,
        isolation_level="AUTOCOMMIT",
    )

    @event.listens_for(engine.sync_engine, "connect")
    def codecs(dbapi_connection: Any, _record: Any) -> None:
        # After SQLAlchemy's own: JSON in and out as the floor's connections have it.
        dbapi_connection.run_async(_init)

    return engine


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.engine = _engine()
    # As `hms serve` does: what start-up loaded is left out of full collections.
    gc.collect()
    gc.freeze()
    yield
    await app.state.engine.dispose()


def _app(reference: Floor) -> FastAPI:
    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.api_route("/api/v1/{path:path}", methods=["GET", "POST", "PUT"])
    async def handle(request: Request, path: str) -> Response:
        body = await request.body()
        query = {k: v[0] for k, v in parse_qs(request.url.query).items()}
        parts = path.strip("/").split("/")
        async with request.app.state.engine.connect() as sa_conn:
            conn: Any = CoreConnection(sa_conn)
            status, payload = await reference.handle(
                conn,
                request.scope,
                lambda: reference.dispatch(conn, request.method, parts, query, body),
            )
        content = orjson.dumps(payload, default=_default)
        return Response(content, status_code=status, media_type="application/json")

    return app


app = _app(Duties())
# The floor's work alone on the stack (no token, session or audit): with `app` beside the
# floor and the duties, it tells what the stack costs from what the duties cost.
plain = _app(Floor())
