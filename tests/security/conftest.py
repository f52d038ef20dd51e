from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.security.tally import FIGURES

LABELS = {
    "routes": "HTTP endpoints in the route table",
    "route_role_checks": "endpoint x role calls checked (function-level authorization)",
    "route_role_allowed": "  of which allowed by the permission map, and let through",
    "route_role_denied": "  of which denied by the permission map, and refused with 403",
    "anonymous_checks": "endpoints called without a token (401 unless public)",
    "bola_attempts": "attempts to reach another patient's or a restricted patient's data",
    "bola_unauthorized_reads": "unauthorized reads that succeeded",
    "mass_assignment_fields": "forbidden fields sent to create/update bodies",
    "exposure_responses": "GET responses walked for secrets",
    "exposure_findings": "secrets found in responses",
}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("security figures")
    for key, label in LABELS.items():
        if key in FIGURES or key.endswith(("reads", "findings")):
            terminalreporter.write_line(f"{FIGURES[key]:>7}  {label}")
    if target := os.environ.get("HMS_SECURITY_REPORT"):
        Path(target).write_text(json.dumps(dict(FIGURES), indent=2, sort_keys=True))
