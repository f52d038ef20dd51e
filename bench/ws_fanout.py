"""Fan-out benchmark for the WebSocket door (not part of the test suite).

Starts `hms serve` on a fresh SQLite database (in-process broker), connects N sockets as one
doctor, subscribes them to `patient_updates`, then makes M patient changes over REST and measures,
for every (event, socket) pair, the time from the REST call being sent to the socket receiving
the event. Each delivery is audited, as in production.

    .venv/bin/python bench/ws_fanout.py --sockets 1000 --events 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

import httpx
from websockets.asyncio.client import ClientConnection, connect

HMS = [str(Path(sys.executable).with_name("hms"))]
USER, PASSWORD = "bench_doctor", "bench password 123"


def raise_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def start_server(data: Path, port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HMS_")}
    env.update(
        HMS_DATA_DIR=str(data),
        # The key of every benchmark: servers sharing a database must share it (audit signatures).
        HMS_SECRET_KEY="bench-secret-key-not-for-production-use-0123456789",
        HMS_ARGON2_TIME_COST="2",
        HMS_ARGON2_MEMORY_KIB="19456",
        HMS_ARGON2_PARALLELISM="1",
        HMS_RATE_LIMIT="1000000/minute;100000/second",
        HMS_LOG_LEVEL="WARNING",
    )
    # The commands are this virtualenv's own `hms` with fixed arguments.
    subprocess.run(  # noqa: S603
        [*HMS, "users", "create", USER, "--role", "doctor", "--password-stdin"],
        env=env,
        input=f"{PASSWORD}\n".encode(),
        check=True,
        capture_output=True,
    )
    return subprocess.Popen(  # noqa: S603
        [*HMS, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=log
    )


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(600):
            try:
                if (await http.get(f"{base}/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("server did not start")


async def open_socket(url: str, token: str) -> ClientConnection:
    socket = await connect(url, max_queue=None)
    await socket.send(json.dumps({"type": "auth", "token": token}))
    assert json.loads(await socket.recv())["type"] == "authenticated"
    await socket.send(json.dumps({"type": "subscribe", "channels": ["patient_updates"]}))
    assert json.loads(await socket.recv())["type"] == "subscribed"
    return socket


async def run(sockets: int, events: int, port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    await wait_ready(base)
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        login = await http.post("/auth/token", json={"username": USER, "password": PASSWORD})
        token = login.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        body = {"first_name": "Bench", "last_name": "Mark", "date_of_birth": "1990-01-15"}
        created = await http.post("/api/v1/patients", json=body | {"gender": "F"}, headers=auth)
        pid = created.json()["id"]

        url = f"ws://127.0.0.1:{port}/api/v1/ws"
        started = time.perf_counter()
        clients: list[ClientConnection] = []
        for start in range(0, sockets, 100):
            batch = min(100, sockets - start)
            clients += await asyncio.gather(*(open_socket(url, token) for _ in range(batch)))
        print(f"{sockets} sockets connected in {time.perf_counter() - started:.1f} s")

        latencies: list[float] = []
        for n in range(events):
            waiting = [asyncio.create_task(c.recv()) for c in clients]
            sent = time.perf_counter()
            changed = await http.put(
                f"/api/v1/patients/{pid}", json={"last_name": f"Mark{n}"}, headers=auth
            )
            assert changed.status_code == 200, changed.text
            pending = set(waiting)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                now = time.perf_counter()
                latencies += [now - sent] * len(done)
        for client in clients:
            await client.close()

    latencies.sort()
    ms = [x * 1000 for x in latencies]
    p50 = statistics.median(ms)
    p99 = ms[int(len(ms) * 0.99) - 1]
    print(f"{events} events x {sockets} sockets = {len(ms)} deliveries")
    print(f"latency REST call -> socket: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    raise_open_files_limit()
    with tempfile.TemporaryDirectory() as folder:
        log = (Path(folder) / "server.log").open("wb")
        server = start_server(Path(folder), args.port, log)
        try:
            asyncio.run(run(args.sockets, args.events, args.port))
        finally:
            server.terminate()
            server.wait(timeout=60)
            log.close()


if __name__ == "__main__":
    main()
