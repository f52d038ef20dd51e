"""What REST endpoints depend on: the unit of work, the signed-in actor, pagination."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hms.audit import service as audit
from hms.auth import service as auth_service
from hms.auth.permissions import Actor
from hms.auth.tokens import AuthConfig
from hms.db import commit, discard_hooks
from hms.errors import Conflict, HMSError, Unauthorized
from hms.runtime import Runtime

bearer = HTTPBearer(auto_error=False, description="An access token from POST /auth/token")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def request_context(request: Request) -> audit.RequestContext:
    return audit.RequestContext(
        request_id=getattr(request.state, "request_id", None),
        ip_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One request, one transaction: committed when the endpoint succeeds (before the response
    is sent), rolled back when it fails. Denials are audited in a transaction of their own."""
    runtime = get_runtime(request)
    ctx = request_context(request)
    async with runtime.sessionmaker() as session:
        audit.set_request_context(session, ctx)
        try:
            yield session
            await commit(session)
        except HMSError as exc:
            if exc.keep_changes:
                await commit(session)
            else:
                await session.rollback()
                discard_hooks(session)
                await _audit_denial(runtime, ctx, session.info.get("actor"), exc)
            raise
        except IntegrityError:
            await session.rollback()
            discard_hooks(session)
            raise Conflict("The request conflicts with an existing record") from None
        except BaseException:
            await session.rollback()
            discard_hooks(session)
            raise


async def _audit_denial(
    runtime: Runtime, ctx: audit.RequestContext, actor: Actor | None, exc: HMSError
) -> None:
    # Anonymous calls without a token are not worth a row each; a refused token or role is.
    if exc.status == 403 or (exc.status == 401 and getattr(exc, "token_presented", False)):
        await audit.record_now(
            runtime.sessionmaker,
            ctx,
            actor=actor,
            action="access.denied",
            outcome="denied",
            details={"status": exc.status, "reason": exc.message[:200]},
        )


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def get_actor(request: Request, session: SessionDep, credentials: Credentials) -> Actor:
    return await _signed_in(request, session, credentials, enrolling=False)


async def get_enrolling_actor(
    request: Request, session: SessionDep, credentials: Credentials
) -> Actor:
    """The signed-in user, even one the MFA policy holds to enrolment (for the enrolment
    endpoints themselves, /auth/me and sign-out)."""
    return await _signed_in(request, session, credentials, enrolling=True)


async def _signed_in(
    request: Request,
    session: AsyncSession,
    credentials: HTTPAuthorizationCredentials | None,
    *,
    enrolling: bool,
) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Authentication required: send 'Authorization: Bearer <token>'")
    try:
        actor = await auth_service.authenticate(
            session,
            config=get_runtime(request).auth,
            token=credentials.credentials,
            enrolling=enrolling,
        )
    except Unauthorized as exc:
        exc.token_presented = True  # type: ignore[attr-defined]
        raise
    session.info["actor"] = actor
    request.state.user_id = str(actor.user_id)
    request.scope.setdefault("state", {})["user_id"] = str(actor.user_id)
    return actor


ActorDep = Annotated[Actor, Depends(get_actor)]
EnrollingActorDep = Annotated[Actor, Depends(get_enrolling_actor)]


async def get_auth_config(request: Request) -> AuthConfig:
    # A coroutine: FastAPI runs a plain function in a worker thread (see `pagination`).
    return get_runtime(request).auth


AuthConfigDep = Annotated[AuthConfig, Depends(get_auth_config)]


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


# Dependencies are coroutines: FastAPI runs a plain function in a worker thread, a thread hop
# per request for two integers.
async def pagination(
    limit: Annotated[int, Query(ge=1, le=100, description="Page size, 1 to 100")] = 10,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip")] = 0,
) -> Page:
    return Page(limit=limit, offset=offset)


PageDep = Annotated[Page, Depends(pagination)]
