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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    FromClause,
    Select,
    Subquery,
    and_,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute

from hms.analytics.conditions import COLORECTAL_CANCER, CONDITIONS, DIABETES, HYPERTENSION
from hms.analytics.models import PatientSummary
from hms.analytics.period import Period, years_before
from hms.billing.models import Charge
from hms.clinical.models import Encounter, VitalSignsReading
from hms.laboratory.models import LabResult

HBA1C_LOINC = ("4548-4", "17856-6", "4549-2")


def seen(period: Period) -> CTE:
    """The patients with a visit in the period: their summary (birth date, conditions) and how
    many visits they had. Worked out once per request (materialized) and shared by every
    measure."""
    visits = (
        select(Encounter.patient_id, func.count().label("visits"))
        .where(
            Encounter.encounter_date >= period.since,
            Encounter.encounter_date < period.until,
            Encounter.status != "entered_in_error",
        )
        .group_by(Encounter.patient_id)
        .subquery()
    )
    summary = PatientSummary
    return (
        select(
            summary.patient_id.label("id"),
            summary.date_of_birth,
            *(
                getattr(summary, f"{condition.key}_{part}")
                for condition in CONDITIONS
                for part in ("written", "coded_since")
            ),
            visits.c.visits,
        )
        .join(visits, visits.c.patient_id == summary.patient_id)
        .cte("seen")
        .prefix_with("MATERIALIZED")
    )


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


# A measure's parts for the patients seen in the period: who of them is eligible, and the
# subquery (patient_id, n) of those who meet it, n being 1, or the visits a per-visit measure
# counts.
Parts = tuple[ColumnElement[bool], Subquery]


@dataclass(frozen=True)
class Measure:
    name: str
    numerator: str  # the name of the numerator's field in the response
    parts: Callable[[Period, CTE], Parts]
    per_visit: bool = False  # counts visits rather than patients


def blood_pressure_control(period: Period, patients: CTE) -> Parts:
    """Controlling high blood pressure (after CMS165).

    Eligible: patients aged 18 to 85 with hypertension (ICD-10-CM I10-I16, or written in their
    medical conditions) and a visit in the period.
    Numerator (`controlled`): the latest blood pressure recorded in the period (systolic and
    diastolic both taken; of readings at the same instant, the lowest systolic) is below
    140/90, that is systolic < 140 and diastolic < 90. No reading in the period is not controlled.
    Default target 90.0 %.
    """
    eligible = and_(
        aged(period, patients.c.date_of_birth, 18, 85),
        HYPERTENSION.on_record(patients, until=period.until),
    )
    v = VitalSignsReading
    ranked = (
        select(
            v.patient_id,
            v.systolic,
            v.diastolic,
            func.row_number()
            .over(
                partition_by=v.patient_id, order_by=(v.recorded_at.desc(), v.systolic, v.diastolic)
            )
            .label("n"),
        )
        .where(
            v.recorded_at >= period.since,
            v.recorded_at < period.until,
            v.systolic.is_not(None),
            v.diastolic.is_not(None),
            # Ranked for the eligible only: the readings of everybody else do not matter.
            v.patient_id.in_(select(patients.c.id).where(eligible)),
        )
        .subquery()
    )
    controlled = select(ranked.c.patient_id, literal(1).label("n")).where(
        ranked.c.n == 1, ranked.c.systolic < 140, ranked.c.diastolic < 90
    )
    return eligible, controlled.subquery()


def diabetes_hba1c_control(period: Period, patients: CTE) -> Parts:
    """Diabetes: hemoglobin A1c control below 8.0 % (after HEDIS HBD and CMS122).

    Eligible: patients aged 18 to 75 with diabetes mellitus (ICD-10-CM E10, E11, E13, or
    written in their medical conditions) and a visit in the period.
    Numerator (`controlled`): the latest HbA1c result (LOINC 4548-4, 17856-6 or 4549-2) resulted
    in the period has a numeric value below 8.0 (%). No result in the period is not controlled.
    Default target 85.0 %.
    """
    eligible = and_(
        aged(period, patients.c.date_of_birth, 18, 75),
        DIABETES.on_record(patients, until=period.until),
    )
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
    controlled = select(ranked.c.patient_id, literal(1).label("n")).where(
        ranked.c.n == 1, ranked.c.value_numeric < 8.0
    )
    return eligible, controlled.subquery()


