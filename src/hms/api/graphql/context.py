"""What a GraphQL request carries: its unit of work, the signed-in actor and its DataLoaders.

One request is one transaction, as for REST: committed when the operation answers without
errors, rolled back when any field fails (denials are then audited on their own)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.fastapi import BaseContext

from hms.api.deps import _audit_denial, get_runtime, request_context
from hms.api.graphql.loaders import Loaders
from hms.audit import service as audit
from hms.auth import service as auth_service
from hms.auth.permissions import Actor
from hms.db import commit, discard_hooks
from hms.errors import Conflict, HMSError, Unauthorized

FAILURE = "graphql_failure"


class GraphQLContext(BaseContext):
    def __init__(self, request: Request, session: AsyncSession) -> None:
        super().__init__()
        self.http_request = request
        self._session = session
        # Sibling fields resolve concurrently; one AsyncSession runs one statement at a time.
        self._lock = asyncio.Lock()
        self._actor: Actor | None = None
        self.loaders = Loaders(self)

    @asynccontextmanager
    async def db(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            yield self._session

    async def actor(self) -> Actor:
        """The Bearer token's user, authenticated once per request (as REST does)."""
        if self._actor is None:
            header = self.http_request.headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("Authentication required: send 'Authorization: Bearer <token>'")
            async with self.db() as session:
                if self._actor is None:
                    try:
                        actor = await auth_service.authenticate(
                            session,
                            config=get_runtime(self.http_request).auth,
                            token=token.strip(),
                        )
                    except Unauthorized as exc:
                        exc.token_presented = True  # type: ignore[attr-defined]
                        raise
                    session.info["actor"] = actor
                    self.http_request.state.user_id = str(actor.user_id)
                    self._actor = actor
        return self._actor


def fail(request: Request, error: BaseException) -> None:
    """Mark the request's work as failed: the unit of work rolls back (first failure wins)."""
    if getattr(request.state, FAILURE, None) is None:
        setattr(request.state, FAILURE, error)


async def graphql_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The unit of work: commit after a clean answer, roll back after any error."""
    runtime = get_runtime(request)
    ctx = request_context(request)
    async with runtime.sessionmaker() as session:
        audit.set_request_context(session, ctx)
        try:
            yield session
        except BaseException:
            await session.rollback()
            discard_hooks(session)
            raise
        error = getattr(request.state, FAILURE, None)
        if error is None:
            try:
                await commit(session)
            except IntegrityError:
                await session.rollback()
                discard_hooks(session)
                raise Conflict("The request conflicts with an existing record") from None
            return
        await session.rollback()
        discard_hooks(session)
        if isinstance(error, HMSError):
            await _audit_denial(runtime, ctx, session.info.get("actor"), error)


async def graphql_context(
    request: Request,
    session: Annotated[AsyncSession, Depends(graphql_session, scope="function")],
) -> GraphQLContext:
    return GraphQLContext(request, session)
