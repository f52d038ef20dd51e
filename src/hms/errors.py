"""Domain errors: a code, an HTTP-like status, a message and details. No framework imports."""

from __future__ import annotations

from typing import Any


class HMSError(Exception):
    code = "INTERNAL_ERROR"
    status = 500
    message = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        keep_changes: bool = False,
    ) -> None:
        self.message = message or self.message
        self.details = details or {}
        self.headers = headers or {}
        # The failure is itself a state change to keep (a failed-login count, a revoked token
        # family): the unit of work commits before the error is returned.
        self.keep_changes = keep_changes
        super().__init__(self.message)


class BadRequest(HMSError):
    code, status, message = "BAD_REQUEST", 400, "Bad request"


class Unauthorized(HMSError):
    code, status, message = "UNAUTHORIZED", 401, "Authentication required"

    def __init__(self, message: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kw)


class Forbidden(HMSError):
    code, status, message = "FORBIDDEN", 403, "You do not have permission to do this"


class MFAEnrollmentRequired(Forbidden):
    code = "MFA_ENROLLMENT_REQUIRED"
    message = (
        "Multi-factor authentication is required for this account: enrol with "
        "POST /auth/mfa/setup and POST /auth/mfa/verify, then retry"
    )


class NotFound(HMSError):
    code, status, message = "NOT_FOUND", 404, "Not found"


class Conflict(HMSError):
    code, status, message = "CONFLICT", 409, "Conflict with the current state"


class PreconditionFailed(HMSError):
    code, status, message = "PRECONDITION_FAILED", 412, "The resource has changed (stale If-Match)"


class PayloadTooLarge(HMSError):
    code, status, message = "PAYLOAD_TOO_LARGE", 413, "Request body too large"


class ValidationFailed(HMSError):
    """422 with the contract's details: the first problem's field/error plus all of them."""

    code, status, message = "VALIDATION_ERROR", 422, "Invalid request data"

    def __init__(self, field: str, error: str, *, message: str | None = None) -> None:
        super().__init__(
            message or f"{field}: {error}",
            details={"field": field, "error": error, "errors": [{"field": field, "error": error}]},
        )


class RateLimited(HMSError):
    code, status, message = "RATE_LIMITED", 429, "Too many requests"


class ServiceUnavailable(HMSError):
    code, status, message = "SERVICE_UNAVAILABLE", 503, "Service unavailable"
