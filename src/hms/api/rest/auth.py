"""Sign-in, token refresh, sign-out, the current user, and TOTP enrolment."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hms.api.deps import AuthConfigDep, EnrollingActorDep, SessionDep
from hms.api.openapi import error_responses
from hms.api.responses import json_response
from hms.auth import service
from hms.auth.permissions import ROLE_PERMISSIONS, Role
from hms.auth.schemas import (
    LogoutRequest,
    Me,
    MFASetupResponse,
    MFAVerifyRequest,
    MFAVerifyResponse,
    RefreshRequest,
    TokenRequest,
    TokenResponse,
)
from hms.errors import Unauthorized

router = APIRouter(prefix="/auth", tags=["auth"])


def _tokens(pair: service.TokenPair) -> Response:
    return json_response(
        TokenResponse(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
            scope=pair.scope,
        )
    )


@router.post("/token", response_model=TokenResponse, responses=error_responses(401))
async def issue_token(body: TokenRequest, session: SessionDep, config: AuthConfigDep) -> Response:
    """Sign in with username and password (and `mfa_code` once MFA is enrolled).

    Returns a short-lived access token (send it as `Authorization: Bearer ...`) and a refresh
    token. Wrong usernames, wrong passwords and locked accounts all get the same 401."""
    pair = await service.login(
        session,
        config=config,
        username=body.username,
        password=body.password,
        mfa_code=body.mfa_code,
    )
    return _tokens(pair)


@router.post("/refresh", response_model=TokenResponse, responses=error_responses(401))
async def refresh_token(
    body: RefreshRequest, session: SessionDep, config: AuthConfigDep
) -> Response:
    """Exchange a refresh token for a new pair. Each refresh token works once; presenting a
    spent one revokes the whole session."""
    return _tokens(await service.refresh(session, config=config, refresh_token=body.refresh_token))


@router.post("/logout", status_code=204, response_class=Response)
async def logout(
    request: Request,
    session: SessionDep,
    actor: EnrollingActorDep,
    body: LogoutRequest | None = None,
) -> Response:
    """End this session: its access and refresh tokens stop working immediately."""
    await service.logout(session, actor=actor, refresh_token=body.refresh_token if body else None)
    return Response(status_code=204)


@router.get("/me", response_model=Me)
async def me(session: SessionDep, actor: EnrollingActorDep, config: AuthConfigDep) -> Response:
    """The signed-in user, with its role and permissions. `mfa_enrollment_required` is true
    while the MFA policy (HMS_MFA_REQUIRED) holds the account to enrolment."""
    user = await service.get_user(session, actor.user_id) if actor.user_id else None
    if user is None:
        raise Unauthorized()
    return json_response(
        Me(
            id=user.id,
            username=user.username,
            role=user.role,
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
            patient_id=user.patient_id,
            provider_id=actor.provider_id,
            mfa_enabled=user.mfa_enabled,
            permissions=sorted(ROLE_PERMISSIONS[actor.role]),
            mfa_enrollment_required=service.mfa_enrolment_pending(
                config, role=Role(user.role), enrolled=user.mfa_enabled
            ),
        )
    )


@router.post("/mfa/setup", response_model=MFASetupResponse)
async def mfa_setup(
    session: SessionDep, actor: EnrollingActorDep, config: AuthConfigDep
) -> Response:
    """Start TOTP enrolment: returns the secret and an `otpauth://` URI for an authenticator."""
    secret, uri = await service.mfa_setup(session, actor=actor, config=config)
    return json_response(MFASetupResponse(secret=secret, otpauth_uri=uri))


@router.post("/mfa/verify", response_model=MFAVerifyResponse)
async def mfa_verify(
    body: MFAVerifyRequest, session: SessionDep, actor: EnrollingActorDep
) -> Response:
    """Confirm enrolment with a current code. From then on sign-in needs `mfa_code`; a code
    is accepted once only."""
    enabled = await service.mfa_verify(session, actor=actor, code=body.code)
    return json_response(MFAVerifyResponse(mfa_enabled=enabled))
