"""Sign-in, token rotation, MFA enrolment and the per-request check of an access token."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hms.access.models import EmergencyAccessGrant
from hms.audit import service as audit
from hms.auth import mfa
from hms.auth.models import AuthSession, RefreshToken, User
from hms.auth.permissions import MFA_POLICY_ROLES, ROLE_PERMISSIONS, Actor, Permission, Role
from hms.auth.tokens import (
    AuthConfig,
    decode_access_token,
    hash_refresh_token,
    issue_access_token,
    new_refresh_token,
)
from hms.db import utcnow
from hms.errors import Conflict, MFAEnrollmentRequired, Unauthorized, ValidationFailed
from hms.providers.models import Provider

BAD_CREDENTIALS = "Invalid username or password"
SESSION_TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str


def normalize_username(username: str) -> str:
    return username.strip().lower()


async def login(
    session: AsyncSession,
    *,
    config: AuthConfig,
    username: str,
    password: str,
    mfa_code: str | None,
) -> TokenPair:
    """Exchange a password (and, when enrolled, a TOTP code) for a token pair.

    Unknown user, wrong password, inactive or locked account all answer alike, after the same
    argon2 work, so the answer does not tell which usernames exist.
    """
    name = normalize_username(username)
    user = (await session.execute(select(User).where(User.username == name))).scalar_one_or_none()
    password_ok = await asyncio.to_thread(
        config.passwords.verify, user.password_hash if user else None, password
    )
    if user is not None:
        # Re-read the account under a row lock, taken after the slow hash so that a flood of
        # attempts does not hold it: parallel attempts then each count towards the lockout,
        # and a TOTP code raced from two requests is spent once.
        user = (
            await session.execute(
                select(User)
                .where(User.id == user.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one()
    now = utcnow()
    locked = bool(user and user.locked_until and user.locked_until > now)
    if user is None or not user.is_active or locked or not password_ok:
        _record_failure(
            session,
            config=config,
            user=user,
            now=now,
            username=name,
            reason="locked" if locked else "bad_credentials",
        )
        raise Unauthorized(BAD_CREDENTIALS, keep_changes=True)
    if user.mfa_enabled:
        if not mfa_code:
            audit.record(
                session,
                actor=_actor(user),
                action="auth.login",
                outcome="failure",
                details={"reason": "mfa_required"},
            )
            raise Unauthorized(
                "MFA code required", details={"mfa_required": True}, keep_changes=True
            )
        step = mfa.accept(user.mfa_secret or "", mfa_code, last_step=user.mfa_last_step)
        if step is None:
            _record_failure(
                session, config=config, user=user, now=now, username=name, reason="bad_mfa_code"
            )
            raise Unauthorized(
                "Invalid or already used MFA code",
                details={"mfa_required": True},
                keep_changes=True,
            )
        user.mfa_last_step = step
    if config.passwords.needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(config.passwords.hash, password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    auth_session = AuthSession(
        id=uuid.uuid4(),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=config.refresh_ttl),
    )
    session.add(auth_session)
    pair = await _issue_pair(session, config=config, user=user, auth_session=auth_session, now=now)
    audit.record(
        session,
        actor=_actor(user, auth_session.id),
        action="auth.login",
        resource_type="session",
        resource_id=auth_session.id,
    )
    return pair


def _record_failure(
    session: AsyncSession,
    *,
    config: AuthConfig,
    user: User | None,
    now: datetime,
    username: str,
    reason: str,
) -> None:
    if user is not None and reason != "locked":
        user.failed_logins += 1
        if user.failed_logins >= config.max_failures:
            user.locked_until = now + timedelta(seconds=config.lockout_seconds)
            user.failed_logins = 0
            reason = "locked_out"
    audit.record(
        session,
        actor=_actor(user) if user else None,
        action="auth.login_failed",
        outcome="failure",
        details={"username": username[:150], "reason": reason},
    )


async def refresh(session: AsyncSession, *, config: AuthConfig, refresh_token: str) -> TokenPair:
    """Rotate: spend this refresh token and issue the next of its family.

    A token spent twice means it was stolen or replayed: the whole family is revoked.
    """
    now = utcnow()
    row = (
        await session.execute(
            select(RefreshToken, AuthSession, User)
            .join(AuthSession, AuthSession.id == RefreshToken.session_id)
            .join(User, User.id == AuthSession.user_id)
            .where(RefreshToken.token_hash == hash_refresh_token(refresh_token))
        )
    ).one_or_none()
    if row is None:
        raise Unauthorized("Invalid refresh token")
    token, auth_session, user = row.tuple()
    actor = _actor(user, auth_session.id)
    if auth_session.revoked_at is not None or auth_session.expires_at <= now or not user.is_active:
        audit.record(
            session,
            actor=actor,
            action="auth.refresh",
            outcome="failure",
            details={"reason": "session_ended"},
        )
        raise Unauthorized("Session has ended; sign in again", keep_changes=True)
    if _idle(auth_session, config, now):
        _revoke(auth_session, now, "idle_timeout")
        audit.record(
            session,
            actor=actor,
            action="auth.refresh",
            outcome="failure",
            details={"reason": "idle_timeout"},
        )
        raise Unauthorized("Session expired after inactivity; sign in again", keep_changes=True)
    spent = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        _revoke(auth_session, now, "refresh_token_reuse")
        audit.record(
            session,
            actor=actor,
            action="auth.refresh_reuse",
            outcome="failure",
            resource_type="session",
            resource_id=auth_session.id,
        )
        raise Unauthorized(
            "Refresh token already used; the session has been revoked", keep_changes=True
        )
    auth_session.last_seen_at = now
    pair = await _issue_pair(session, config=config, user=user, auth_session=auth_session, now=now)
    audit.record(
        session,
        actor=actor,
        action="auth.refresh",
        resource_type="session",
        resource_id=auth_session.id,
    )
    return pair


async def logout(session: AsyncSession, *, actor: Actor, refresh_token: str | None = None) -> None:
    """End the caller's session: its access and refresh tokens stop working at once."""
    now = utcnow()
    ids = {actor.session_id} if actor.session_id else set()
    if refresh_token:
        owned = (
            await session.execute(
                select(RefreshToken.session_id)
                .join(AuthSession, AuthSession.id == RefreshToken.session_id)
                .where(
                    RefreshToken.token_hash == hash_refresh_token(refresh_token),
                    AuthSession.user_id == actor.user_id,
                )
            )
        ).scalar_one_or_none()
        if owned:
            ids.add(owned)
    for sid in ids:
        auth_session = await session.get(AuthSession, sid)
        if auth_session and auth_session.revoked_at is None:
            _revoke(auth_session, now, "logout")
    audit.record(
        session,
        actor=actor,
        action="auth.logout",
        resource_type="session",
        resource_id=actor.session_id,
    )


