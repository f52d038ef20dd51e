"""HMS_MFA_REQUIRED: staff who reach patient data must enrol MFA. Without it, such a user still
signs in, but the token opens only the enrolment endpoints (and /auth/me, sign-out): everything
else is a 403 MFA_ENROLLMENT_REQUIRED, audited, over REST, GraphQL and WebSocket alike. Patient
users are not held to it. With the setting off (the default), nothing changes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pyotp

from hms.auth.permissions import MFA_POLICY_ROLES, Role
from hms.runtime import Runtime
from tests.auth.stored import app_with
from tests.factories import bearer, login, make_patient, make_user
from tests.graphql.support import gql


async def test_without_mfa_staff_may_only_enrol_until_they_do(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    async with app_with(database_url, tmp_path / "mfa", mfa_required=True) as (client, strict):
        nurse = await make_user(strict, role=Role.NURSE)
        tokens = await login(client, nurse["username"])  # signing in still works
        headers = bearer(tokens)
        refused = await client.get("/api/v1/patients", headers=headers)
        assert refused.status_code == 403
        error = refused.json()["error"]
        assert error["code"] == "MFA_ENROLLMENT_REQUIRED"
        assert "/auth/mfa/setup" in error["message"]
        body = await gql(client, "{ patients { total } }", headers=headers)
        assert body["errors"][0]["extensions"]["code"] == "MFA_ENROLLMENT_REQUIRED"
        me = await client.get("/auth/me", headers=headers)
        assert me.status_code == 200 and me.json()["mfa_enrollment_required"] is True

        setup = await client.post("/auth/mfa/setup", headers=headers)
        assert setup.status_code == 200
        code = pyotp.TOTP(setup.json()["secret"]).now()
        verified = await client.post("/auth/mfa/verify", json={"code": code}, headers=headers)
        assert verified.status_code == 200
        # Enrolled: the same sign-in now reaches patient data.
        assert (await client.get("/api/v1/patients", headers=headers)).status_code == 200
        me = await client.get("/auth/me", headers=headers)
        assert me.json()["mfa_enrollment_required"] is False

        admin = await make_user(strict, role=Role.ADMIN, mfa=True)
        admin_headers = bearer(
            await login(client, admin["username"], totp_secret=admin["totp_secret"])
        )
        trail = await client.get(
            f"/api/v1/audit?user_id={nurse['id']}&outcome=denied", headers=admin_headers
        )
        assert trail.json()["total"] >= 2


async def test_the_policy_covers_every_staff_role_and_spares_patients(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    assert set(Role) - {Role.PATIENT} == MFA_POLICY_ROLES
    async with app_with(database_url, tmp_path / "mfa", mfa_required=True) as (client, strict):
        for role in MFA_POLICY_ROLES:
            user = await make_user(strict, role=role)
            headers = bearer(await login(client, user["username"]))
            answer = await client.get("/api/v1/providers", headers=headers)
            assert answer.json()["error"]["code"] == "MFA_ENROLLMENT_REQUIRED", role
        admin = await make_user(strict, role=Role.ADMIN, mfa=True)
        admin_headers = bearer(
            await login(client, admin["username"], totp_secret=admin["totp_secret"])
        )
        record = await make_patient(client, admin_headers)
        portal = await make_user(strict, role=Role.PATIENT, patient=record["patient_id"])
        portal_headers = bearer(await login(client, portal["username"]))
        mine = await client.get(f"/api/v1/patients/{record['id']}", headers=portal_headers)
        assert mine.status_code == 200


async def test_off_by_default(client: httpx.AsyncClient, runtime: Runtime) -> None:
    assert runtime.settings.mfa_required is False
    user = await make_user(runtime, role=Role.DOCTOR)
    headers = bearer(await login(client, user["username"]))
    assert (await client.get("/api/v1/patients", headers=headers)).status_code == 200
    assert (await client.get("/auth/me", headers=headers)).json()[
        "mfa_enrollment_required"
    ] is False


async def test_the_websocket_refuses_an_unenrolled_token(
    runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    from websockets.asyncio.client import connect

    from tests.realtime.support import receive, send, serving

    async with app_with(database_url, tmp_path / "mfa", mfa_required=True) as (client, strict):
        user = await make_user(strict, role=Role.DOCTOR)
        token = (await login(client, user["username"]))["access_token"]
        async with serving(strict) as served, connect(served.ws_url) as socket:
            await send(socket, {"type": "auth", "token": token})
            answer = await receive(socket)
            assert answer["type"] == "error" and answer["code"] == "INVALID_TOKEN"
