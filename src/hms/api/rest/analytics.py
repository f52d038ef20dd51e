"""Analytics: aggregate figures over a period, for administrators and clinicians."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from hms.analytics import service
from hms.analytics.period import Period
from hms.analytics.schemas import ClinicalQuality, PatientAnalytics
from hms.api.deps import ActorDep, SessionDep, get_runtime
from hms.billing.money import json_bytes

router = APIRouter(prefix="/analytics", tags=["analytics"])

StartDate = Annotated[date, Query(description="First day of the period (UTC), YYYY-MM-DD")]
EndDate = Annotated[date, Query(description="Last day of the period (UTC), included")]
MetricsQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="Comma-separated: registrations, visits, revenue (all when absent); "
        "demographics are always answered",
    ),
]


@router.get("/patients", response_model=PatientAnalytics)
async def patient_analytics(
    session: SessionDep,
    actor: ActorDep,
    start_date: StartDate,
    end_date: EndDate,
    metrics: MetricsQuery = None,
) -> Response:
    """Registrations, visits and revenue in the period, each compared with the previous period
    of the same length, and the demographics of the patients on the register at its end.
    Rates are percentages to one decimal, null when there is nothing to divide by."""
    period = Period.checked(start_date, end_date)
    body = await service.patient_analytics(
        session, actor=actor, period=period, metrics=service.chosen_metrics(metrics)
    )
    # Metrics not asked for are left out, not sent as null.
    data = body.model_dump(by_alias=True, exclude_unset=True)
    return Response(json_bytes(data), media_type="application/json")


@router.get("/clinical-quality", response_model=ClinicalQuality)
async def clinical_quality(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    start_date: StartDate,
    end_date: EndDate,
) -> Response:
    """The clinical quality measures for the period: blood-pressure control, HbA1c control,
    colorectal cancer screening and medication reconciliation, each with its eligible
    population, numerator, rate, target and status. The definitions are in the docs."""
    period = Period.checked(start_date, end_date)
    targets = get_runtime(request).settings.analytics_targets
    body = await service.clinical_quality(session, actor=actor, period=period, targets=targets)
    return Response(json_bytes(body), media_type="application/json")
