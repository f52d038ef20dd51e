"""Who am I: the signed-in user with role and permissions, and no secret in any auth answer."""

from __future__ import annotations

import httpx
import pyotp

from hms.auth.permissions import ROLE_PERMISSIONS, Role
from hms.runtime import Runtime
from tests.auth.stored import stored_user
from tests.auth.totp import next_code
from tests.factories import PASSWORD, bearer, login, make_patient, make_user, signed_in


async def test_me_shows_identity_role_and_permissions(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.DOCTOR, first_name="Gregory", last_name="House")
    tokens = await login(client, user["username"])
    response = await client.get("/auth/me", headers=bearer(tokens))
    assert response.status_code == 200
    me = response.json()
    assert me["id"] == user["id"]
    assert me["username"] == user["username"]
    assert me["role"] == "doctor"
    assert me["permissions"] == sorted(ROLE_PERMISSIONS[Role.DOCTOR])
    assert "prescriptions:sign" in me["permissions"]
    assert "audit:read" not in me["permissions"]
    assert (me["first_name"], me["last_name"]) == ("Gregory", "House")
    assert me["provider_id"] == user["provider_id"]
    assert me["patient_id"] is None
    assert me["mfa_enabled"] is False
    assert tokens["scope"].split() == me["permissions"]


async def test_me_of_a_patient_account_names_its_record(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    desk = await signed_in(client, runtime, role=Role.RECEPTIONIST)
    patient = await make_patient(client, desk)
    user = await make_user(runtime, role=Role.PATIENT, patient=patient["patient_id"])
    me = (
        await client.get("/auth/me", headers=bearer(await login(client, user["username"])))
    ).json()
    assert me["role"] == "patient"
    assert me["patient_id"] == patient["id"]
    assert me["provider_id"] is None
    assert "audit:read:own" in me["permissions"]
    assert "patients:create" not in me["permissions"]


async def test_no_auth_answer_carries_the_password_hash_or_the_totp_secret(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.NURSE)
    name = user["username"]
    password_hash = (await stored_user(runtime, name)).password_hash
    answers: list[httpx.Response] = []

    token = await client.post("/auth/token", json={"username": name, "password": PASSWORD})
    tokens = token.json()
    answers += [token, await client.get("/auth/me", headers=bearer(tokens))]
    setup = await client.post("/auth/mfa/setup", headers=bearer(tokens))
    secret = setup.json()["secret"]
    assert secret in setup.text  # the one answer meant to carry it
    assert password_hash not in setup.text and "$argon2" not in setup.text
    answers.append(
        await client.post(
            "/auth/mfa/verify", json={"code": pyotp.TOTP(secret).now()}, headers=bearer(tokens)
        )
    )
    answers.append(await client.get("/auth/me", headers=bearer(tokens)))
    answers.append(await client.post("/auth/token", json={"username": name, "password": "nope"}))
    answers.append(await client.post("/auth/token", json={"username": name, "password": PASSWORD}))
    answers.append(
        await client.post(
            "/auth/token",
            json={"username": name, "password": PASSWORD, "mfa_code": next_code(secret)},
        )
    )
    refreshed = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    answers.append(refreshed)
    answers.append(await client.post("/auth/logout", headers=bearer(refreshed.json())))

    assert [a.status_code for a in answers] == [200, 200, 200, 200, 401, 401, 200, 200, 204]
    for answer in answers:
        text = answer.text + str(answer.headers)
        assert password_hash not in text, answer.request.url
        assert "$argon2" not in text, answer.request.url
        assert secret not in text, answer.request.url
        assert "password_hash" not in text and "mfa_secret" not in text
