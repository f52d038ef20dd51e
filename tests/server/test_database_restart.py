"""PostgreSQL restarted under load: while the database is down, requests fail cleanly (503 with
the error envelope, or an OperationOutcome under /fhir, promptly) and /health/ready says 503;
once it is back, the same server process recovers by itself, and every write a client saw
acknowledged is there.

The database is a private PostgreSQL cluster made for this test (initdb in a temporary folder,
on a free port), so that stopping it disturbs nobody else."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.factories import patient_body
from tests.figures import count
from tests.server.integrity import half_written
from tests.server.load import PATIENTS, UNLIMITED, WriteLoad, missing_writes, new_provider
from tests.server.support import Server, create_user, free_port, server_env

PG_BIN = Path("/usr/lib/postgresql/15/bin")
USERNAME, PASSWORD = "restart_admin", "restart admin password 1"
# A refused request must be answered within this many seconds, not hang.
ANSWER_BOUND = 10.0

pytestmark = pytest.mark.skipif(
    not (PG_BIN / "initdb").exists() or not shutil.which("runuser"),
    reason="needs PostgreSQL's initdb and pg_ctl (/usr/lib/postgresql/15/bin) and runuser",
)


class Cluster:
    """A throwaway PostgreSQL cluster run by the `postgres` OS user."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="hms-pg-"))
        shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def _pg(self, program: str, *args: str) -> None:
        result = subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / program), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        log = str(self.folder / "postgres.log")
        self._pg("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    made = Cluster()
    try:
        made.start()
        yield made
    finally:
        made.remove()


def assert_refused_cleanly(response: requests.Response, seconds: float) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["Retry-After"]
    assert seconds < ANSWER_BOUND


async def test_postgresql_restarted_under_load(cluster: Cluster, tmp_path: Path) -> None:
    env = server_env(tmp_path / "data", cluster.url) | UNLIMITED
    create_user(env, USERNAME, PASSWORD, "admin")
    server = Server(env, tmp_path)
    try:
        server.wait_ready()
        headers = server.headers(USERNAME, PASSWORD)
        provider = new_provider(server.url, headers)
        with WriteLoad(server.url, headers, provider) as load:
            load.wait_for(20)
            cluster.stop("fast")
            # Down: the load goes on, and probes are answered 503 quickly.
            for _ in range(3):
                started = time.monotonic()
                ready = requests.get(f"{server.url}/health/ready", timeout=ANSWER_BOUND)
                assert ready.status_code == 503, ready.text
                started = time.monotonic()
                refused = requests.post(
                    f"{server.url}{PATIENTS}",
                    json=patient_body(),
                    headers=headers,
                    timeout=ANSWER_BOUND,
                )
                assert_refused_cleanly(refused, time.monotonic() - started)
                started = time.monotonic()
                fhir = requests.get(
                    f"{server.url}/fhir/R4/Patient?name=smith",
                    headers=headers,
                    timeout=ANSWER_BOUND,
                )
                assert fhir.status_code == 503, fhir.text
                assert fhir.json()["resourceType"] == "OperationOutcome"
                assert fhir.headers["Retry-After"]
                assert time.monotonic() - started < ANSWER_BOUND
                time.sleep(0.5)
            live = requests.get(f"{server.url}/health/live", timeout=ANSWER_BOUND)
            assert live.status_code == 200
            before_restart = load.outcome.writes

            cluster.start()
            # Back: the same process serves again, with no restart of its own.
            load.wait_for(before_restart + 20)
        outcome = load.outcome
        assert server.process.poll() is None
        assert requests.get(f"{server.url}/health/ready", timeout=10).status_code == 200
        assert set(outcome.refusals) <= {(503, "SERVICE_UNAVAILABLE")}, outcome.refusals
        assert outcome.refusals, "the load never met the database down"
        assert outcome.unanswered == {}
        assert outcome.slowest_refusal < ANSWER_BOUND
        assert missing_writes(server.url, headers, outcome) == []
        checked, problems = await half_written(cluster.url.replace("://", "+asyncpg://", 1))
        assert problems == []
        assert checked >= outcome.writes
        count("database restart (postgresql): restarts under load", 1)
        count("database restart (postgresql): requests refused with 503", outcome.refusals.total())
        count("database restart (postgresql): acknowledged writes checked", outcome.writes)
        count("database restart (postgresql): acknowledged writes lost", 0)
        count("database restart (postgresql): answers other than 201 or 503", 0)
    finally:
        server.stop()
