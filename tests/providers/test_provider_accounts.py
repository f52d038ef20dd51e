"""A clinician's account and its directory entry are made together, by `hms users create` on
the server's own database as by the account service."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from hms.auth.permissions import CLINICIAN_ROLES, Role
from hms.config import Settings
from hms.runtime import Runtime
from tests.cli.command import hms_env, run_hms
from tests.factories import bearer, login, make_user, signed_in

PASSWORD = "a long enough passphrase"


async def test_cli_doctor_has_a_linked_provider_seen_by_the_api(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    result = run_hms(
        "users",
        "create",
        "dr_wilson",
        "--role",
        "doctor",
        "--password-stdin",
        "--first-name",
        "James",
        "--last-name",
        "Wilson",
        "--specialty",
        "Oncology",
        "--npi",
        "1245319599",
        "--dea",
        "BW1234563",
        env=hms_env(tmp_path / "cli", settings),
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)

    doctor = bearer(await login(client, "dr_wilson", PASSWORD))
    me = (await client.get("/auth/me", headers=doctor)).json()
    assert me["provider_id"] == created["provider_id"]

    admin = await signed_in(client, runtime, role=Role.ADMIN)
    listed = (await client.get("/api/v1/providers", headers=admin)).json()["providers"]
    entry = next(p for p in listed if p["id"] == created["provider_id"])
    assert entry["user_id"] == created["id"]
    assert (entry["first_name"], entry["last_name"], entry["specialty"]) == (
        "James",
        "Wilson",
        "Oncology",
    )
    assert (entry["npi"], entry["dea_number"]) == ("1245319599", "BW1234563")

    # The directory entry is the doctor's own to keep current.
    own = await client.put(
        f"/api/v1/providers/{created['provider_id']}",
        json={"phone": "+1 555 010 0300"},
        headers=doctor,
    )
    assert own.status_code == 200, own.text


async def test_only_clinicians_get_a_directory_entry(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    for role in Role:
        if role == Role.PATIENT:
            continue
        user = await make_user(runtime, role=role, first_name="Kim", last_name="Lee")
        tokens = bearer(await login(client, user["username"]))
        me = (await client.get("/auth/me", headers=tokens)).json()
        assert me["provider_id"] == user.get("provider_id"), role
        assert (me["provider_id"] is not None) is (role in CLINICIAN_ROLES), role