def _session_check() -> Select[Any]:
    users, sessions = User.__table__, AuthSession.__table__
    providers, grants = Provider.__table__, EmergencyAccessGrant.__table__
    # Whether the user holds emergency-access grants, in the same statement: most users hold
    # none, and a second round trip per request would cost more than the subquery.
    grant_count = (
        select(func.count())
        .where(grants.c.user_id == users.c.id, grants.c.expires_at > bindparam("now"))
        .correlate(users)
        .scalar_subquery()
    )
    return (
        select(
            grant_count.label("grants"),
            users.c.role,
            users.c.username,
            users.c.patient_id,
            users.c.is_active,
            users.c.mfa_enabled,
            sessions.c.revoked_at,
            sessions.c.expires_at,
            sessions.c.last_seen_at,
            providers.c.id.label("provider_id"),
        )
        .select_from(
            users.join(sessions, sessions.c.user_id == users.c.id).outerjoin(
                providers, providers.c.user_id == users.c.id
            )
        )
        .where(sessions.c.id == bindparam("sid"), users.c.id == bindparam("uid"))
    )


# Built once: this runs on every request, so it is a prepared Core statement on the session's
# connection (only the columns the check needs, as plain rows) rather than a query built and
# loaded through the ORM each time.
_SESSION_CHECK = _session_check()
_SESSION_TOUCH = (
    update(AuthSession)
    .where(AuthSession.id == bindparam("sid"))
    .values(last_seen_at=bindparam("now"))
)


async def authenticate(
    session: AsyncSession, *, config: AuthConfig, token: str, enrolling: bool = False
) -> Actor:
    """The actor behind a bearer token, checked against its session on every request.

    Under the MFA policy a staff user without MFA is signed in only to enrol: every other call
    (`enrolling` false) is refused with MFA_ENROLLMENT_REQUIRED."""
    claims = decode_access_token(config, token)
    try:
        user_id, session_id = uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])
    except (ValueError, TypeError):
        raise Unauthorized("Invalid access token") from None
    now = utcnow()
    connection = await session.connection()
    row = (
        await connection.execute(_SESSION_CHECK, {"sid": session_id, "uid": user_id, "now": now})
    ).one_or_none()
    if row is None:
        raise Unauthorized("Invalid access token")
    if row.revoked_at is not None or row.expires_at <= now or not row.is_active:
        raise Unauthorized("Session has ended; sign in again")
    if now - row.last_seen_at > timedelta(seconds=config.idle_timeout):
        raise Unauthorized("Session expired after inactivity; sign in again")
    if now - row.last_seen_at > SESSION_TOUCH_INTERVAL:
        await connection.execute(_SESSION_TOUCH, {"sid": session_id, "now": now})
    actor = Actor.for_user(
        user_id=user_id,
        role=Role(row.role),
        username=row.username,
        patient_id=row.patient_id,
        provider_id=row.provider_id,
        session_id=session_id,
    )
    if not enrolling and mfa_enrolment_pending(config, role=actor.role, enrolled=row.mfa_enabled):
        session.info["actor"] = actor  # the refusal is audited as this user's
        raise MFAEnrollmentRequired()
    if row.grants and actor.can(Permission.EMERGENCY_ACCESS):
        granted = await session.execute(
            select(EmergencyAccessGrant.patient_id).where(
                EmergencyAccessGrant.user_id == user_id, EmergencyAccessGrant.expires_at > now
            )
        )
        actor = replace(actor, emergency_patients=frozenset(granted.scalars()))
    return actor


