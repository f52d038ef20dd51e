"""The analytics operations: who may ask, what is computed, and the audit entry.

Analytics answer with aggregates only, to administrators and clinicians who hold
`analytics:read`; each request is audited as one aggregate read, without patient ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hms.analytics import activity
from hms.analytics.demographics import demographics
from hms.analytics.measures import MEASURES
from hms.analytics.period import Period
from hms.analytics.rates import percent
from hms.analytics.schemas import PATIENT_METRICS, ClinicalQuality, PatientAnalytics
from hms.audit import service as audit
from hms.auth.permissions import Actor, Permission
from hms.errors import ValidationFailed

COMPUTE = {
    "registrations": activity.registrations,
    "visits": activity.visits,
    "revenue": activity.revenue,
}


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
    computed = {name: await COMPUTE[name](session, period) for name in metrics}
    _audit(session, actor, "analytics.patients", period, {"metrics": list(metrics)})
    return PatientAnalytics.model_validate(
        {
            "start_date": period.start,
            "end_date": period.end,
            "metrics": computed,
            "demographics": await demographics(session, period),
        }
    )


async def clinical_quality(
    session: AsyncSession, *, actor: Actor, period: Period, targets: Mapping[str, float]
) -> ClinicalQuality:
    actor.require(Permission.ANALYTICS_READ)
    results: dict[str, Any] = {}
    for measure in MEASURES:
        eligible, met = (await session.execute(measure.counts(period))).one()
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
