"""When a patient "has" a condition: the contract's two sources, as SQL.

A condition is on record when the patient's `medical_conditions` (free text, as the API document
writes it: "Hypertension", "Diabetes Type 2") mentions it, or when any diagnosis coded on one of
its encounters up to the end of the period falls in the condition's ICD-10-CM range. Coded
diagnoses of an encounter marked entered in error are not in the diagnoses table at all.

Free text is matched on the lower-cased list as a whole: a pattern is a substring (`hypertens`
also finds "hypertensive heart disease"), and an exclusion drops the match (`diabetes insipidus`
is not diabetes mellitus). A patient whose list names both is judged by the coded diagnoses.

Both sources are kept per patient in the analytics summary (`hms.analytics.summaries`): whether
the text names the condition, and the date of its first coded diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import FromClause, String, and_, cast, func, not_, or_
from sqlalchemy.sql.elements import ColumnElement

from hms.clinical.models import Diagnosis
from hms.patients.models import Patient


@dataclass(frozen=True)
class Condition:
    name: str
    # Substrings of the lower-cased medical_conditions text.
    patterns: tuple[str, ...]
    excluded: tuple[str, ...]
    # Half-open ranges of dotted ICD-10-CM codes: ("I10", "I17") is I10 to I16.x.
    codes: tuple[tuple[str, str], ...]

    @property
    def key(self) -> str:
        """The prefix of this condition's columns in the patient summary."""
        return self.name.replace(" ", "_")

    def written(self, text: ColumnElement[str]) -> ColumnElement[bool]:
        """True when the lower-cased conditions `text` names this condition."""
        return and_(
            or_(*(text.like(f"%{p}%") for p in self.patterns)),
            *(not_(text.like(f"%{x}%")) for x in self.excluded),
        )

    def coded(self) -> ColumnElement[bool]:
        """True for a row of the diagnoses in one of this condition's code ranges."""
        return or_(
            *(and_(Diagnosis.code >= low, Diagnosis.code < high) for low, high in self.codes)
        )

    def on_record(self, patients: FromClause, *, until: datetime) -> ColumnElement[bool]:
        """True for a row of `patients` (with the summary's columns) that has this condition
        by `until`."""
        since = patients.c[f"{self.key}_coded_since"]
        return or_(patients.c[f"{self.key}_written"], since < until)

    def not_on_record(self, patients: FromClause, *, until: datetime) -> ColumnElement[bool]:
        since = patients.c[f"{self.key}_coded_since"]
        return and_(not_(patients.c[f"{self.key}_written"]), or_(since.is_(None), since >= until))


def conditions_text() -> ColumnElement[str]:
    """A patient's `medical_conditions` as lower-case text, what the patterns are matched in."""
    return func.lower(cast(Patient.medical_conditions, String))


HYPERTENSION = Condition(
    name="hypertension",
    patterns=("hypertens", "high blood pressure", "htn"),
    excluded=("pulmonary hypertension", "intracranial hypertension", "ocular hypertension"),
    # I10 essential, I11 heart disease, I12 kidney disease, I13 both, I15 secondary, I16 crisis.
    codes=(("I10", "I17"),),
)

DIABETES = Condition(
    name="diabetes",
    patterns=("diabet", "t1dm", "t2dm"),
    excluded=("insipidus", "prediabet", "pre-diabet", "gestational diabet"),
    # E10 type 1, E11 type 2, E13 other specified diabetes mellitus.
    codes=(("E10", "E12"), ("E13", "E14")),
)

COLORECTAL_CANCER = Condition(
    name="colorectal cancer",
    patterns=("colon cancer", "colorectal cancer", "rectal cancer", "bowel cancer"),
    excluded=(),
    # C18 colon, C19 rectosigmoid junction, C20 rectum; Z85.03/Z85.04 personal history.
    codes=(("C18", "C21"), ("Z85.03", "Z85.05")),
)


CONDITIONS = (HYPERTENSION, DIABETES, COLORECTAL_CANCER)
