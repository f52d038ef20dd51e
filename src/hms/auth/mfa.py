"""TOTP (RFC 6238) with replay protection: a time step, once used, is never accepted again."""

from __future__ import annotations

import time

import pyotp

STEP = 30
WINDOW = 1  # one step either side, for clock drift


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, username: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step whose code equals `code`, within the drift window, else None."""
    code = (code or "").strip()
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int((now if now is not None else time.time()) // STEP)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None


def accept(secret: str, code: str, *, last_step: int | None) -> int | None:
    """The step to remember if `code` is valid and newer than the last one used, else None."""
    step = matching_step(secret, code)
    if step is None or (last_step is not None and step <= last_step):
        return None
    return step
