"""The one place GraphQL errors take their shape: the contract's code in `extensions.code`,
with the details REST would give (for VALIDATION_ERROR, the field in GraphQL's spelling)."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from graphql import GraphQLError
from hms.api.errors import infrastructure_error, validation_details
from hms.api.graphql.inputs import graphql_name
from hms.errors import HMSError, ValidationFailed

log = logging.getLogger("hms.graphql")


def _graphql_path(field: str) -> str:
    return ".".join(part if part.isdigit() else graphql_name(part) for part in field.split("."))


def domain_error(error: BaseException | None) -> HMSError | None:
    """The HMS error a resolver's failure means, if it is one the client should see."""
    if isinstance(error, HMSError):
        return error
    if error is not None and (known := infrastructure_error(error)) is not None:
        return known
    if isinstance(error, ValidationError):
        details = validation_details([dict(e) for e in error.errors()])
        for item in details["errors"]:
            item["field"] = _graphql_path(item["field"])
        details["field"] = details["errors"][0]["field"]
        failed = ValidationFailed(details["field"], details["error"])
        failed.details = details
        return failed
    return None


def format_error(error: GraphQLError, request_id: str | None) -> dict[str, Any]:
    original = error.original_error
    out: dict[str, Any] = {"message": error.message}
    if error.locations:
        out["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    if error.path:
        out["path"] = error.path
    if original is None:
        # Parse, validation, depth and cost errors: the document itself is refused.
        extensions: dict[str, Any] = {"code": "BAD_REQUEST"}
    elif (known := domain_error(original)) is not None:
        out["message"] = known.message
        extensions = {"code": known.code}
        if known.details:
            extensions["details"] = known.details
    else:
        log.error("GraphQL resolver failed", exc_info=original)
        out["message"] = "Internal server error"
        extensions = {"code": "INTERNAL_ERROR"}
    extensions["request_id"] = request_id
    out["extensions"] = extensions
    return out
