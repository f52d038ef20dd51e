"""A transaction the database aborted to let a concurrent one go on (deadlock, serialization
failure) is a conflict the client can retry, on REST and GraphQL alike; never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from hms.api.errors import concurrency_conflict, database_unavailable
from hms.api.graphql.errors import domain_error


class DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


def aborted(sqlstate: str) -> DBAPIError:
    return DBAPIError("UPDATE patients ...", None, DriverError(sqlstate))


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_deadlock_and_serialization_failure_are_conflicts(sqlstate: str) -> None:
    error = aborted(sqlstate)
    assert concurrency_conflict(error)
    assert not database_unavailable(error)
    known = domain_error(error)
    assert known is not None and (known.status, known.code) == (409, "CONFLICT")
    assert "retry" in known.message


def test_other_database_errors_are_not_conflicts() -> None:
    error = aborted("42P01")  # undefined table: a bug, not a collision
    assert not concurrency_conflict(error)
    assert domain_error(error) is None
