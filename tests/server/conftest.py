from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import BACKENDS, _truncate_pg
from tests.server.support import Server, create_user, server_env

# The seed's own sign-in example uses this account.
SEED_USERNAME, SEED_PASSWORD = "doctor_smith", "secure_password"


@pytest.fixture(scope="module", params=BACKENDS)
async def module_database(request: pytest.FixtureRequest, pg_migrated: str | None) -> str | None:
    """A database for one module's server: None for the SQLite file `hms serve` keeps in its
    data folder, or the emptied PostgreSQL test database, which the module then owns (no
    other test runs while a module's server is up)."""
    if request.param == "sqlite":
        return None
    assert pg_migrated
    await _truncate_pg(pg_migrated)
    return pg_migrated


@pytest.fixture(scope="module")
def seed_server(
    module_database: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """`hms serve`, with the seed's doctor account created beforehand by `hms users create`."""
    folder = tmp_path_factory.mktemp("server")
    env = server_env(folder / "data", module_database)
    create_user(env, SEED_USERNAME, SEED_PASSWORD, "doctor")
    running = Server(env, folder)
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()
