"""The API document's analytics responses. Aggregates only: nothing here names a patient."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from hms.billing.money import Amount

Rate = float | None
PATIENT_METRICS = ("registrations", "visits", "revenue")


class Registrations(BaseModel):
    total: int = Field(description="Active patients registered by the period's last day")
    new: int = Field(description="Active patients registered in the period")
    growth_rate: Rate = Field(description="% change of `new` from the previous period")


class Visits(BaseModel):
    total: int = Field(description="Encounters dated in the period, not entered in error")
    unique_patients: int
    average_duration: Rate = Field(description="Mean minutes of the completed appointments")


class Revenue(BaseModel):
    total: Amount
    insurance: Amount
    patient: Amount
    growth_rate: Rate = Field(description="% change of `total` from the previous period")


class PatientMetrics(BaseModel):
    registrations: Registrations | None = None
    visits: Visits | None = None
    revenue: Revenue | None = None


class Demographics(BaseModel):
    age_groups: dict[str, Rate] = Field(description="% of patients per age group")
    gender: dict[str, Rate]
    insurance_types: dict[str, Rate]


class PatientAnalytics(BaseModel):
    start_date: date
    end_date: date
    metrics: PatientMetrics
    demographics: Demographics


class QualityMeasure(BaseModel):
    eligible: int
    rate: Rate
    target: float
    status: Literal["met", "not_met"] | None = Field(description="null when nobody is eligible")


class BloodPressureControl(QualityMeasure):
    controlled: int


class HbA1cControl(QualityMeasure):
    controlled: int


class CancerScreening(QualityMeasure):
    screened: int


class MedicationReconciliation(QualityMeasure):
    reconciled: int


class QualityMetrics(BaseModel):
    blood_pressure_control: BloodPressureControl
    diabetes_hba1c_control: HbA1cControl
    cancer_screening: CancerScreening
    medication_reconciliation: MedicationReconciliation


class ClinicalQuality(BaseModel):
    start_date: date
    end_date: date
    metrics: QualityMetrics
