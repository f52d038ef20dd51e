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

from sqlalchemy import CTE, ColumnElement, Select, Subquery, and_, case, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from hms.analytics.conditions import (
    COLORECTAL_CANCER,
    DIABETES,
    HYPERTENSION,
    conditions_text,
)
from hms.analytics.period import Period, years_before
from hms.billing.models import Charge
from hms.clinical.models import Encounter, VitalSignsReading
from hms.laboratory.models import LabResult
from hms.patients.models import Patient

HBA1C_LOINC = ("4548-4", "17856-6", "4549-2")


def seen(period: Period) -> CTE:
    """The patients with a visit in the period: their id, birth date and conditions text.

    Worked out once per statement (materialized), so that the conditions text is read for these
    patients only, not for the whole register."""
    visits = select(Encounter.patient_id).where(
        Encounter.encounter_date >= period.since,
        Encounter.encounter_date < period.until,
        Encounter.status != "entered_in_error",
    )
    return (
        select(Patient.id, Patient.date_of_birth, conditions_text().label("conditions"))
        .where(Patient.id.in_(visits))
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


@dataclass(frozen=True)
class Measure:
    name: str
    numerator: str  # the name of the numerator's field in the response
    counts: Callable[[Period], Select[int, int]]  # one row: (eligible, numerator)


def blood_pressure_control(period: Period) -> Select[int, int]:
    """Controlling high blood pressure (after CMS165).

    Eligible: patients aged 18 to 85 with hypertension (ICD-10-CM I10-I16, or written in their
    medical conditions) and a visit in the period.
    Numerator (`controlled`): the latest blood pressure recorded in the period (systolic and
    diastolic both taken; of readings at the same instant, the lowest systolic) is below
    140/90, that is systolic < 140 and diastolic < 90. No reading in the period is not controlled.
    Default target 90.0 %.
    """
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
        )
        .subquery()
    )
    controlled = (
        select(ranked.c.patient_id)
        .where(ranked.c.n == 1, ranked.c.systolic < 140, ranked.c.diastolic < 90)
        .subquery()
    )
    patients = seen(period)
    return _patients_meeting(
        patients,
        controlled,
        aged(period, patients.c.date_of_birth, 18, 85),
        HYPERTENSION.on_record(patients, until=period.until),
    )


def diabetes_hba1c_control(period: Period) -> Select[int, int]:
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
    patients = seen(period)
    return _patients_meeting(
        patients,
        controlled,
        aged(period, patients.c.date_of_birth, 18, 75),
        DIABETES.on_record(patients, until=period.until),
    )


# CPT and HCPCS codes of colorectal cancer screening, with how many years each one counts
# (the period's year and the years before it), as in CMS130.
SCREENING_LOOKBACK: dict[int, tuple[str, ...]] = {
    10: ("45378", "45380", "45381", "45384", "45385", "45388", "G0105", "G0121"),  # colonoscopy
    5: ("45330", "45331", "45333", "45338", "45346", "G0104", "74261", "74262", "74263"),
    3: ("81528",),  # stool DNA with FIT
    1: ("82270", "82274", "G0328"),  # gFOBT and FIT
}


def cancer_screening(period: Period) -> Select[int, int]:
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
    patients = seen(period)
    return _patients_meeting(
        patients,
        screened,
        aged(period, patients.c.date_of_birth, 45, 75),
        COLORECTAL_CANCER.not_on_record(patients, until=period.until),
    )


# Quality-data codes that say the clinician documented or reconciled the current medications:
# HCPCS G8427 (CMS68 / MIPS 130), CPT II 1159F and 1160F (list documented, reviewed),
# 1111F (discharge medications reconciled).
RECONCILIATION_CODES = ("G8427", "1159F", "1160F", "1111F")


def medication_reconciliation(period: Period) -> Select[int, int]:
    """Documentation of current medications (after CMS68), counted per visit.

    Eligible: visits (encounters dated in the period, not entered in error) of patients aged 18
    or over.
    Numerator (`reconciled`): visits with a charge (not voided) for a medication reconciliation
    code: HCPCS G8427, CPT II 1159F, 1160F or 1111F.
    Default target 95.0 %.
    """
    reconciled = exists(
        select(Charge.id).where(
            Charge.encounter_id == Encounter.id,
            Charge.charge_code.in_(RECONCILIATION_CODES),
            Charge.status != "voided",
        )
    )
    return (
        select(func.count(), func.count(case((reconciled, 1))))
        .select_from(Encounter)
        .join(Patient, Patient.id == Encounter.patient_id)
        .where(
            Encounter.encounter_date >= period.since,
            Encounter.encounter_date < period.until,
            Encounter.status != "entered_in_error",
            aged(period, Patient.date_of_birth, 18),
        )
    )


def _day_after(day: date) -> date:
    """ "The last N years" to a day starts the day after the same date N years earlier."""
    return day + timedelta(days=1)


def _patients_meeting(
    patients: CTE, meeting: Subquery, *eligibility: ColumnElement[bool]
) -> Select[int, int]:
    """(eligible, numerator): the eligible among `patients`, and those of them in `meeting`."""
    return (
        select(func.count(), func.count(meeting.c.patient_id))
        .select_from(patients)
        .outerjoin(meeting, meeting.c.patient_id == patients.c.id)
        .where(*eligibility)
    )


MEASURES = (
    Measure("blood_pressure_control", "controlled", blood_pressure_control),
    Measure("diabetes_hba1c_control", "controlled", diabetes_hba1c_control),
    Measure("cancer_screening", "screened", cancer_screening),
    Measure("medication_reconciliation", "reconciled", medication_reconciliation),
)