# CPT and HCPCS codes of colorectal cancer screening, with how many years each one counts
# (the period's year and the years before it), as in CMS130.
SCREENING_LOOKBACK: dict[int, tuple[str, ...]] = {
    10: ("45378", "45380", "45381", "45384", "45385", "45388", "G0105", "G0121"),  # colonoscopy
    5: ("45330", "45331", "45333", "45338", "45346", "G0104", "74261", "74262", "74263"),
    3: ("81528",),  # stool DNA with FIT
    1: ("82270", "82274", "G0328"),  # gFOBT and FIT
}


def cancer_screening(period: Period, patients: CTE) -> Parts:
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
    eligible = and_(
        aged(period, patients.c.date_of_birth, 45, 75),
        COLORECTAL_CANCER.not_on_record(patients, until=period.until),
    )
    windows = [
        and_(
            Charge.charge_code.in_(codes),
            Charge.charge_date
            >= Period(_day_after(years_before(period.end, years)), period.end).since,
        )
        for years, codes in SCREENING_LOOKBACK.items()
    ]
    screened = (
        select(Charge.patient_id, literal(1).label("n"))
        .where(Charge.status != "voided", Charge.charge_date < period.until, or_(*windows))
        .distinct()
    )
    return eligible, screened.subquery()


# Quality-data codes that say the clinician documented or reconciled the current medications:
# HCPCS G8427 (CMS68 / MIPS 130), CPT II 1159F and 1160F (list documented, reviewed),
# 1111F (discharge medications reconciled).
RECONCILIATION_CODES = ("G8427", "1159F", "1160F", "1111F")


def medication_reconciliation(period: Period, patients: CTE) -> Parts:
    """Documentation of current medications (after CMS68), counted per visit.

    Eligible: visits (encounters dated in the period, not entered in error) of patients aged 18
    or over.
    Numerator (`reconciled`): visits with a charge (not voided) for a medication reconciliation
    code: HCPCS G8427, CPT II 1159F, 1160F or 1111F.
    Default target 95.0 %.
    """
    documented = select(Charge.encounter_id).where(
        Charge.charge_code.in_(RECONCILIATION_CODES), Charge.status != "voided"
    )
    reconciled = (
        select(Encounter.patient_id, func.count().label("n"))
        .where(
            Encounter.encounter_date >= period.since,
            Encounter.encounter_date < period.until,
            Encounter.status != "entered_in_error",
            Encounter.id.in_(documented),
        )
        .group_by(Encounter.patient_id)
    )
    return aged(period, patients.c.date_of_birth, 18), reconciled.subquery()


def _day_after(day: date) -> date:
    """ "The last N years" to a day starts the day after the same date N years earlier."""
    return day + timedelta(days=1)


MEASURES = (
    Measure("blood_pressure_control", "controlled", blood_pressure_control),
    Measure("diabetes_hba1c_control", "controlled", diabetes_hba1c_control),
    Measure("cancer_screening", "screened", cancer_screening),
    Measure("medication_reconciliation", "reconciled", medication_reconciliation, per_visit=True),
)


def counts(period: Period) -> Select[Any]:
    """One row: (eligible, numerator) of every measure in turn, in one pass over the patients
    seen in the period."""
    patients = seen(period)
    columns: list[ColumnElement[Any]] = []
    joined: FromClause = patients
    for measure in MEASURES:
        eligible, meeting = measure.parts(period, patients)
        joined = joined.outerjoin(meeting, meeting.c.patient_id == patients.c.id)
        weight = patients.c.visits if measure.per_visit else literal(1)
        columns += [
            func.coalesce(func.sum(weight).filter(eligible), 0),
            func.coalesce(func.sum(meeting.c.n).filter(eligible), 0),
        ]
    return select(*columns).select_from(joined)
