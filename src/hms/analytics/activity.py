"""Visits and revenue in a period: one aggregate query each (registrations are counted with
the demographics, in `hms.analytics.demographics`).

- Visits: clinical encounters dated in the period, not entered in error (drafts count: the
  patient was seen); `unique_patients` the patients they belong to; `average_duration` the mean
  booked length, in minutes, of the appointments in the period that were completed (an
  encounter records when it happened, not how long it took), null when there were none.
- Revenue: charges dated in the period, voided ones left out; `total`, `insurance` and
  `patient` are the sums of their amounts, `growth_rate` compares `total` with the previous
  period.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hms.analytics.measures import first_visit
from hms.analytics.models import RevenueDay, VisitSummary
from hms.analytics.period import Period
from hms.analytics.rates import growth, mean
from hms.appointments.models import Appointment


async def visits(session: AsyncSession, period: Period) -> dict[str, Any]:
    # One row per visit; the patients are counted by their first visit of the period.
    total, unique = (
        await session.execute(
            select(func.count(), func.count().filter(first_visit(period))).where(
                VisitSummary.visit_at >= period.since, VisitSummary.visit_at < period.until
            )
        )
    ).one()
    minutes, count = (
        await session.execute(
            select(func.sum(Appointment.duration), func.count()).where(
                Appointment.start_datetime >= period.since,
                Appointment.start_datetime < period.until,
                Appointment.status == "completed",
            )
        )
    ).one()
    return {
        "total": int(total),
        "unique_patients": int(unique),
        "average_duration": mean(minutes, count),
    }


async def revenue(session: AsyncSession, period: Period) -> dict[str, Any]:
    previous = period.previous()

    def cents(column: Any, span: Period) -> Any:
        inside = (RevenueDay.day >= span.start) & (RevenueDay.day <= span.end)
        return func.coalesce(func.sum(column).filter(inside), 0)

    # Summed from the revenue of each day, kept on write in whole cents.
    row = (
        await session.execute(
            select(
                cents(RevenueDay.total_cents, period),
                cents(RevenueDay.insurance_cents, period),
                cents(RevenueDay.patient_cents, period),
                cents(RevenueDay.total_cents, previous),
            ).where(RevenueDay.day >= previous.start, RevenueDay.day <= period.end)
        )
    ).one()
    total, insurance, patient, earlier = (Decimal(int(v)) / 100 for v in row)
    return {
        "total": total,
        "insurance": insurance,
        "patient": patient,
        "growth_rate": growth(total, earlier),
    }
