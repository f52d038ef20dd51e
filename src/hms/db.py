"""Engine, sessions and the column types every domain shares."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime, MetaData, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampedMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


SqliteHook = Callable[[Any], None]
_sqlite_connect_hooks: list[SqliteHook] = []


def on_sqlite_connect(hook: SqliteHook) -> SqliteHook:
    """Register a function run on every new SQLite DB-API connection (e.g. to add SQL functions)."""
    _sqlite_connect_hooks.append(hook)
    return hook


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            echo=echo,
            hide_parameters=True,
            connect_args={"timeout": 30},
            json_serializer=_json_text,
            json_deserializer=orjson.loads,
        )
        _configure_sqlite(engine)
        return engine
    # hide_parameters: SQL errors in logs must not carry patient data.
    engine = create_async_engine(
        url,
        echo=echo,
        # Every connection stays open: an overflow connection is closed as soon as it is
        # returned, so under steady load the server would connect and disconnect per request.
        pool_size=2 * pool_size,
        max_overflow=0,
        hide_parameters=True,
        # No JIT compilation: a request's statements are small, and a planner estimate that
        # crosses PostgreSQL's JIT threshold would spend hundreds of milliseconds compiling.
        connect_args={"server_settings": {"jit": "off"}},
        # JSON columns (addresses, clinical content, audit details, events) are read and written
        # on most requests.
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    return engine


def _refuse_closed_connection(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """Hand out only connections that are still open, without a round trip per request
    (pool_pre_ping would send one): a connection the server closed (a restart, an
    administrator's terminate, an idle timeout) has seen the close on its socket, and the pool
    replaces it with a new one. A connection that breaks silently fails its first statement and
    is then discarded."""
    driver = getattr(dbapi_conn, "driver_connection", None)
    if driver is not None and driver.is_closed():
        raise DisconnectionError("the database closed this connection")


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take over transaction control so every transaction starts with BEGIN IMMEDIATE:
        # SQLite then serialises writers up front instead of failing a read-to-write upgrade.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
        for hook in _sqlite_connect_hooks:
            hook(dbapi_conn)

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def dialect_name(session: AsyncSession) -> str:
    bind = session.get_bind()
    return bind.dialect.name


BeforeCommitHook = Callable[[AsyncSession], Any]


def add_before_commit(session: AsyncSession, key: str, hook: BeforeCommitHook) -> None:
    """Run `hook(session)` (async) once, just before `commit(session)` commits."""
    hooks: dict[str, BeforeCommitHook] = session.info.setdefault("before_commit", {})
    hooks.setdefault(key, hook)


def add_after_commit(session: AsyncSession, key: str, hook: BeforeCommitHook) -> None:
    """Run `hook(session)` (async) once, after `commit(session)` has committed."""
    hooks: dict[str, BeforeCommitHook] = session.info.setdefault("after_commit", {})
    hooks.setdefault(key, hook)


async def commit(session: AsyncSession) -> None:
    """Commit the unit of work, after the hooks (the audit trail) have added their rows;
    then run what waits for the commit (publishing domain events)."""
    hooks: dict[str, BeforeCommitHook] = session.info.pop("before_commit", {})
    for hook in hooks.values():
        await hook(session)
    await session.commit()
    after: dict[str, BeforeCommitHook] = session.info.pop("after_commit", {})
    for hook in after.values():
        await hook(session)


def discard_hooks(session: AsyncSession) -> None:
    """Forget queued audit rows and events of a unit of work that is rolled back."""
    for key in ("before_commit", "after_commit", "audit_pending", "events_pending"):
        session.info.pop(key, None)
