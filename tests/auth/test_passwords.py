"""Passwords are stored with argon2id at or above OWASP's minimum cost."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from hms.auth.permissions import Role
from hms.config import Settings
from hms.runtime import Runtime
from tests.auth.stored import app_with, stored_user
from tests.factories import PASSWORD, login, make_user

ARGON2 = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")


def cost(password_hash: str) -> tuple[int, int, int]:
    match = ARGON2.match(password_hash)
    assert match, password_hash
    memory, time, lanes = match.groups()
    return int(memory), int(time), int(lanes)


async def test_a_stored_password_is_an_argon2id_hash_of_at_least_owasp_cost(
    runtime: Runtime,
) -> None:
    user = await make_user(runtime, role=Role.DOCTOR)
    stored = (await stored_user(runtime, user["username"])).password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    memory, time, _ = cost(stored)
    assert memory >= 19456
    assert time >= 2
    assert (memory, time) == (runtime.settings.argon2_memory_kib, runtime.settings.argon2_time_cost)


async def test_two_users_with_one_password_get_different_hashes(runtime: Runtime) -> None:
    first = await make_user(runtime, role=Role.NURSE)
    second = await make_user(runtime, role=Role.NURSE)
    assert (await stored_user(runtime, first["username"])).password_hash != (
        await stored_user(runtime, second["username"])
    ).password_hash


async def test_sign_in_upgrades_a_hash_made_at_an_older_cost(
    client: httpx.AsyncClient, runtime: Runtime, database_url: str, tmp_path: Path
) -> None:
    user = await make_user(runtime, role=Role.PHARMACIST)
    name = user["username"]
    assert cost((await stored_user(runtime, name)).password_hash)[1] == 2
    async with app_with(database_url, tmp_path / "costlier", argon2_time_cost=3) as (app, _):
        await login(app, name)
    assert cost((await stored_user(runtime, name)).password_hash)[1] == 3
    # The upgraded hash still checks the same password.
    await login(client, name)


def test_the_default_cost_is_above_the_minimum() -> None:
    defaults = Settings()
    assert defaults.argon2_memory_kib >= 19456
    assert defaults.argon2_time_cost >= 2


@pytest.mark.parametrize(
    ("name", "value"),
    [("argon2_memory_kib", 19455), ("argon2_memory_kib", 4096), ("argon2_time_cost", 1)],
)
def test_settings_refuse_a_cost_below_the_minimum(name: str, value: int) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(**{name: value})  # type: ignore[arg-type]
    assert name in str(refused.value)


@pytest.mark.parametrize(
    ("variable", "value"), [("HMS_ARGON2_MEMORY_KIB", "8192"), ("HMS_ARGON2_TIME_COST", "1")]
)
def test_the_environment_cannot_lower_the_cost_either(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError):
        Settings()


def test_the_minimum_itself_is_accepted() -> None:
    settings = Settings(argon2_memory_kib=19456, argon2_time_cost=2)
    assert (settings.argon2_memory_kib, settings.argon2_time_cost) == (19456, 2)
