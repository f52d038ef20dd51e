"""Soak test (on demand, not part of the test suite).

Starts `hms serve` (SQLite in a temporary folder, or `--database-url`), then drives a mixed load
at it from a few clients for `--duration` seconds: registrations, reads, searches, updates,
encounters and charges. Every `--interval` seconds it samples the server's resident memory and
the answers of the interval, and at the end says whether memory stayed flat and errors did not
grow. Exit status 1 when either fails.

    .venv/bin/python bench/soak.py --duration 3600
    .venv/bin/python bench/soak.py --duration 300 --interval 30 \\
        --database-url postgresql://postgres@127.0.0.1:5432/soak
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

HMS = [str(Path(sys.executable).with_name("hms"))]
SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "hms-api.md"
USER, PASSWORD = "soak_admin", "soak admin password 1"
CREDENTIALS = {"username": USER, "password": PASSWORD}
# Memory is flat when the last sample is within this of the first one after warm-up.
FLAT_RATIO, FLAT_SLACK_MIB = 1.10, 16.0


def seed_body(method_and_path: str) -> dict[str, Any]:
    text = SEED.read_text()
    start = text.index(f"{method_and_path}\n")
    block = text[start : text.index("```", start)]
    return dict(json.loads(block[block.index("\n\n") + 2 :]))


def server_env(data: Path, database_url: str | None) -> dict[str, str]:
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
    if database_url:
        env["HMS_DATABASE_URL"] = database_url
    return env


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Signin(httpx.Auth):
    """One client's own sign-in, renewed with its refresh token when the access token ends and
    the request sent again, as an integration would (each client rotates its own tokens)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.tokens = _ok(httpx.post(f"{base}/auth/token", json=CREDENTIALS))

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {self.tokens['access_token']}"
        response = yield request
        if response.status_code == 401:
            body = {"refresh_token": self.tokens["refresh_token"]}
            self.tokens = _ok(httpx.post(f"{self.base}/auth/refresh", json=body))
            request.headers["Authorization"] = f"Bearer {self.tokens['access_token']}"
            yield request


def _ok(response: httpx.Response) -> dict[str, Any]:
    response.raise_for_status()
    return dict(response.json())


class Mix:
    """One client's loop of mixed requests; answers are tallied by status."""

    def __init__(self, base: str, provider: str, seed: int) -> None:
        self.http = httpx.Client(base_url=base, auth=Signin(base), timeout=30)
        self.provider = provider
        self.random = random.Random(seed)  # noqa: S311 - test data, not secrets
        self.patients: list[str] = []
        self.encounter = seed_body("POST /api/v1/clinical/encounters")
        self.charge = seed_body("POST /api/v1/billing/charges")

    def patient_body(self) -> dict[str, Any]:
        r = self.random
        return {
            "first_name": r.choice(["Ada", "Grace", "Alan", "Edsger", "Barbara"]),
            "last_name": f"Soak{r.randrange(10**6)}",
            "date_of_birth": f"19{r.randrange(40, 99)}-0{r.randrange(1, 9)}-1{r.randrange(9)}",
            "gender": r.choice("MFO"),
            "contact_number": f"+1555{r.randrange(10**7):07d}",
        }

    def step(self) -> int:
        r, http = self.random, self.http
        if not self.patients or r.random() < 0.2:
            answer = http.post("/api/v1/patients", json=self.patient_body())
            if answer.status_code == 201:
                self.patients.append(answer.json()["id"])
                self.patients = self.patients[-200:]
            return answer.status_code
        patient = r.choice(self.patients)
        choice = r.random()
        if choice < 0.35:
            return http.get(f"/api/v1/patients/{patient}").status_code
        if choice < 0.5:
            return http.get("/api/v1/patients/search", params={"query": "Soak"}).status_code
        if choice < 0.6:
            return http.get("/api/v1/patients", params={"limit": 20}).status_code
        if choice < 0.7:
            return http.put(
                f"/api/v1/patients/{patient}", json={"contact_number": "+15550100999"}
            ).status_code
        body = copy.deepcopy(self.encounter) | {"patient_id": patient, "provider_id": self.provider}
        encounter = http.post("/api/v1/clinical/encounters", json=body)
        if encounter.status_code != 201:
            return encounter.status_code
        charge = copy.deepcopy(self.charge) | {
            "patient_id": patient,
            "encounter_id": encounter.json()["id"],
            "billing_provider_id": self.provider,
        }
        return http.post("/api/v1/billing/charges", json=charge).status_code


