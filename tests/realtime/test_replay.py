"""Missed events are not lost on a reconnect: `subscribe` with `since` replays, in order and
exactly once, what the user may see of what happened meanwhile, or says the gap is too old."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from hms.auth.permissions import Role
from hms.db import commit
from hms.models import Base
from hms.realtime.log import trim
from hms.runtime import Runtime
from tests.factories import login, make_patient, make_user
from tests.realtime.support import (
    announce,
    headers,
    lab_event,
    quiet,
    receive,
    serving,
    subscribed,
    token_for,
)


async def test_a_reconnect_with_since_gets_what_it_missed_once_in_order(runtime: Runtime) -> None:
    async with serving(runtime) as served:
        nurse = await make_user(runtime, role=Role.NURSE)
        staff = headers(str((await login(served.http, nurse["username"]))["access_token"]))
        token = await token_for(served, runtime, Role.DOCTOR)
        channels = ["patient_updates", "lab_results"]
        async with subscribed(served.ws_url, token, channels) as socket:
            patient = await make_patient(served.http, staff)
            last_seen = (await receive(socket))["id"]
        url = f"/api/v1/patients/{patient['id']}"
        missed_names = ["Avery", "Blake", "Casey"]
        for name in missed_names:
            changed = await served.http.put(url, json={"last_name": name}, headers=staff)
            assert changed.status_code == 200
        await announce(runtime, lab_event(patient["id"]))

        async with subscribed(served.ws_url, token, channels, since=last_seen) as socket:
            replayed = [await receive(socket) for _ in range(4)]
            assert [m["type"] for m in replayed] == ["patient_updated"] * 3 + [
                "lab_result_available"
            ]
            assert [m["patient"]["last_name"] for m in replayed[:3]] == missed_names
            ids = [m["id"] for m in replayed]
            assert ids == sorted(ids) and ids[0] > last_seen
            summary = await receive(socket)
            assert summary == {
                "type": "replayed",
                "since": last_seen,
                "count": 4,
                "last_id": ids[-1],
            }
            # Live again: the next change arrives once, after the replay, and nothing repeats.
            changed = await served.http.put(url, json={"last_name": "Drew"}, headers=staff)
            assert changed.status_code == 200
            live = await receive(socket)
            assert (live["type"], live["patient"]["last_name"]) == ("patient_updated", "Drew")
            assert live["id"] > ids[-1]
            assert await quiet(socket) == []


async def test_a_replay_obeys_the_same_permission_rules(runtime: Runtime) -> None:
    async with serving(runtime) as served:
        nurse = await make_user(runtime, role=Role.NURSE)
        staff = headers(str((await login(served.http, nurse["username"]))["access_token"]))
        mine = await make_patient(served.http, staff)
        other = await make_patient(served.http, staff)
        token = await token_for(served, runtime, Role.PATIENT, patient=mine["patient_id"])
        async with subscribed(served.ws_url, token, ["lab_results"], since=0) as socket:
            caught_up = await receive(socket)
            assert caught_up["type"] == "replayed"
            since = caught_up["last_id"]
        await announce(runtime, lab_event(other["id"]))
        await announce(runtime, lab_event(mine["id"], status="preliminary"))
        await announce(runtime, lab_event(mine["id"]))
        async with subscribed(served.ws_url, token, ["lab_results"], since=since) as socket:
            only = await receive(socket)
            assert only["result"] == {"patient_id": mine["id"], "status": "final", "critical": True}
            summary = await receive(socket)
            assert summary["count"] == 1
            assert summary["last_id"] == only["id"]


async def test_a_gap_older_than_the_retained_log_asks_for_a_resync(runtime: Runtime) -> None:
    async with serving(runtime) as served:
        token = await token_for(served, runtime, Role.DOCTOR)
        for n in range(5):
            await announce(runtime, lab_event(f"00000000-0000-0000-0000-00000000000{n}"))
        async with runtime.sessionmaker() as session:
            assert await trim(session, keep=2) == 3
            await commit(session)
        async with subscribed(served.ws_url, token, ["lab_results"], since=1) as socket:
            error = await receive(socket)
            assert error["type"] == "error"
            assert error["code"] == "GAP_TOO_OLD"
            assert error["details"]["since"] == 1
            oldest = error["details"]["oldest_id"]
        async with subscribed(served.ws_url, token, ["lab_results"], since=oldest - 1) as socket:
            replayed = [await receive(socket) for _ in range(2)]
            assert [m["id"] for m in replayed] == [oldest, oldest + 1]
            assert (await receive(socket))["type"] == "replayed"


async def test_the_migration_builds_the_event_log_the_model_describes(runtime: Runtime) -> None:
    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with runtime.engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert [d for d in diff if "event_log" in repr(d)] == []
