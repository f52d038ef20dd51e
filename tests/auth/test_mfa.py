"""TOTP enrolment and sign-in with a second factor (RFC 6238), each code accepted once."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pyotp

from hms.auth import mfa
from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.auth.expect import same_answer, unauthorized
from tests.auth.stored import stored_user
from tests.auth.totp import next_code, wrong_code
from tests.factories import PASSWORD, bearer, login, make_user


async def sign_in(
    client: httpx.AsyncClient, username: str, mfa_code: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"username": username, "password": PASSWORD}
    if mfa_code is not None:
        body["mfa_code"] = mfa_code
    return await client.post("/auth/token", json=body)


async def enrol(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    setup = await client.post("/auth/mfa/setup", headers=headers)
    assert setup.status_code == 200, setup.text
    secret: str = setup.json()["secret"]
    verify = await client.post(
        "/auth/mfa/verify", json={"code": pyotp.TOTP(secret).now()}, headers=headers
    )
    assert verify.status_code == 200, verify.text
    return secret


async def test_setup_returns_a_secret_and_an_otpauth_uri(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.DOCTOR)
    response = await client.post(
        "/auth/mfa/setup", headers=bearer(await login(client, user["username"]))
    )
    assert response.status_code == 200, response.text
    body = response.json()
    secret = body["secret"]
    assert len(secret) >= 32  # 160 bits, RFC 4226's recommended key length
    uri = urlparse(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert user["username"] in uri.path
    query = parse_qs(uri.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == [runtime.settings.mfa_issuer]
    assert pyotp.parse_uri(body["otpauth_uri"]).secret == secret


async def test_setup_and_verify_need_a_signed_in_user(client: httpx.AsyncClient) -> None:
    unauthorized(await client.post("/auth/mfa/setup"))
    unauthorized(await client.post("/auth/mfa/verify", json={"code": "123456"}))


async def test_a_valid_code_enables_mfa_and_an_invalid_one_is_a_validation_error(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.NURSE)
    headers = bearer(await login(client, user["username"]))
    secret = (await client.post("/auth/mfa/setup", headers=headers)).json()["secret"]

    # Until enrolment is confirmed, the password alone still signs in.
    assert (await sign_in(client, user["username"])).status_code == 200

    wrong = await client.post(
        "/auth/mfa/verify", json={"code": wrong_code(secret)}, headers=headers
    )
    assert wrong.status_code == 422
    error = wrong.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "code"
    assert error["details"]["errors"] == [{"field": "code", "error": error["details"]["error"]}]
    assert error["request_id"] == wrong.headers["X-Request-ID"]
    assert not (await stored_user(runtime, user["username"])).mfa_enabled

    malformed = await client.post("/auth/mfa/verify", json={"code": "12ab56"}, headers=headers)
    assert malformed.status_code == 422
    assert malformed.json()["error"]["details"]["field"] == "code"

    right = await client.post(
        "/auth/mfa/verify", json={"code": pyotp.TOTP(secret).now()}, headers=headers
    )
    assert right.status_code == 200, right.text
    assert right.json() == {"mfa_enabled": True}
    assert (await client.get("/auth/me", headers=headers)).json()["mfa_enabled"] is True


async def test_once_enabled_sign_in_needs_a_current_code(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.DOCTOR)
    name = user["username"]
    secret = await enrol(client, bearer(await login(client, name)))

    without = unauthorized(await sign_in(client, name))
    assert without["details"] == {"mfa_required": True}
    wrong = unauthorized(await sign_in(client, name, wrong_code(secret)))
    assert wrong["details"] == {"mfa_required": True}

    code = next_code(secret)
    signed = await sign_in(client, name, code)
    assert signed.status_code == 200, signed.text
    assert (await client.get("/auth/me", headers=bearer(signed.json()))).status_code == 200

    replayed = unauthorized(await sign_in(client, name, code))
    assert replayed["details"] == {"mfa_required": True}
    # An older code than the last one accepted is refused too, though still inside the window.
    unauthorized(await sign_in(client, name, pyotp.TOTP(secret).now()))


async def test_a_wrong_password_does_not_reveal_that_the_account_has_mfa(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.DOCTOR, mfa=True)
    with_mfa = unauthorized(
        await client.post("/auth/token", json={"username": user["username"], "password": "not it"})
    )
    unknown = unauthorized(
        await client.post("/auth/token", json={"username": "nobody", "password": "not it"})
    )
    assert same_answer(with_mfa) == same_answer(unknown)


async def test_the_code_used_to_enrol_cannot_sign_in(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.NURSE)
    headers = bearer(await login(client, user["username"]))
    secret = (await client.post("/auth/mfa/setup", headers=headers)).json()["secret"]
    code = pyotp.TOTP(secret).now()
    assert (
        await client.post("/auth/mfa/verify", json={"code": code}, headers=headers)
    ).status_code == 200
    unauthorized(await sign_in(client, user["username"], code))


async def test_factory_users_with_mfa_sign_in_with_pyotp_codes_once_each(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.PHARMACIST, mfa=True)
    secret = user["totp_secret"]
    tokens = await login(client, user["username"], totp_secret=secret)
    me = (await client.get("/auth/me", headers=bearer(tokens))).json()
    assert me["mfa_enabled"] is True

    code = next_code(secret)
    assert (await sign_in(client, user["username"], code)).status_code == 200
    replayed = unauthorized(await sign_in(client, user["username"], code))
    assert replayed["details"] == {"mfa_required": True}


async def test_enrolment_cannot_be_restarted_once_enabled(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.DOCTOR, mfa=True)
    headers = bearer(await login(client, user["username"], totp_secret=user["totp_secret"]))
    again = await client.post("/auth/mfa/setup", headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "CONFLICT"
    assert (await stored_user(runtime, user["username"])).mfa_secret == user["totp_secret"]


async def test_verify_before_setup_is_a_conflict(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.DOCTOR)
    headers = bearer(await login(client, user["username"]))
    response = await client.post("/auth/mfa/verify", json={"code": "123456"}, headers=headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"


def test_codes_match_within_one_step_of_drift_only() -> None:
    secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    totp = pyotp.TOTP(secret)
    now = 1_700_000_000.0
    step = int(now // mfa.STEP)
    assert mfa.matching_step(secret, totp.at(now), now=now) == step
    assert mfa.matching_step(secret, totp.at(now - mfa.STEP), now=now) == step - 1
    assert mfa.matching_step(secret, totp.at(now + mfa.STEP), now=now) == step + 1
    assert mfa.matching_step(secret, totp.at(now - 2 * mfa.STEP), now=now) is None
    assert mfa.matching_step(secret, totp.at(now + 2 * mfa.STEP), now=now) is None
    assert mfa.matching_step(secret, "12345", now=now) is None
    assert mfa.matching_step(secret, "abcdef", now=now) is None
