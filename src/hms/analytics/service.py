"""The analytics operations: who may ask, what is computed, and the audit entry.

Analytics answer with aggregates only, to administrators and clinicians who hold
`analytics:read`; each request is audited as one aggregate read, without patient ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hms.analytics import activity
from hms.analytics.demographics import register
from hms.analytics.measures import MEASURES, counts
from hms.analytics.period import Period
from hms.analytics.rates import percent
from hms.analytics.schemas import PATIENT_METRICS, ClinicalQuality, PatientAnalytics
from hms.audit import service as audit
from hms.auth.permissions import Actor, Permission
from hms.errors import ValidationFailed

REPORTING_WORK_MEM = "64MB"
COMPUTE = {"visits": activity.visits, "revenue": activity.revenue}


def chosen_metrics(text: str | None) -> tuple[str, ...]:
    """`registrations,visits` as names; all of them when absent. `demographics` is accepted
    and always answered (the API document returns it beside whichever metrics were asked)."""
    if text is None or not text.strip():
        return PATIENT_METRICS
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - {*PATIENT_METRICS, "demographics"})
    if unknown:
        raise ValidationFailed(
            "metrics", f"Unknown metric {unknown[0]!r}; use {', '.join(PATIENT_METRICS)}"
        )
    return tuple(name for name in PATIENT_METRICS if name in names)


async def patient_analytics(
    session: AsyncSession, *, actor: Actor, period: Period, metrics: Sequence[str]
) -> PatientAnalytics:
    actor.require(Permission.ANALYTICS_READ)
    await _reporting(session)
    registrations, demographics = await register(session, period)
    computed = {
        name: registrations if name == "registrations" else await COMPUTE[name](session, period)
        for name in metrics
    }
    _audit(session, actor, "analytics.patients", period, {"metrics": list(metrics)})
    return PatientAnalytics.model_validate(
        {
            "start_date": period.start,
            "end_date": period.end,
            "metrics": computed,
            "demographics": demographics,
        }
    )


async def clinical_quality(
    session: AsyncSession, *, actor: Actor, period: Period, targets: Mapping[str, float]
) -> ClinicalQuality:
    actor.require(Permission.ANALYTICS_READ)
    await _reporting(session)
    results: dict[str, Any] = {}
    row = iter((await session.execute(counts(period))).one())
    for measure in MEASURES:
        eligible, met = next(row), next(row)
        rate = percent(int(met), int(eligible))
        target = float(targets[measure.name])
        results[measure.name] = {
            "eligible": int(eligible),
            measure.numerator: int(met),
            "rate": rate,
            "target": target,
            "status": None if rate is None else "met" if rate >= target else "not_met",
        }
    _audit(session, actor, "analytics.clinical_quality", period, {})
    return ClinicalQuality.model_validate(
        {"start_date": period.start, "end_date": period.end, "metrics": results}
    )


async def _reporting(session: AsyncSession) -> None:
    """Aggregates over a year of a large hospital sort and hash hundreds of thousands of rows:
    on PostgreSQL, give this transaction's statements the memory to do it without spilling to
    disk (the server's default, 4 MB, suits the many small queries of everything else)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(f"SET LOCAL work_mem = '{REPORTING_WORK_MEM}'"))
        # Compiling these one-off statements to machine code costs more than it saves.
        await session.execute(text("SET LOCAL jit = off"))


def _audit(
    session: AsyncSession, actor: Actor, action: str, period: Period, details: dict[str, Any]
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="analytics",
        details={"start_date": str(period.start), "end_date": str(period.end), **details},
    )
