"""Logout, fuzzed apart from the rest: each example signs in afresh, so that ending a session
never starves the other examples of a valid token."""

from __future__ import annotations

import schemathesis

from tests.fuzz.support import FUZZ_SETTINGS, SCHEMA, Target


@SCHEMA.include(path="/auth/logout").parametrize()
@FUZZ_SETTINGS
def test_logout(case: schemathesis.Case, fuzz_target: Target) -> None:
    headers = fuzz_target.admin.sign_in()
    response = case.call_and_validate(session=fuzz_target.http, headers=headers)
    if response.status_code == 204:
        after = fuzz_target.http.get("/auth/me", headers=headers)
        assert after.status_code == 401, after.text
