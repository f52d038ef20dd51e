"""HMS against the floor, side by side, in one run.

    .venv/bin/python bench/run.py --database-url postgresql://postgres@127.0.0.1:5432/hms_bench

Load a hospital first (`hms demo --patients 1000000`). The run starts `hms serve` (one process)
and three references (one uvicorn process each) on the same database: the floor
(`bench/floor.py`), the same SQL with nothing around it; the duties, the floor plus what HMS must
do for every request (check the token and its session, write a signed audit entry per patient
touched, in the request's transaction); and the stack (`bench/stack.py`), the duties served the
cheapest way FastAPI and SQLAlchemy allow, whose ratio to the floor is the most HMS / floor can
be on its stack. It creates a doctor to sign in as, samples patients, names and busy provider
days from the data, then drives every operation with `wrk` at a fixed number of connections,
HMS first and the references right after, and prints requests per second, p50/p95/p99 latency,
HMS / floor, HMS / duties, stack / floor and the peak memory of each server process. Each
row starts once HMS's sealer has linked the audit entries of the rows before; `--rounds N`
measures each row N times in turn and reports the median round. A reference that fails
requests gets no ratio. HMS runs with its rate limit raised
(HMS_RATE_LIMIT) so that the limiter counts but never refuses. Results also go to a JSON file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
HMS = str(Path(sys.executable).with_name("hms"))
USER, PASSWORD = "bench_doctor", "bench password 1234"


def secret_key() -> str:
    """The key the loaded data was signed with: HMS_SECRET_KEY, or the one `hms demo` keeps in
    its data folder (./var unless HMS_DATA_DIR says otherwise). With it the audit sealer links
    the run's entries as it would in production; with another key it stops at the first entry
    it cannot verify, and the run would not pay for sealing."""
    if key := os.environ.get("HMS_SECRET_KEY"):
        return key
    path = ROOT / os.environ.get("HMS_DATA_DIR", "var") / "secret_key"
    if path.exists():
        return path.read_text().strip()
    raise SystemExit(f"no {path}: set HMS_SECRET_KEY to the key the data was loaded with")


@dataclass(frozen=True)
class Operation:
    name: str
    script: str
    connections: int | None = None  # None: the run's --connections
    floor: bool = True


OPERATIONS = (
    Operation("get_patient", "get_patient.lua"),
    Operation("create_patient", "create_patient.lua"),
    Operation("search_patients", "search_patients.lua"),
    # A search's latency, the figure its target names, with no other request queued beside it
    # (at 32 connections on two cores even the floor's p95 is a queueing figure).
    Operation("search_alone", "search_patients.lua", connections=1),
    Operation("create_encounter", "create_encounter.lua"),
    Operation("provider_schedule", "provider_schedule.lua"),
    Operation("graphql_patient", "graphql_patient.lua"),
    # A month's report is a rare, heavy request: measured for its latency at low concurrency.
    Operation("analytics_month", "analytics.lua", connections=2, floor=False),
    Operation("mix", "mix.lua"),
)


@dataclass
class Result:
    server: str
    rps: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    requests: int = 0
    non2xx: int = 0
    socket_errors: int = 0
    peak_rss_mb: float = 0.0
    note: str = ""


@dataclass
class Row:
    operation: str
    connections: int
    hms: Result
    floor: Result | None = None
    ratio: float | None = None
    duties: Result | None = None
    duties_ratio: float | None = None
    stack: Result | None = None
    stack_ratio: float | None = None  # stack / floor: the ceiling of HMS / floor
    target: str = ""
    met: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Server:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int) -> None:
        self.name, self.port = name, port
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - open while the server runs
            prefix=f"bench-{name}-", suffix=".log", delete=False
        )
        self.proc = subprocess.Popen(  # noqa: S603 - our own commands
            argv, env=env, cwd=ROOT, stdout=self.log, stderr=self.log
        )
        self.url = f"http://127.0.0.1:{port}"

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited; see {self.log.name}")
            try:
                httpx.get(self.url + path, timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.3)
        raise SystemExit(f"{self.name} did not start; see {self.log.name}")

    def rss_mb(self) -> float:
        proc = psutil.Process(self.proc.pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class PeakSampler(threading.Thread):
    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server, self.peak, self.running = server, 0.0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.server.rss_mb())
            time.sleep(0.2)

    def stop(self) -> float:
        self.running = False
        self.join()
        return self.peak


def wrk(
    server: Server, op: Operation, connections: int, seconds: int, env: dict[str, str]
) -> Result:
    sampler = PeakSampler(server)
    sampler.start()
    argv = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        f"bench/wrk/{op.script}",
        server.url,
    ]
    out = subprocess.run(  # noqa: S603 - our own command
        argv, env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    peak = sampler.stop()
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no summary for {op.name}:\n{out.stdout}\n{out.stderr}")
    s = json.loads(line.removeprefix("BENCH_JSON "))
    return Result(
        server=server.name,
        rps=round(s["requests"] / (s["duration_us"] / 1e6), 1),
        p50_ms=s["p50_us"] / 1000,
        p95_ms=s["p95_us"] / 1000,
        p99_ms=s["p99_us"] / 1000,
        requests=s["requests"],
        non2xx=s["non2xx"],
        socket_errors=s["socket_errors"],
        peak_rss_mb=round(peak, 1),
    )


async def sample(database_url: str, folder: Path, doctor_provider: str) -> str:
    """Patients, names and busy provider days drawn from the data; returns the busiest day."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT id, first_name, last_name FROM patients TABLESAMPLE SYSTEM (2) "
            "WHERE is_active LIMIT 20000"
        )
        if not rows:
            rows = await conn.fetch("SELECT id, first_name, last_name FROM patients LIMIT 20000")
        days = await conn.fetch(
            "SELECT provider_id, (start_datetime AT TIME ZONE 'UTC')::date AS day, count(*) AS n "
            "FROM appointments WHERE start_datetime > now() - interval '30 days' "
            "GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 500"
        )
    finally:
        await conn.close()
    if not rows or not days:
        raise SystemExit("load a hospital first: hms demo --patients 1000000")
    (folder / "patient_ids.txt").write_text("".join(f"{r['id']}\n" for r in rows))
    (folder / "names.txt").write_text(
        "".join(f"{r['first_name']}\t{r['last_name']}\n" for r in rows)
    )
    (folder / "schedule_days.txt").write_text(
        "".join(f"{d['provider_id']}\t{d['day']}\n" for d in days)
    )
    (folder / "doctor_provider.txt").write_text(doctor_provider + "\n")
    return str(days[0]["day"])


