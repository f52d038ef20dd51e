"""`hms migrate`, `hms demo` and `hms openapi` on a fresh data folder, as a new operator meets
them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.command import api_on, hms_env, run_hms
from tests.factories import bearer, login

DEMO_PASSWORD = "secure_password"
DEMO_STAFF = {
    "admin": "admin",
    "doctor_smith": "doctor",
    "doctor_patel": "doctor",
    "nurse_jones": "nurse",
    "pharmacist_lee": "pharmacist",
    "labtech_kim": "lab_technician",
    "reception_garcia": "receptionist",
    "billing_brown": "billing",
}


def test_migrate_prepares_a_fresh_folder_and_is_repeatable(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    env = hms_env(data_dir)
    first = run_hms("migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert (data_dir / "hms.db").is_file()
    assert (data_dir / "secret_key").is_file()
    again = run_hms("migrate", env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout


async def test_demo_loads_once_and_its_users_sign_in(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = hms_env(data_dir)
    first = run_hms("demo", "--patients", "12", env=env)
    assert first.returncode == 0, first.stderr
    assert "demo loaded" in first.stdout and "12 patients" in first.stdout
    second = run_hms("demo", "--patients", "12", env=env)
    assert second.returncode == 0, second.stderr
    assert "already loaded" in second.stdout

    async with api_on(data_dir) as client:
        for username, role in DEMO_STAFF.items():
            tokens = await login(client, username, DEMO_PASSWORD)
            me = (await client.get("/auth/me", headers=bearer(tokens))).json()
            assert me["role"] == role, username
            if role == "doctor":
                assert me["provider_id"], username

        admin = bearer(await login(client, "admin", DEMO_PASSWORD))
        listed = (await client.get("/api/v1/patients?limit=100", headers=admin)).json()
        assert listed["total"] == 12  # the second run added nobody
        providers = (await client.get("/api/v1/providers?limit=100", headers=admin)).json()
        assert all(p["npi"] is None or len(p["npi"]) == 10 for p in providers["providers"])
        assert {"Smith", "Patel"} <= {p["last_name"] for p in providers["providers"]}

        patient = bearer(await login(client, "john_doe", DEMO_PASSWORD))
        own = (await client.get("/api/v1/patients", headers=patient)).json()
        assert own["total"] == 1
        assert (own["patients"][0]["first_name"], own["patients"][0]["last_name"]) == (
            "John",
            "Doe",
        )

    verified = run_hms("audit", "verify", env=env)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("ok: ")


def test_openapi_prints_the_document(tmp_path: Path) -> None:
    result = run_hms("openapi", env=hms_env(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["openapi"].startswith("3.")
    for path in ("/api/v1/patients", "/api/v1/patients/{patient_id}", "/auth/token"):
        assert path in document["paths"], path
