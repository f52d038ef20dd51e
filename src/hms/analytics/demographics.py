"""Who the patients on the register are, as percentages.

The population is the register at the period's end, which `registrations.total` counts:
active patients registered on or before the period's last day (`new`: those registered in the
period; `growth_rate` compares them with the previous period's; a deactivated record, mostly a
duplicate or a mistake, is counted nowhere). Ages are whole years on that
day. The API document's groups are 0-18, 19-35, 36-50, 51-65 and 65+ (which therefore means
66 and over). Genders are male, female, other and unknown (`U`). Insurance types are the
coverage recorded for billing; `unknown` counts patients with none recorded. Each group is a
percentage of the population, to one decimal; every group is null when the population is empty.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hms.analytics.models import PatientSummary
from hms.analytics.period import Period, years_before
from hms.analytics.rates import growth, percent
from hms.billing.models import COVERAGE_TYPES

AGE_GROUPS = (("0-18", 0, 18), ("19-35", 19, 35), ("36-50", 36, 50), ("51-65", 51, 65))
OLDEST = ("65+", 66)
GENDERS = (("male", "M"), ("female", "F"), ("other", "O"), ("unknown", "U"))


def _age_between(period: Period, low: int, high: int | None) -> ColumnElement[bool]:
    born = PatientSummary.date_of_birth <= years_before(period.end, low)
    if high is None:
        return born
    return born & (PatientSummary.date_of_birth > years_before(period.end, high + 1))


async def register(session: AsyncSession, period: Period) -> tuple[dict[str, Any], dict[str, Any]]:
    """(registrations, demographics): one pass over the register serves both, read from the
    patients' analytics summaries (narrow rows holding the coverage type as well)."""
    previous = period.previous()
    groups: dict[str, dict[str, ColumnElement[bool]]] = {
        "age_groups": {
            **{label: _age_between(period, low, high) for label, low, high in AGE_GROUPS},
            OLDEST[0]: _age_between(period, OLDEST[1], None),
        },
        "gender": {label: PatientSummary.gender == letter for label, letter in GENDERS},
        "insurance_types": {
            **{kind: PatientSummary.coverage_type == kind for kind in COVERAGE_TYPES},
            "unknown": PatientSummary.coverage_type.is_(None),
        },
    }
    registered = {
        "new": PatientSummary.created_at >= period.since,
        "earlier": (PatientSummary.created_at >= previous.since)
        & (PatientSummary.created_at < previous.until),
    }
    tests = [*registered.values(), *(t for group in groups.values() for t in group.values())]
    row = (
        await session.execute(
            select(func.count(), *(func.count().filter(test) for test in tests))
            .select_from(PatientSummary)
            .where(PatientSummary.is_active, PatientSummary.created_at < period.until)
        )
    ).one()
    population, new, earlier, *rest = (int(n) for n in row)
    counts = iter(rest)
    registrations = {"total": population, "new": new, "growth_rate": growth(new, earlier)}
    demographics = {
        name: {label: percent(next(counts), population) for label in group}
        for name, group in groups.items()
    }
    return registrations, demographics