UNSEALED = (
    "SELECT count(*) FROM audit_entries e, audit_chain_head h WHERE h.id = 1 "
    "AND e.xid >= h.sealed_xid AND (e.xid, e.seq) > (h.sealed_xid, h.sealed_seq)"
)


async def settle(database_url: str, limit: float = 120.0) -> int:
    """Waits until HMS's sealer has linked the audit entries of the rows before (or `limit`
    seconds); returns how many were left. Each row then starts from a quiet server, as its
    own figures should: the entries of a busy row (ten per search) would otherwise be sealed
    during the next one, on the same process."""
    conn = await asyncpg.connect(database_url)
    try:
        deadline = time.monotonic() + limit
        while True:
            left = int(await conn.fetchval(UNSEALED))
            if not left or time.monotonic() > deadline:
                return left
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


def month_of(day: str) -> tuple[str, str]:
    """The first and last day of the month of `day` (ISO dates)."""
    first = date.fromisoformat(day).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first.isoformat(), (following - timedelta(days=1)).isoformat()


def hms_env(args: argparse.Namespace, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "HMS_DATABASE_URL": args.database_url,
        "HMS_DATA_DIR": str(data_dir),
        "HMS_SECRET_KEY": args.secret_key,
        "HMS_ENV": "production",
        "HMS_RATE_LIMIT": "1000000/minute;100000/second",
        "HMS_ACCESS_TOKEN_TTL": "7200",
        "HMS_LOG_LEVEL": "WARNING",
        "HMS_DB_POOL_SIZE": "10",
    }


