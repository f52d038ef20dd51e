"""TOTP codes for the tests: one that is valid but not yet spent, and one that is never valid."""

from __future__ import annotations

import time

import pyotp

from hms.auth import mfa


def next_code(secret: str) -> str:
    """The code of the next time step: still inside the drift window, and newer than any code
    the current step has already spent."""
    return pyotp.TOTP(secret).at(time.time() + mfa.STEP)


def wrong_code(secret: str) -> str:
    """A well-formed code that no step near now produces."""
    totp = pyotp.TOTP(secret)
    now = time.time()
    near = {totp.at(now + offset * mfa.STEP) for offset in range(-2, 3)}
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in near)
