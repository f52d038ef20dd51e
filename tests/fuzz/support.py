"""The fuzz run's target: the app's own OpenAPI document, the checks, and a signed-in caller.

The app under test runs in schemathesis' own event loop (its in-process ASGI client), so it
gets a runtime of its own, built from the same test settings as the `client` fixture's app.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import BaseSchema
from schemathesis.python import asgi

from hms.api.docs import OPENAPI_PATH
from hms.app import create_app
from hms.config import Settings
from tests.factories import PASSWORD
from tests.figures import count

# A modest run per operation keeps CI time reasonable; the coverage phase adds the boundary and
# missing-credential cases on top of these, and each case is sent once per role (ROLES). Raise it
# for a deeper run.
MAX_EXAMPLES = int(os.environ.get("HMS_FUZZ_MAX_EXAMPLES", "10"))

# What every answer is held to: every check schemathesis has, but for these. Not
# `positive_data_acceptance`: NPI check digits, phone numbers and the like are checked beyond
# what a JSON schema can say. Not `object_level_authorization`: who may read whose record is a
# matter of role and relationship, checked role by role in each domain's access tests. Not
# `negative_data_rejection` yet: date and date-time query parameters accept a number as a Unix
# timestamp (`?start_date=0`, `?until=0.5`), which the document does not allow. Not
# `ignored_auth`, `use_after_free` and `ensure_resource_availability`: they send requests of their
# own through a new client, outside the in-process app under test (and the last two only in the
# stateful phase); `Target.exercise` probes what `ignored_auth` would, on the same client.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "unsupported_method",
    "missing_required_header",
    "allow_header_conformance",
)

FUZZ_SETTINGS = hypothesis_settings(
    deadline=None,
    # The same cases on every run, so that a red CI run is a regression, not a new draw; set
    # HMS_FUZZ_RANDOM=1 to explore fresh cases (what was found that way is pinned in test_found).
    derandomize=not os.environ.get("HMS_FUZZ_RANDOM"),
    database=None,
    # The app, its database and the signed-in accounts are built once per operation and
    # shared by its examples on purpose; a fresh database per example would be far too slow.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _served_document() -> dict[str, Any]:
    # Read over HTTP from the path integrators use, so the fuzzed document is the served one.
    settings = Settings(
        database_url="sqlite://", data_dir=Path(tempfile.gettempdir()), secret_key="openapi"
    )
    response = asgi.get_client(create_app(settings)).get(OPENAPI_PATH)
    response.raise_for_status()
    return dict(response.json())


DOCUMENT = _served_document()


def _schema(*, coverage: bool) -> BaseSchema:
    config = {
        "generation": {"max-examples": MAX_EXAMPLES, "mode": "all"},
        "phases": {"coverage": {"enabled": coverage}, "stateful": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    }
    return schemathesis.openapi.from_dict(DOCUMENT, config=schemathesis.Config.from_dict(config))


# Random inputs plus the coverage phase's boundary values, missing credentials and unexpected
# methods.
SCHEMA = _schema(coverage=True)


@dataclass
class Caller:
    """A signed-in account of the app under test; `sign_in` again after a logout."""

    http: asgi.ASGIClient
    username: str
    role: str = "admin"
    token: str = ""

    def sign_in(self) -> dict[str, str]:
        response = self.http.post(
            "/auth/token", json={"username": self.username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        return self.headers

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Target:
    http: asgi.ASGIClient
    admin: Caller
    # Path parameter name -> references of records that exist, so that reads, updates and
    # deletions also reach real rows and not only the 404 branch.
    refs: dict[str, list[str]] = field(default_factory=dict)
    # Who else sends each case: a doctor and a patient (whose own record is in `refs`).
    others: list[Caller] = field(default_factory=list)

    def exercise(self, case: schemathesis.Case) -> None:
        """Send the generated case as every role (invalid input as the admin only); then,
        when its input is valid and its path names a known kind of record, the same case
        against a record that exists."""
        valid = case.meta is not None and case.meta.generation.mode.is_positive
        # Invalid input is about validation, which the admin's answers cover; what the other
        # roles add is the answers (and refusals) of valid requests.
        callers = (self.admin, *self.others) if valid else (self.admin,)
        for caller in callers:
            self.send(case, caller)
        params = case.path_parameters or {}
        known = {name: self.refs[name] for name in params if name in self.refs}
        if not known or not valid:
            return
        for name, refs in known.items():
            # Chosen from the case itself, so that a failing example replays identically.
            params[name] = refs[len(str(params[name])) % len(refs)]
        for caller in callers:
            self.send(case, caller)

    def send(self, case: schemathesis.Case, caller: Caller) -> None:
        response = case.call_and_validate(session=self.http, headers=caller.headers)
        count(f"fuzz: cases run as {caller.role}")
        if 200 <= response.status_code < 300 and _secured(case):
            self.probe_auth(case)

    def probe_auth(self, case: schemathesis.Case) -> None:
        """What `ignored_auth` checks: an operation that answered 2xx with credentials must
        refuse the same request without them, and with a forged token."""
        probes = [{"Authorization": "Bearer not-a-token"}]
        if "authorization" not in {k.lower() for k in (case.headers or {})}:
            probes.append({})
        for headers in probes:
            refused = case.call(session=self.http, headers=headers)
            assert refused.status_code == 401, (case.method, case.path, refused.text)
            count("fuzz: credential probes (no or forged token answered 401)")


def _secured(case: schemathesis.Case) -> bool:
    operation = DOCUMENT["paths"][case.path][case.method.lower()]
    return bool(operation.get("security"))