def ensure_user(env: dict[str, str]) -> None:
    subprocess.run(  # noqa: S603 - our own command
        [
            HMS,
            "users",
            "create",
            USER,
            "--role",
            "doctor",
            "--password-stdin",
            "--first-name",
            "Bench",
            "--last-name",
            "Doctor",
        ],
        input=PASSWORD + "\n",
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def judge(row: Row) -> None:
    h, ratio = row.hms, row.ratio
    checks: dict[str, tuple[str, bool | None]] = {
        "get_patient": (
            "≥0.5× floor, p99 <25 ms",
            None if ratio is None else ratio >= 0.5 and h.p99_ms < 25,
        ),
        "create_patient": ("≥0.35× floor", None if ratio is None else ratio >= 0.35),
        "search_alone": ("p95 <25 ms", h.p95_ms < 25),
        "analytics_month": ("<1 s (p99)", h.p99_ms < 1000 if not h.note else None),
        "mix": ("≥1,000 rps", h.rps >= 1000),
    }
    if row.operation in checks:
        row.target, row.met = checks[row.operation]
        # Where the stack's least misses the target too, no code on the stack can meet it.
        if row.met is False and row.stack is not None and row.stack_ratio is not None:
            if row.operation == "mix":
                row.target += f" (stack {row.stack.rps:.0f} rps)"
            elif row.operation != "search_alone":
                row.target += f" (stack {row.stack_ratio:.2f}× floor)"
    if h.non2xx or h.socket_errors or (not h.requests and not h.note):
        row.met = False if row.met is not None else None


def reference(app: str, port: int) -> list[str]:
    """The command line of a reference server: one uvicorn process."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def ratio_of(hms: Result, reference: Result) -> float | None:
    """HMS / reference, or None when the reference failed requests (its rate would be
    the rate of its failures)."""
    if reference.non2xx or reference.socket_errors or not reference.rps:
        return None
    return round(hms.rps / reference.rps, 3)


def median_round(rounds: list[Row]) -> Row:
    """The round whose HMS / duties ratio (HMS's rate where a row has no reference) is the
    median, with every round's ratios and rates kept in `extra`: this machine's speed drifts
    within minutes, and a change is only told apart from the drift by repeated rounds."""

    def key(r: Row) -> float:
        return r.duties_ratio if r.duties_ratio is not None else r.hms.rps

    chosen = sorted(rounds, key=key)[(len(rounds) - 1) // 2]
    if len(rounds) > 1:
        chosen.extra["rounds"] = [
            {
                "hms_rps": r.hms.rps,
                "floor_rps": r.floor.rps if r.floor else None,
                "duties_rps": r.duties.rps if r.duties else None,
                "ratio": r.ratio,
                "duties_ratio": r.duties_ratio,
                "stack_rps": r.stack.rps if r.stack else None,
                "stack_ratio": r.stack_ratio,
                "p95_ms": r.hms.p95_ms,
            }
            for r in rounds
        ]
    return chosen


def print_table(rows: list[Row], memory: dict[str, float]) -> None:
    head = (
        f"{'operation':<18}{'conn':>5}{'HMS rps':>10}{'p50':>8}{'p95':>8}{'p99':>8}"
        f"{'floor rps':>11}{'p99':>8}{'ratio':>7}{'duties rps':>12}{'ratio':>7}"
        f"{'stack rps':>11}{'/floor':>8}  target"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        f, d, st = r.floor, r.duties, r.stack
        mark = "" if r.met is None else (" met" if r.met else " MISSED")
        errors = "".join(
            f" ({result.server}: {result.non2xx + result.socket_errors} failed)"
            for result in (r.hms, f, d, st)
            if result is not None and (result.non2xx or result.socket_errors)
        )
        print(
            f"{r.operation:<18}{r.connections:>5}{r.hms.rps:>10.0f}{r.hms.p50_ms:>8.1f}"
            f"{r.hms.p95_ms:>8.1f}{r.hms.p99_ms:>8.1f}"
            f"{(f'{f.rps:.0f}' if f else '-'):>11}{(f'{f.p99_ms:.1f}' if f else '-'):>8}"
            f"{(f'{r.ratio:.2f}' if r.ratio is not None else '-'):>7}"
            f"{(f'{d.rps:.0f}' if d else '-'):>12}"
            f"{(f'{r.duties_ratio:.2f}' if r.duties_ratio is not None else '-'):>7}"
            f"{(f'{st.rps:.0f}' if st else '-'):>11}"
            f"{(f'{r.stack_ratio:.2f}' if r.stack_ratio is not None else '-'):>8}  "
            f"{r.target}{mark}{errors}{' ' + r.hms.note if r.hms.note else ''}"
        )
    print(
        f"peak RSS under load: HMS {memory['hms']:.0f} MB "
        f"({'met' if memory['hms'] < 250 else 'MISSED'}: <250 MB), floor {memory['floor']:.0f} MB, "
        f"duties {memory['duties']:.0f} MB, stack {memory['stack']:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=15, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="seconds before each measurement")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure each row this many times in turn and report the median round",
    )
    parser.add_argument("--only", nargs="*", help="operations to run (default: all)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--hms-port", type=int, default=8101)
    parser.add_argument("--floor-port", type=int, default=8102)
    parser.add_argument("--duties-port", type=int, default=8103)
    parser.add_argument("--stack-port", type=int, default=8104)
    args = parser.parse_args()
    args.secret_key = secret_key()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    work = Path(tempfile.mkdtemp(prefix="hms-bench-"))
    env = hms_env(args, work / "hms")
    ensure_user(env)
    hms = Server("hms", [HMS, "serve", "--port", str(args.hms_port)], env, args.hms_port)
    floor_env = {**os.environ, "HMS_BENCH_DATABASE_URL": args.database_url}
    floor = Server(
        "floor", reference("bench.floor:app", args.floor_port), floor_env, args.floor_port
    )
    # The duties reference checks HMS's tokens and sessions and signs audit entries as HMS does.
    duties_env = {
        **floor_env,
        "HMS_SECRET_KEY": args.secret_key,
        "HMS_DATA_DIR": env["HMS_DATA_DIR"],
    }
    duties = Server(
        "duties", reference("bench.floor:duties", args.duties_port), duties_env, args.duties_port
    )
    stack = Server(
        "stack", reference("bench.stack:app", args.stack_port), duties_env, args.stack_port
    )
    try:
        hms.wait_ready("/health/live")
        floor.wait_ready("/")
        duties.wait_ready("/")
        stack.wait_ready("/")
        token = httpx.post(
            f"{hms.url}/auth/token", json={"username": USER, "password": PASSWORD}
        ).json()["access_token"]
        me = httpx.get(f"{hms.url}/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
        data = work / "data"
        data.mkdir()
        busiest = asyncio.run(sample(args.database_url, data, me["provider_id"]))
        # The last whole month before the busiest day.
        month_start, month_end = month_of(
            (date.fromisoformat(busiest).replace(day=1) - timedelta(days=1)).isoformat()
        )
        wrk_env = {
            **os.environ,
            "BENCH_DATA": str(data),
            "BENCH_MONTH": month_start[:7],
            "BENCH_MONTH_END": month_end,
        }
        rows: list[Row] = []
        for op in OPERATIONS:
            if args.only and op.name not in args.only:
                continue
            conns = op.connections or args.connections
            hms_env_wrk = {**wrk_env, "BENCH_TOKEN": token}
            probe = (
                httpx.get(
                    f"{hms.url}/api/v1/analytics/patients?start_date={month_start}&end_date={month_end}",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=60,
                )
                if op.name == "analytics_month"
                else None
            )
            if probe is not None and probe.status_code == 404:
                rows.append(Row(op.name, conns, Result("hms", note="not available (404)")))
                print(f"{op.name}: not available (the endpoint answers 404)", flush=True)
                continue
            rounds: list[Row] = []
            for _ in range(args.rounds):
                if left := asyncio.run(settle(args.database_url)):
                    print(f"{op.name}: {left} audit entries still unsealed", flush=True)
                wrk(hms, op, conns, args.warmup, hms_env_wrk)
                result = wrk(hms, op, conns, args.duration, hms_env_wrk)
                row = Row(op.name, conns, result)
                if op.floor:
                    wrk(floor, op, conns, args.warmup, wrk_env)
                    row.floor = wrk(floor, op, conns, args.duration, wrk_env)
                    row.ratio = ratio_of(result, row.floor)
                    wrk(duties, op, conns, args.warmup, hms_env_wrk)
                    row.duties = wrk(duties, op, conns, args.duration, hms_env_wrk)
                    row.duties_ratio = ratio_of(result, row.duties)
                    wrk(stack, op, conns, args.warmup, hms_env_wrk)
                    row.stack = wrk(stack, op, conns, args.duration, hms_env_wrk)
                    if not (row.stack.non2xx or row.stack.socket_errors):
                        row.stack_ratio = ratio_of(row.stack, row.floor)
                rounds.append(row)
            row = median_round(rounds)
            judge(row)
            rows.append(row)
            print(
                f"{op.name}: HMS {row.hms.rps:.0f} rps p99 {row.hms.p99_ms:.1f} ms"
                + (f", floor {row.floor.rps:.0f} rps" if row.floor else ""),
                flush=True,
            )
        memory = {
            "hms": max((r.hms.peak_rss_mb for r in rows), default=0.0),
            "floor": max((r.floor.peak_rss_mb for r in rows if r.floor), default=0.0),
            "duties": max((r.duties.peak_rss_mb for r in rows if r.duties), default=0.0),
            "stack": max((r.stack.peak_rss_mb for r in rows if r.stack), default=0.0),
        }
        print()
        print_table(rows, memory)
        for r in rows:
            if spread := r.extra.get("rounds"):
                ratios = ", ".join(
                    f"{x['duties_ratio']:.2f}" if x["duties_ratio"] is not None else "-"
                    for x in spread
                )
                rates = ", ".join(f"{x['hms_rps']:.0f}" for x in spread)
                ceilings = ", ".join(
                    f"{x['stack_ratio']:.2f}" if x["stack_ratio"] is not None else "-"
                    for x in spread
                )
                print(
                    f"{r.operation}: HMS rps by round {rates}; HMS / duties {ratios}; "
                    f"stack / floor {ceilings}"
                )
        args.json.write_text(
            json.dumps(
                {
                    "connections": args.connections,
                    "duration_s": args.duration,
                    "rows": [asdict(r) for r in rows],
                    "peak_rss_mb": memory,
                },
                indent=2,
            )
        )
        print(f"\nwritten to {args.json}")
    finally:
        hms.stop()
        floor.stop()
        duties.stop()
        stack.stop()


if __name__ == "__main__":
    main()
