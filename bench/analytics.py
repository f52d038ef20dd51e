"""Analytics benchmark (not part of the test suite).

Starts a real `hms serve` on the given database, signs in as an administrator (created on first
use), and times each analytics request over HTTP for a month and for a year: one warm-up call,
then `--runs` timed calls, reporting the fastest, the median and the slowest.

    .venv/bin/python bench/analytics.py postgresql://postgres@127.0.0.1:5432/hms_a1m \\
        --month 2026-10 --year 2025

The target is under one second per request with a million patients and their visits.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HMS = [str(Path(sys.executable).with_name("hms"))]
USER, PASSWORD = "bench_analyst", "bench password 123"
REQUESTS = {
    "patients (all metrics)": "/api/v1/analytics/patients",
    "clinical-quality": "/api/v1/analytics/clinical-quality",
}


def server_env(database_url: str, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HMS_")}
    env.update(
        HMS_DATABASE_URL=database_url,
        HMS_DATA_DIR=str(data),
        # The key of every benchmark: servers sharing a database must share it (audit signatures).
        HMS_SECRET_KEY="bench-secret-key-not-for-production-use-0123456789",
        HMS_ARGON2_TIME_COST="2",
        HMS_ARGON2_MEMORY_KIB="19456",
        HMS_ARGON2_PARALLELISM="1",
        HMS_RATE_LIMIT="1000000/minute;100000/second",
        HMS_LOG_LEVEL="WARNING",
    )
    return env


def ensure_user(env: dict[str, str]) -> None:
    # The commands are this virtualenv's own `hms` with fixed arguments; a second run finds
    # the user already there, which is fine.
    subprocess.run(  # noqa: S603
        [*HMS, "users", "create", USER, "--role", "admin", "--password-stdin"],
        env=env,
        input=f"{PASSWORD}\n".encode(),
        check=False,
        capture_output=True,
    )


async def wait_ready(http: httpx.AsyncClient) -> None:
    for _ in range(1200):
        try:
            if (await http.get("/health/ready")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("server did not start")


def periods(month: str, year: int) -> dict[str, dict[str, str]]:
    y, m = (int(part) for part in month.split("-"))
    last = calendar.monthrange(y, m)[1]
    return {
        f"month {month}": {"start_date": f"{month}-01", "end_date": f"{month}-{last:02d}"},
        f"year {year}": {"start_date": f"{year}-01-01", "end_date": f"{year}-12-31"},
    }


async def run(base: str, month: str, year: int, runs: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        await wait_ready(http)
        token = await http.post("/auth/token", json={"username": USER, "password": PASSWORD})
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        print(f"{'request':<26} {'period':<14} {'min s':>7} {'median s':>9} {'max s':>7}")
        for name, path in REQUESTS.items():
            for label, params in periods(month, year).items():
                (await http.get(path, params=params, headers=headers)).raise_for_status()
                timings = []
                for _ in range(runs):
                    started = time.perf_counter()
                    response = await http.get(path, params=params, headers=headers)
                    timings.append(time.perf_counter() - started)
                    response.raise_for_status()
                print(
                    f"{name:<26} {label:<14} {min(timings):>7.3f} "
                    f"{statistics.median(timings):>9.3f} {max(timings):>7.3f}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--month", default="2026-10", help="YYYY-MM")
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = server_env(args.database_url, Path(tmp))
        ensure_user(env)
        server = subprocess.Popen(  # noqa: S603
            [*HMS, "serve", "--port", str(args.port)], env=env, stdout=subprocess.DEVNULL
        )
        try:
            asyncio.run(run(f"http://127.0.0.1:{args.port}", args.month, args.year, args.runs))
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
