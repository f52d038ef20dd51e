"""Every operation of the OpenAPI document, fuzzed: valid and invalid inputs, missing
credentials, unexpected methods, each case sent as an admin, a doctor and a patient. No answer
may be a 5xx, and every answer must be documented: its status, its body's schema, its content
type and its headers.

Operations are read from the served document, so an endpoint added later is fuzzed too."""

from __future__ import annotations

import schemathesis

from tests.fuzz.support import FUZZ_SETTINGS, SCHEMA, Target

# Logout ends the caller's session; it is fuzzed on its own, with a fresh sign-in per example
# (test_auth.py).
OPERATIONS = SCHEMA.exclude(path="/auth/logout")


@OPERATIONS.parametrize()
@FUZZ_SETTINGS
def test_operation(case: schemathesis.Case, fuzz_target: Target) -> None:
    fuzz_target.exercise(case)
