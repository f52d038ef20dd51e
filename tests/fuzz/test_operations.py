"""Every operation of the OpenAPI document, fuzzed: valid and invalid inputs, missing
credentials, unexpected methods. No answer may be a 5xx, and every answer must be documented:
its status, its body's schema, its content type and its headers.

Operations are read from the served document, so an endpoint added later is fuzzed too."""

from __future__ import annotations

import schemathesis

from tests.fuzz.support import FUZZ_SETTINGS, RANDOM_ONLY, SCHEMA, Caller, Target

# Logout ends the caller's session; it is fuzzed on its own, with a fresh sign-in per example
# (test_auth.py).
as_admin = SCHEMA.exclude(path="/auth/logout")
as_doctor = RANDOM_ONLY.include(path_regex=r"^/api/v1/patients")


@as_admin.parametrize()
@FUZZ_SETTINGS
def test_operation_as_admin(case: schemathesis.Case, fuzz_target: Target) -> None:
    fuzz_target.exercise(case, fuzz_target.admin)


@as_doctor.parametrize()
@FUZZ_SETTINGS
def test_patient_operation_as_doctor(
    case: schemathesis.Case, fuzz_target: Target, fuzz_doctor_caller: Caller
) -> None:
    fuzz_target.exercise(case, fuzz_doctor_caller)
