"""Reaching behind the API: the stored auth rows a test sets up or inspects, and an app built
over the same database with settings of the test's own."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
from sqlalchemy import select, update

from hms.app import create_app
from hms.auth.models import AuthSession, User
from hms.db import utcnow
from hms.runtime import Runtime
from tests.conftest import test_settings as base_settings


async def stored_user(runtime: Runtime, username: str) -> User:
    async with runtime.sessionmaker() as session:
        user = (await session.execute(select(User).where(User.username == username))).scalar_one()
        return user


async def set_user(runtime: Runtime, username: str, **values: Any) -> None:
    async with runtime.sessionmaker() as session:
        await session.execute(update(User).where(User.username == username).values(**values))
        await session.commit()


def session_id_of(access_token: str) -> uuid.UUID:
    """The sign-in an access token belongs to (read without verifying: the test made it)."""
    claims = jwt.decode(access_token, options={"verify_signature": False})
    return uuid.UUID(claims["sid"])


async def stored_session(runtime: Runtime, session_id: uuid.UUID) -> AuthSession:
    async with runtime.sessionmaker() as session:
        row = await session.get(AuthSession, session_id)
        assert row is not None
        return row


async def set_session(runtime: Runtime, session_id: uuid.UUID, **values: Any) -> None:
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(AuthSession).where(AuthSession.id == session_id).values(**values)
        )
        await session.commit()


async def idle_for(runtime: Runtime, session_id: uuid.UUID, duration: timedelta) -> None:
    """Pretend the sign-in was last used `duration` ago."""
    await set_session(runtime, session_id, last_seen_at=utcnow() - duration)


@asynccontextmanager
async def app_with(
    database_url: str, data_dir: Path, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """A second app over the test's database, configured with `overrides`."""
    runtime = Runtime.build(base_settings(database_url, data_dir, **overrides))
    transport = httpx.ASGITransport(
        app=create_app(runtime.settings, runtime), raise_app_exceptions=False
    )
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, runtime
    finally:
        await runtime.close()
