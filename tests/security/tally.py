"""Figures the access-control tests count as they go, printed at the end of the run (see
conftest.py) and written as JSON when HMS_SECURITY_REPORT names a file."""

from __future__ import annotations

from collections import Counter

FIGURES: Counter[str] = Counter()


def count(name: str, n: int = 1) -> None:
    FIGURES[name] += n
