"""The clinical quality measures: each one's definition, in the manner of the CMS eCQMs, here
and nowhere else (docs/decisions.md "Analytics" repeats them for readers of the docs).

Every measure is a count of an eligible population (the denominator) and of those in it who
meet the measure (the numerator), for a period of whole UTC days. Shared terms:

- *a visit in the period*: a clinical encounter dated in the period and not entered in error
  (drafts count: the patient was seen);
- *age*: whole years on the period's last day;
- *has a condition*: see `hms.analytics.conditions`.

`rate` is numerator / eligible in percent, rounded to one decimal, null when nobody is eligible;
`status` is `met` when the rate reaches the target, `not_met` below it, null without a rate.
Targets default to the API document's and are set with `HMS_ANALYTICS_TARGETS`.

All four are counted in one scan of the period's visit summaries (`VisitSummary`): a patient
seen in the period is its first visit there, the latest blood pressure of the period the reading
whose next one falls after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, Subquery, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from hms.analytics.conditions import COLORECTAL_CANCER, DIABETES, HYPERTENSION
from hms.analytics.models import VisitSummary
from hms.analytics.period import Period, years_before
from hms.billing.models import Charge
from hms.laboratory.models import LabResult

HBA1C_LOINC = ("4548-4", "17856-6", "4549-2")
VISITS = VisitSummary.__table__


def first_visit(period: Period) -> ColumnElement[bool]:
    """True for a visit of the period that is its patient's first there: one row per patient
    seen in the period."""
    before = VISITS.c.previous_visit_at
    return or_(before.is_(None), before < period.since)


def aged(
    period: Period,
    born: ColumnElement[date] | InstrumentedAttribute[date],
    low: int,
    high: int | None = None,
) -> ColumnElement[bool]:
    """Born `born`, the patient is `low` to `high` years old (both included) on the period's
    last day."""
    condition = born <= years_before(period.end, low)
    if high is None:
        return condition
    return and_(condition, born > years_before(period.end, high + 1))


@dataclass(frozen=True)
class Counted:
    """How a measure is counted over the period's visit rows: the rows that each count one
    eligible (patient or visit), those that each count one meeting the measure, and the
    subqueries they need (outer-joined on their condition)."""

    eligible: ColumnElement[bool]
    meeting: ColumnElement[bool]
    joins: list[tuple[Subquery, ColumnElement[bool]]] = field(default_factory=list)


@dataclass(frozen=True)
class Measure:
    name: str
    numerator: str  # the name of the numerator's field in the response
    counted: Callable[[Period], Counted]


def blood_pressure_control(period: Period) -> Counted:
    """Controlling high blood pressure (after CMS165).

    Eligible: patients aged 18 to 85 with hypertension (ICD-10-CM I10-I16, or written in their
    medical conditions) and a visit in the period.
    Numerator (`controlled`): the latest blood pressure recorded in the period (systolic and
    diastolic both taken; of readings at the same instant, the lowest systolic) is below
    140/90, that is systolic < 140 and diastolic < 90. No reading in the period is not controlled.
    Default target 90.0 %.
    """
    v = VISITS.c
    patient = and_(
        aged(period, v.date_of_birth, 18, 85), HYPERTENSION.on_record(VISITS, until=period.until)
    )
    latest = and_(
        v.systolic.is_not(None),
        or_(v.next_reading_at.is_(None), v.next_reading_at >= period.until),
    )
    return Counted(
        eligible=and_(first_visit(period), patient),
        meeting=and_(latest, v.systolic < 140, v.diastolic < 90, patient),
    )


def diabetes_hba1c_control(period: Period) -> Counted:
    """Diabetes: hemoglobin A1c control below 8.0 % (after HEDIS HBD and CMS122).

    Eligible: patients aged 18 to 75 with diabetes mellitus (ICD-10-CM E10, E11, E13, or
    written in their medical conditions) and a visit in the period.
    Numerator (`controlled`): the latest HbA1c result (LOINC 4548-4, 17856-6 or 4549-2) resulted
    in the period has a numeric value below 8.0 (%). No result in the period is not controlled.
    Default target 85.0 %.
    """
    r = LabResult
    ranked = (
        select(
            r.patient_id,
            r.value_numeric,
            func.row_number()
            .over(partition_by=r.patient_id, order_by=(r.resulted_at.desc(), r.value_numeric))
            .label("n"),
        )
        .where(
            r.loinc_code.in_(HBA1C_LOINC),
            r.resulted_at >= period.since,
            r.resulted_at < period.until,
            r.value_numeric.is_not(None),
        )
        .subquery()
    )
    controlled = (
        select(ranked.c.patient_id).where(ranked.c.n == 1, ranked.c.value_numeric < 8.0).subquery()
    )
    v = VISITS.c
    eligible = and_(
        first_visit(period),
        aged(period, v.date_of_birth, 18, 75),
        DIABETES.on_record(VISITS, until=period.until),
    )
    return Counted(
        eligible=eligible,
        meeting=and_(eligible, controlled.c.patient_id.is_not(None)),
        joins=[(controlled, controlled.c.patient_id == v.patient_id)],
    )


# CPT and HCPCS codes of colorectal cancer screening, with how many years each one counts
# (the period's year and the years before it), as in CMS130.
SCREENING_LOOKBACK: dict[int, tuple[str, ...]] = {
    10: ("45378", "45380", "45381", "45384", "45385", "45388", "G0105", "G0121"),  # colonoscopy
    5: ("45330", "45331", "45333", "45338", "45346", "G0104", "74261", "74262", "74263"),
    3: ("81528",),  # stool DNA with FIT
    1: ("82270", "82274", "G0328"),  # gFOBT and FIT
}


def cancer_screening(period: Period) -> Counted:
    """Colorectal cancer screening (after CMS130).

    Eligible: patients aged 45 to 75 with a visit in the period, except those with colorectal
    cancer (ICD-10-CM C18-C20, history Z85.03x-Z85.04x, or written in their medical conditions).
    Numerator (`screened`): a charge (not voided) on or before the period's last day for a
    screening procedure within its look-back: colonoscopy (CPT 45378-45388, HCPCS G0105, G0121)
    in the last 10 years; flexible sigmoidoscopy (45330-45346, G0104) or CT colonography
    (74261-74263) in the last 5 years; stool DNA with FIT (81528) in the last 3 years; gFOBT or
    FIT (82270, 82274, G0328) in the last year. "The last N years" ends on the period's last day.
    Default target 80.0 %.
    """
    windows = [
        and_(
            Charge.charge_code.in_(codes),
            Charge.charge_date
            >= Period(_day_after(years_before(period.end, years)), period.end).since,
        )
        for years, codes in SCREENING_LOOKBACK.items()
    ]
    screened = (
        select(Charge.patient_id)
        .where(Charge.status != "voided", Charge.charge_date < period.until, or_(*windows))
        .distinct()
        .subquery()
    )
    v = VISITS.c
    eligible = and_(
        first_visit(period),
        aged(period, v.date_of_birth, 45, 75),
        COLORECTAL_CANCER.not_on_record(VISITS, until=period.until),
    )
    return Counted(
        eligible=eligible,
        meeting=and_(eligible, screened.c.patient_id.is_not(None)),
        joins=[(screened, screened.c.patient_id == v.patient_id)],
    )


# Quality-data codes that say the clinician documented or reconciled the current medications:
# HCPCS G8427 (CMS68 / MIPS 130), CPT II 1159F and 1160F (list documented, reviewed),
# 1111F (discharge medications reconciled).
RECONCILIATION_CODES = ("G8427", "1159F", "1160F", "1111F")


def medication_reconciliation(period: Period) -> Counted:
    """Documentation of current medications (after CMS68), counted per visit.

    Eligible: visits (encounters dated in the period, not entered in error) of patients aged 18
    or over.
    Numerator (`reconciled`): visits with a charge (not voided) for a medication reconciliation
    code: HCPCS G8427, CPT II 1159F, 1160F or 1111F.
    Default target 95.0 %.
    """
    documented = (
        select(Charge.encounter_id)
        .where(Charge.charge_code.in_(RECONCILIATION_CODES), Charge.status != "voided")
        .distinct()
        .subquery()
    )
    adult = aged(period, VISITS.c.date_of_birth, 18)
    return Counted(
        eligible=adult,
        meeting=and_(adult, documented.c.encounter_id.is_not(None)),
        joins=[(documented, documented.c.encounter_id == VISITS.c.encounter_id)],
    )


def _day_after(day: date) -> date:
    """ "The last N years" to a day starts the day after the same date N years earlier."""
    return day + timedelta(days=1)


MEASURES = (
    Measure("blood_pressure_control", "controlled", blood_pressure_control),
    Measure("diabetes_hba1c_control", "controlled", diabetes_hba1c_control),
    Measure("cancer_screening", "screened", cancer_screening),
    Measure("medication_reconciliation", "reconciled", medication_reconciliation),
)


def counts(period: Period) -> Select[Any]:
    """One row: (eligible, numerator) of every measure in turn, from one scan of the period's
    visits."""
    columns: list[ColumnElement[Any]] = []
    rows: FromClause = VISITS
    for measure in MEASURES:
        counted = measure.counted(period)
        for subquery, on in counted.joins:
            rows = rows.outerjoin(subquery, on)
        columns += [func.count().filter(counted.eligible), func.count().filter(counted.meeting)]
    return (
        select(*columns)
        .select_from(rows)
        .where(VISITS.c.visit_at >= period.since, VISITS.c.visit_at < period.until)
    )
