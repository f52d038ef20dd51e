"""Pooled database connections that the server has closed are replaced before a request uses
them, without a round trip per request to find out."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import make_patient, signed_in


async def test_requests_after_the_database_closed_the_pooled_connections(
    client: httpx.AsyncClient, runtime: Runtime, database_url: str, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite connections are files, not sessions a server can close")
    headers = await signed_in(client, runtime, role=Role.DOCTOR)
    patient = await make_patient(client, headers)
    # Fill the pool with several connections, then have the server end every one of them.
    reads = [client.get(f"/api/v1/patients/{patient['id']}", headers=headers) for _ in range(8)]
    assert {r.status_code for r in await asyncio.gather(*reads)} == {200}
    admin = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
    finally:
        await admin.close()
    assert ended >= 1
    await asyncio.sleep(0.2)  # the closes arrive on the sockets
    for _ in range(12):
        response = await client.get(f"/api/v1/patients/{patient['id']}", headers=headers)
        assert response.status_code == 200, response.text
