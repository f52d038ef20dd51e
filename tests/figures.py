"""Figures the reliability tests measure (fuzz cases run, races run, acknowledged writes checked
after each crash, losses), printed together at the end of the run; docs/reliability.md quotes
them."""

from __future__ import annotations

from collections import defaultdict

FIGURES: defaultdict[str, int] = defaultdict(int)


def count(name: str, amount: int = 1) -> None:
    """Add to a figure, e.g. count("crash: acknowledged writes checked", 412)."""
    FIGURES[name] += amount


def summary() -> list[str]:
    width = max((len(name) for name in FIGURES), default=0)
    return [f"{name:<{width}}  {FIGURES[name]}" for name in sorted(FIGURES)]
