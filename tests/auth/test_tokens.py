"""Access tokens: anything but an intact, current token of an active sign-in is a 401 with
the Bearer challenge and the error envelope."""

from __future__ import annotations

import base64
import json
import uuid
import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import jwt

from hms.auth.permissions import Role
from hms.auth.tokens import AuthConfig, issue_access_token
from hms.db import utcnow
from hms.runtime import Runtime
from tests.auth.expect import unauthorized
from tests.auth.stored import session_id_of, set_user
from tests.factories import login, make_user

Forge = Callable[[str, AuthConfig], str]


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def resign(token: str, config: AuthConfig, *, key: bytes | None = None, **changes: Any) -> str:
    """The same token with some claims changed (a None value drops the claim), signed again."""
    claims = {**claims_of(token), **changes}
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(
        claims, key or config.signing_key, algorithm="HS256", headers={"typ": "at+jwt"}
    )


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def tampered_signature(token: str, config: AuthConfig) -> str:
    head, body, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{body}.{flipped}"


def tampered_claims(token: str, config: AuthConfig) -> str:
    head, _, signature = token.split(".")
    return f"{head}.{b64({**claims_of(token), 'role': 'admin'})}.{signature}"


def expired(token: str, config: AuthConfig) -> str:
    claims = claims_of(token)
    return issue_access_token(
        config,
        user_id=uuid.UUID(claims["sub"]),
        session_id=uuid.UUID(claims["sid"]),
        role=claims["role"],
        now=utcnow() - timedelta(seconds=config.access_ttl + 60),
    )


def not_yet_valid(token: str, config: AuthConfig) -> str:
    later = int((utcnow() + timedelta(hours=1)).timestamp())
    return resign(token, config, nbf=later, iat=later, exp=later + 900)


def alg_none(token: str, config: AuthConfig) -> str:
    return f"{b64({'alg': 'none', 'typ': 'at+jwt'})}.{b64(claims_of(token))}."


def other_algorithm(token: str, config: AuthConfig) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyJWT warns that the key is short for HS512
        return jwt.encode(
            claims_of(token), config.signing_key, algorithm="HS512", headers={"typ": "at+jwt"}
        )


def wrong_key(token: str, config: AuthConfig) -> str:
    return resign(token, config, key=b"k" * 32)


def raw_secret_as_key(token: str, config: AuthConfig) -> str:
    return resign(token, config, key=config.secret_key.encode())


def wrong_issuer(token: str, config: AuthConfig) -> str:
    return resign(token, config, iss="https://other-hospital.example")


def wrong_audience(token: str, config: AuthConfig) -> str:
    return resign(token, config, aud="another-api")


def wrong_type(token: str, config: AuthConfig) -> str:
    return jwt.encode(claims_of(token), config.signing_key, algorithm="HS256")


def no_session(token: str, config: AuthConfig) -> str:
    return resign(token, config, sid=None)


def unknown_session(token: str, config: AuthConfig) -> str:
    return resign(token, config, sid=str(uuid.uuid4()))


def someone_else(token: str, config: AuthConfig) -> str:
    return resign(token, config, sub=str(uuid.uuid4()))


def garbage(token: str, config: AuthConfig) -> str:
    return "this.is-not.a-token"


def refresh_token_instead(token: str, config: AuthConfig) -> str:
    return "REFRESH"  # replaced by the test with the sign-in's refresh token


FORGERIES: list[Forge] = [
    tampered_signature,
    tampered_claims,
    expired,
    not_yet_valid,
    alg_none,
    other_algorithm,
    wrong_key,
    raw_secret_as_key,
    wrong_issuer,
    wrong_audience,
    wrong_type,
    no_session,
    unknown_session,
    someone_else,
    garbage,
    refresh_token_instead,
]


async def test_a_bad_access_token_is_a_401_with_the_bearer_challenge(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.ADMIN)
    tokens = await login(client, user["username"])
    for forge in FORGERIES:
        bad = forge(tokens["access_token"], runtime.auth)
        if bad == "REFRESH":
            bad = tokens["refresh_token"]
        assert bad != tokens["access_token"], forge.__name__
        for path in ("/auth/me", "/api/v1/patients"):
            response = await client.get(path, headers={"Authorization": f"Bearer {bad}"})
            assert response.status_code == 401, (forge.__name__, path, response.text)
            unauthorized(response)
    # The genuine token still works: only the forgeries were refused.
    genuine = await client.get(
        "/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert genuine.status_code == 200


async def test_tokens_made_like_the_forgeries_but_unchanged_are_accepted(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """The control: each forgery above fails for the change it names, not for how it was made."""
    user = await make_user(runtime, role=Role.ADMIN)
    token = (await login(client, user["username"]))["access_token"]
    claims = claims_of(token)
    current = issue_access_token(
        runtime.auth,
        user_id=uuid.UUID(claims["sub"]),
        session_id=uuid.UUID(claims["sid"]),
        role=claims["role"],
        now=utcnow(),
    )
    for remade in (resign(token, runtime.auth), current):
        response = await client.get("/auth/me", headers={"Authorization": f"Bearer {remade}"})
        assert response.status_code == 200, response.text


async def test_a_missing_or_malformed_authorization_header_is_a_401(
    client: httpx.AsyncClient,
) -> None:
    for authorization in (None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token a", "bearer"):
        headers = {} if authorization is None else {"Authorization": authorization}
        response = await client.get("/auth/me", headers=headers)
        assert response.status_code == 401, (authorization, response.text)
        unauthorized(response)


async def test_the_token_of_a_deactivated_user_stops_working(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.DOCTOR)
    tokens = await login(client, user["username"])
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/auth/me", headers=headers)).status_code == 200
    await set_user(runtime, user["username"], is_active=False)
    unauthorized(await client.get("/auth/me", headers=headers))
    unauthorized(await client.get("/api/v1/patients", headers=headers))


async def test_an_access_token_carries_its_sign_in_and_a_short_lifetime(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.NURSE)
    tokens = await login(client, user["username"])
    claims = jwt.decode(
        tokens["access_token"],
        runtime.auth.signing_key,
        algorithms=["HS256"],
        audience=runtime.settings.jwt_audience,
        issuer=runtime.settings.jwt_issuer,
    )
    assert claims["sub"] == user["id"]
    assert claims["role"] == "nurse"
    assert uuid.UUID(claims["sid"]) == session_id_of(tokens["access_token"])
    assert claims["exp"] - claims["iat"] == runtime.settings.access_token_ttl
    assert claims["jti"]
