"""Access tokens (short-lived JWTs, RFC 9068 profile) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import jwt

from hms.auth.passwords import Passwords
from hms.config import Settings
from hms.errors import Unauthorized

ACCESS_TOKEN_TYPE = "at+jwt"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class AuthConfig:
    secret_key: str
    issuer: str
    audience: str
    access_ttl: int
    refresh_ttl: int
    idle_timeout: int
    max_failures: int
    lockout_seconds: int
    mfa_issuer: str
    passwords: Passwords
    mfa_required: bool = False
    # Tokens whose signature and claims this process has verified, with their claims: a token
    # is sent with every request, and verifying it again costs more than the rest of a read.
    # Only the lifetime is checked again on a hit; the session behind the token is checked
    # in the database on every request (hms.auth.service.authenticate).
    verified: dict[str, dict[str, Any]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthConfig:
        return cls(
            secret_key=settings.resolved_secret_key(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
            idle_timeout=settings.session_idle_timeout,
            max_failures=settings.login_max_failures,
            lockout_seconds=settings.login_lockout_seconds,
            mfa_issuer=settings.mfa_issuer,
            mfa_required=settings.mfa_required,
            passwords=Passwords(
                time_cost=settings.argon2_time_cost,
                memory_kib=settings.argon2_memory_kib,
                parallelism=settings.argon2_parallelism,
            ),
        )

    @property
    def signing_key(self) -> bytes:
        return hashlib.sha256(b"hms-jwt:" + self.secret_key.encode()).digest()


def issue_access_token(
    config: AuthConfig, *, user_id: uuid.UUID, session_id: uuid.UUID, role: str, now: datetime
) -> str:
    claims = {
        "iss": config.issuer,
        "aud": config.audience,
        "sub": str(user_id),
        "sid": str(session_id),
        "role": role,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=config.access_ttl)).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(
        claims, config.signing_key, algorithm=ALGORITHM, headers={"typ": ACCESS_TOKEN_TYPE}
    )


VERIFIED_TOKENS = 10_000


def decode_access_token(config: AuthConfig, token: str) -> dict[str, Any]:
    """Check signature, algorithm, type, issuer, audience and lifetime; return the claims."""
    known = config.verified.get(token)
    if known is not None:
        if known["exp"] <= time.time():
            config.verified.pop(token, None)
            raise Unauthorized("Access token expired")
        return known
    claims = _verify(config, token)
    if len(config.verified) >= VERIFIED_TOKENS:
        config.verified.clear()
    config.verified[token] = claims
    return claims


def _verify(config: AuthConfig, token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
        if header.get("typ") != ACCESS_TOKEN_TYPE or header.get("alg") != ALGORITHM:
            raise Unauthorized("Invalid access token")
        claims: dict[str, Any] = jwt.decode(
            token,
            config.signing_key,
            algorithms=[ALGORITHM],
            audience=config.audience,
            issuer=config.issuer,
            options={"require": ["exp", "iat", "sub", "sid", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Access token expired") from None
    except jwt.PyJWTError:
        raise Unauthorized("Invalid access token") from None
    return claims


def peek_subject(config: AuthConfig, token: str) -> str | None:
    """The verified subject of a token, or None; used to key rate limits without a query."""
    try:
        return str(decode_access_token(config, token)["sub"])
    except Unauthorized:
        return None


def new_refresh_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
