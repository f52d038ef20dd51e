"""The migration builds the laboratory tables as the models describe them, and a retried order
with the same Idempotency-Key is placed once."""

from __future__ import annotations

from typing import Any

import httpx
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from hms.models import Base
from hms.runtime import Runtime
from tests.clinical.test_records import _tables
from tests.laboratory.support import ORDERS, lab, seed_order

LAB_TABLES = {"lab_orders", "lab_results"}


async def test_the_migration_builds_the_tables_the_models_describe(runtime: Runtime) -> None:
    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with runtime.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert [d for d in diff if LAB_TABLES & set(_tables(d))] == []


async def test_a_retried_order_is_placed_once(client: httpx.AsyncClient, runtime: Runtime) -> None:
    setup = await lab(client, runtime)
    headers = setup.doctor.headers | {"Idempotency-Key": "lab-order-0001"}
    sent = seed_order(setup.patient["id"], None)
    first = await client.post(ORDERS, json=sent, headers=headers)
    again = await client.post(ORDERS, json=sent, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    listed = await client.get(ORDERS, params={"patient_id": setup.patient["id"]}, headers=headers)
    assert listed.json()["total"] == 1
