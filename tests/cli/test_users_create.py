"""`hms users create` as an operator runs it: one JSON object on success, one `error:` line
and a non-zero exit on bad input, and accounts that sign in through the API."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyotp
import pytest

from tests.cli.command import api_on, assert_one_line_error, hms_env, run_hms
from tests.factories import bearer, login

PASSWORD = "a long enough passphrase"
NPI, DEA = "1234567893", "AS1234563"


def create(
    env: dict[str, str], *args: str, password: str = PASSWORD
) -> subprocess.CompletedProcess[str]:
    return run_hms("users", "create", *args, "--password-stdin", env=env, stdin=password + "\n")


async def test_doctor_gets_a_linked_provider_and_signs_in(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = hms_env(data_dir)
    result = create(
        env,
        "dr_house",
        "--role",
        "doctor",
        "--first-name",
        "Gregory",
        "--last-name",
        "House",
        "--specialty",
        "Diagnostic Medicine",
        "--npi",
        NPI,
        "--dea",
        DEA,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1
    created = json.loads(result.stdout)
    assert set(created) == {"id", "username", "role", "provider_id"}
    assert (created["username"], created["role"]) == ("dr_house", "doctor")
    assert PASSWORD not in result.stdout + result.stderr

    async with api_on(data_dir) as client:
        tokens = await login(client, "dr_house", PASSWORD)
        me = (await client.get("/auth/me", headers=bearer(tokens))).json()
        assert me["id"] == created["id"]
        assert me["provider_id"] == created["provider_id"]
        provider = await client.get(
            f"/api/v1/providers/{created['provider_id']}", headers=bearer(tokens)
        )
        assert provider.status_code == 200
        body = provider.json()
        assert body["user_id"] == created["id"]
        assert (body["first_name"], body["last_name"]) == ("Gregory", "House")
        assert (body["npi"], body["dea_number"], body["specialty"]) == (
            NPI,
            DEA,
            "Diagnostic Medicine",
        )


async def test_mfa_prints_a_secret_the_sign_in_then_needs(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = create(hms_env(data_dir), "clerk", "--role", "receptionist", "--mfa")
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert set(created) == {"id", "username", "role", "totp_secret"}  # no provider: not clinical
    secret = created["totp_secret"]

    async with api_on(data_dir) as client:
        without = await client.post("/auth/token", json={"username": "clerk", "password": PASSWORD})
        assert without.status_code == 401
        assert without.json()["error"]["details"]["mfa_required"] is True
        tokens = await login(client, "clerk", PASSWORD, totp_secret=secret)
        me = (await client.get("/auth/me", headers=bearer(tokens))).json()
        assert me["mfa_enabled"] is True and me["provider_id"] is None
    assert pyotp.TOTP(secret).now().isdigit()


@pytest.fixture(scope="module")
def shared_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One migrated data folder with the account `taken`, for the refusals."""
    env = hms_env(tmp_path_factory.mktemp("cli") / "data")
    assert create(env, "taken", "--role", "nurse").returncode == 0
    return env


REFUSALS = {
    "bad-role": (["--role", "surgeon"], PASSWORD, "role"),
    "npi-check-digit": (["--role", "doctor", "--npi", "1234567890"], PASSWORD, "npi"),
    "dea-check-digit": (["--role", "doctor", "--dea", "AS1234567"], PASSWORD, "dea"),
    "short-password": (["--role", "nurse"], "short", "password"),
    "patient-without-record": (["--role", "patient"], PASSWORD, "patient"),
    "patient-unknown-record": (
        ["--role", "patient", "--patient", "P20240099"],
        PASSWORD,
        "not found",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_bad_input_is_one_error_line(shared_env: dict[str, str], case: str) -> None:
    args, password, mentions = REFUSALS[case]
    line = assert_one_line_error(create(shared_env, "newcomer", *args, password=password))
    assert mentions in line.lower()


def test_duplicate_username_is_refused_and_nothing_half_made(shared_env: dict[str, str]) -> None:
    line = assert_one_line_error(create(shared_env, "taken", "--role", "doctor"))
    assert "taken" in line or "exists" in line
    # The refused doctor above (bad NPI) left no account behind: the name is still free.
    refused = create(shared_env, "dr_retry", "--role", "doctor", "--npi", "1234567890")
    assert_one_line_error(refused)
    result = create(shared_env, "dr_retry", "--role", "doctor", "--npi", NPI)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["provider_id"]


def test_password_is_required_without_a_terminal(shared_env: dict[str, str]) -> None:
    result = run_hms("users", "create", "someone", "--role", "nurse", env=shared_env)
    assert "password" in assert_one_line_error(result)