def mfa_enrolment_pending(config: AuthConfig, *, role: Role, enrolled: bool) -> bool:
    """Whether the MFA policy holds this user to enrolment before anything else."""
    return config.mfa_required and not enrolled and role in MFA_POLICY_ROLES


async def mfa_setup(session: AsyncSession, *, actor: Actor, config: AuthConfig) -> tuple[str, str]:
    user = await _current_user(session, actor)
    if user.mfa_enabled:
        raise Conflict("MFA is already enabled for this account")
    user.mfa_secret = mfa.new_secret()
    user.mfa_last_step = None
    audit.record(
        session, actor=actor, action="auth.mfa_setup", resource_type="user", resource_id=user.id
    )
    uri = mfa.provisioning_uri(user.mfa_secret, username=user.username, issuer=config.mfa_issuer)
    return user.mfa_secret, uri


async def mfa_verify(session: AsyncSession, *, actor: Actor, code: str) -> bool:
    """Confirm enrolment with a first code from the authenticator; later sign-ins need one."""
    user = await _current_user(session, actor)
    if not user.mfa_secret:
        raise Conflict("Start MFA enrolment with POST /auth/mfa/setup first")
    step = mfa.accept(user.mfa_secret, code, last_step=user.mfa_last_step)
    if step is None:
        audit.record(
            session,
            actor=actor,
            action="auth.mfa_verify",
            outcome="failure",
            resource_type="user",
            resource_id=user.id,
        )
        error = ValidationFailed("code", "Invalid or already used MFA code")
        # Keep the failed attempt's audit entry: nothing else in this unit of work changed.
        error.keep_changes = True
        raise error
    user.mfa_last_step = step
    user.mfa_enabled = True
    audit.record(
        session, actor=actor, action="auth.mfa_verify", resource_type="user", resource_id=user.id
    )
    return True


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def _current_user(session: AsyncSession, actor: Actor) -> User:
    user = await session.get(User, actor.user_id) if actor.user_id else None
    if user is None:
        raise Unauthorized()
    return user


async def _issue_pair(
    session: AsyncSession,
    *,
    config: AuthConfig,
    user: User,
    auth_session: AuthSession,
    now: datetime,
) -> TokenPair:
    token, token_hash = new_refresh_token()
    session.add(RefreshToken(session_id=auth_session.id, token_hash=token_hash, created_at=now))
    await session.flush()
    access = issue_access_token(
        config, user_id=user.id, session_id=auth_session.id, role=user.role, now=now
    )
    scope = " ".join(sorted(ROLE_PERMISSIONS[Role(user.role)]))
    return TokenPair(
        access_token=access, refresh_token=token, expires_in=config.access_ttl, scope=scope
    )


def _idle(auth_session: AuthSession, config: AuthConfig, now: datetime) -> bool:
    return now - auth_session.last_seen_at > timedelta(seconds=config.idle_timeout)


def _revoke(auth_session: AuthSession, now: datetime, reason: str) -> None:
    auth_session.revoked_at = now
    auth_session.revoked_reason = reason


def _actor(
    user: User, session_id: uuid.UUID | None = None, provider_id: uuid.UUID | None = None
) -> Actor:
    return Actor.for_user(
        user_id=user.id,
        role=Role(user.role),
        username=user.username,
        patient_id=user.patient_id,
        provider_id=provider_id,
        session_id=session_id,
    )


async def create_user(
    session: AsyncSession,
    *,
    actor: Actor,
    config: AuthConfig,
    username: str,
    password: str,
    role: Role,
    email: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    patient_id: uuid.UUID | None = None,
    with_mfa: bool = False,
) -> User:
    """Create an account. A `patient` account is linked to exactly one patient record."""
    from hms.auth.passwords import MIN_PASSWORD_LENGTH
    from hms.auth.permissions import Permission

    actor.require(Permission.USERS_MANAGE)
    name = normalize_username(username)
    if not name or len(name) > 150 or not all(c.isalnum() or c in "._-@" for c in name):
        raise ValidationFailed("username", "use 1-150 letters, digits and . _ - @")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if role == Role.PATIENT and patient_id is None:
        raise ValidationFailed("patient_id", "a patient account must be linked to a patient")
    if role != Role.PATIENT and patient_id is not None:
        raise ValidationFailed("patient_id", "only patient accounts are linked to a patient")
    if (await session.execute(select(User.id).where(User.username == name))).first():
        raise Conflict(f"Username '{name}' is taken")
    if (
        patient_id
        and (await session.execute(select(User.id).where(User.patient_id == patient_id))).first()
    ):
        raise Conflict("This patient already has an account")
    user = User(
        username=name,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=str(role),
        password_hash=await asyncio.to_thread(config.passwords.hash, password),
        patient_id=patient_id,
    )
    if with_mfa:
        user.mfa_secret, user.mfa_enabled = mfa.new_secret(), True
    session.add(user)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        resource_type="user",
        resource_id=user.id,
        patient_id=patient_id,
        details={"role": str(role)},
    )
    return user
