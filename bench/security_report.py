"""Access-control figures (not part of the test suite's assertions, which stand on their own).

Runs the security tests (tests/security) through the real app on SQLite, and on PostgreSQL when
HMS_TEST_DATABASE_URL is set, and prints what they checked: endpoints x roles, attempts to reach
another patient's or a restricted patient's data, and how many of those succeeded (must be 0).

    .venv/bin/python bench/security_report.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABELS = {
    "routes": "HTTP endpoints in the route table (x backends)",
    "route_role_checks": "endpoint/channel x role calls checked",
    "route_role_allowed": "  allowed by the permission map and let through",
    "route_role_denied": "  denied by the permission map and refused (403)",
    "anonymous_checks": "endpoint calls without a token",
    "bola_attempts": "attempts on another or a restricted patient's data (REST, GraphQL, WS)",
    "bola_unauthorized_reads": "unauthorized reads that succeeded",
    "mass_assignment_fields": "server-owned fields sent in create/update bodies (all refused)",
    "exposure_responses": "responses walked for secrets",
    "exposure_findings": "secrets found",
}


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "figures.json"
        env = {**os.environ, "HMS_SECURITY_REPORT": str(target)}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "tests/security", "-q", "-p", "no:cacheprovider"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        figures = json.loads(target.read_text()) if target.exists() else {}
    backends = "SQLite" + (" and PostgreSQL" if os.environ.get("HMS_TEST_DATABASE_URL") else "")
    print(f"security tests on {backends}: {'passed' if run.returncode == 0 else 'FAILED'}")
    for key, label in LABELS.items():
        print(f"{figures.get(key, 0):>7}  {label}")
    if run.returncode != 0:
        print(run.stdout[-4000:])
    return run.returncode


if __name__ == "__main__":
    raise SystemExit(main())