def run(duration: float, interval: float, clients: int, database_url: str | None) -> bool:
    folder = Path(tempfile.mkdtemp(prefix="hms-soak-"))
    env = server_env(folder / "data", database_url)
    # The commands are this virtualenv's own `hms` with fixed arguments.
    subprocess.run(  # noqa: S603
        [*HMS, "users", "create", USER, "--role", "admin", "--password-stdin"],
        env=env,
        input=f"{PASSWORD}\n".encode(),
        check=True,
        capture_output=True,
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with (folder / "server.log").open("wb") as log:
        server = subprocess.Popen(  # noqa: S603
            [*HMS, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=log
        )
        try:
            return drive(server, base, duration, interval, clients)
        finally:
            server.terminate()
            server.wait(timeout=60)


def drive(
    server: subprocess.Popen[bytes], base: str, duration: float, interval: float, clients: int
) -> bool:
    for _ in range(600):
        try:
            if httpx.get(f"{base}/health/ready").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    headers = {"Authorization": f"Bearer {Signin(base).tokens['access_token']}"}
    provider = httpx.post(
        f"{base}/api/v1/providers",
        json={"first_name": "Soak", "last_name": "Test", "specialty": "Internal Medicine"},
        headers=headers,
    ).json()["id"]

    tally: Counter[str] = Counter()
    lock, stopping = threading.Lock(), threading.Event()

    def client(n: int) -> None:
        mix = Mix(base, provider, seed=n)
        while not stopping.is_set():
            try:
                status = str(mix.step())
            except httpx.TransportError:
                status = "no answer"
            with lock:
                tally[status] += 1

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    samples: list[tuple[float, float, int, int]] = []  # (minute, MiB, requests, errors)
    started = time.monotonic()
    print(f"{'t (s)':>7} {'RSS MiB':>8} {'requests':>9} {'errors':>7}  statuses", flush=True)
    while time.monotonic() - started < duration:
        time.sleep(min(interval, duration - (time.monotonic() - started)))
        with lock:
            seen = dict(tally)
            tally.clear()
        errors = sum(n for s, n in seen.items() if not s.startswith(("2", "4")))
        errors += sum(n for s, n in seen.items() if s.startswith("4") and s != "404")
        sample = (time.monotonic() - started, rss_mib(server.pid), sum(seen.values()), errors)
        samples.append(sample)
        t, mib, requests, errs = sample
        print(f"{t:7.0f} {mib:8.1f} {requests:9d} {errs:7d}  {seen}", flush=True)
    stopping.set()
    for thread in threads:
        thread.join(timeout=60)

    baseline = samples[1][1] if len(samples) > 2 else samples[0][1]
    last = samples[-1][1]
    flat = last <= baseline * FLAT_RATIO + FLAT_SLACK_MIB
    steady = samples[-1][3] <= samples[0][3] and sum(s[3] for s in samples) == 0
    total = sum(s[2] for s in samples)
    print(
        f"requests {total}, errors {sum(s[3] for s in samples)}; RSS after warm-up "
        f"{baseline:.1f} MiB, at the end {last:.1f} MiB (peak {max(s[1] for s in samples):.1f})"
    )
    yes = {True: "yes", False: "NO"}
    print(f"memory flat: {yes[flat]}; errors not growing: {yes[steady]}")
    return flat and steady


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3600, help="seconds of load")
    parser.add_argument("--interval", type=float, default=60, help="seconds between samples")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    ok = run(args.duration, args.interval, args.clients, args.database_url)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
