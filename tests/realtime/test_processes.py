"""Several server processes share events through Redis: two real `hms serve` processes on one
PostgreSQL database and one Redis; a change made through one reaches a socket on the other."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import requests

from tests.conftest import PG_URL, REDIS_URL, _truncate_pg
from tests.factories import patient_body
from tests.realtime.support import next_of, subscribed
from tests.server.support import Server, create_user, server_env

pytestmark = pytest.mark.skipif(
    not (PG_URL and REDIS_URL), reason="needs HMS_TEST_DATABASE_URL and HMS_TEST_REDIS_URL"
)
USERNAME, PASSWORD = "dr_relay", "relay password 1"


@pytest.fixture
async def two_servers(
    pg_migrated: str | None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Server, Server]]:
    assert pg_migrated and REDIS_URL
    await _truncate_pg(pg_migrated)
    folder = tmp_path_factory.mktemp("servers")
    env = server_env(folder / "data", pg_migrated) | {"HMS_REDIS_URL": REDIS_URL}
    create_user(env, USERNAME, PASSWORD, "doctor")
    servers = (Server(env, folder), Server(env, folder))
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


async def test_an_event_caused_on_one_process_reaches_a_socket_on_another(
    two_servers: tuple[Server, Server],
) -> None:
    writer, listener = two_servers
    token = listener.token(USERNAME, PASSWORD)
    url = f"ws://127.0.0.1:{listener.port}/api/v1/ws"
    async with subscribed(url, token, ["patient_updates"]) as socket:
        created = requests.post(
            f"{writer.url}/api/v1/patients",
            json=patient_body(last_name="Relayed"),
            headers=writer.headers(USERNAME, PASSWORD),
            timeout=10,
        )
        assert created.status_code == 201, created.text
        heard = await next_of(socket, "patient_created")
        assert heard["patient"]["id"] == created.json()["id"]
        assert heard["patient"]["last_name"] == "Relayed"
        assert isinstance(heard["id"], int)

    # The retained log is shared too: a socket on the writer resumes from the listener's id.
    token = writer.token(USERNAME, PASSWORD)
    url = f"ws://127.0.0.1:{writer.port}/api/v1/ws"
    async with subscribed(url, token, ["patient_updates"], since=heard["id"] - 1) as socket:
        again = await next_of(socket, "patient_created")
        assert again["id"] == heard["id"]
