from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from hms.clinical.coding import ICD10Code
from hms.patients.schemas import Address, Phone
from hms.schemas import InputModel, Link, Text

PrescriptionStatus = Literal["active", "on_hold", "cancelled", "completed", "expired"]
Severity = Literal["contraindicated", "major", "moderate", "minor"]

# 10-digit NDCs are written 4-4-2, 5-3-2 or 5-4-1; the 11-digit (HIPAA) form 5-4-2 or bare.
_NDC = re.compile(
    r"^(\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d{1}|\d{5}-\d{4}-\d{2}|\d{11})$"
)
_SCHEDULES = {"2": "II", "3": "III", "4": "IV", "5": "V"}


def _ndc(value: str) -> str:
    if not _NDC.match(value):
        raise ValueError(
            "An NDC is 10 digits written 4-4-2, 5-3-2 or 5-4-1 with dashes, or 11 digits"
        )
    return value


def _schedule(value: Any) -> Any:
    # "CII", "C-II", "2" and "ii" all mean Schedule II.
    if isinstance(value, str | int):
        text = str(value).strip().upper().removeprefix("C").removeprefix("-")
        return _SCHEDULES.get(text, text)
    return value


NDC = Annotated[str, Field(max_length=13, examples=["12345-678-90"]), AfterValidator(_ndc)]
Schedule = Annotated[Literal["II", "III", "IV", "V"], BeforeValidator(_schedule)]
Label = Annotated[Text, Field(min_length=1, max_length=100)]
DrugName = Annotated[Text, Field(min_length=1, max_length=200)]
LongText = Annotated[Text, Field(max_length=2000)]
Reason = Annotated[Text, Field(min_length=1, max_length=2000)]


class MedicationIn(InputModel):
    name: DrugName
    strength: Label | None = None
    form: Label | None = None
    ndc: NDC | None = None


class Dosage(InputModel):
    amount: Annotated[int | float, Field(gt=0, le=100_000)] | None = None
    unit: Label | None = None
    frequency: Label | None = None
    timing: Label | None = None
    duration: Annotated[int, Field(ge=1, le=3650)] | None = None
    duration_unit: Label | None = None
    instructions: LongText | None = None
    indications: LongText | None = None


class Refills(InputModel):
    authorized: Annotated[int, Field(ge=0, le=99)] = 0
    remaining: Annotated[int, Field(ge=0, le=99)] | None = Field(
        None, description="Equals `authorized` on a new prescription"
    )


class PharmacyIn(InputModel):
    name: Label
    ncpdp: Annotated[str, Field(pattern=r"^\d{7}$")] | None = None
    address: Address | None = None
    phone: Phone | None = None


class PrescriptionContent(InputModel):
    """What the prescriber signs: fixed once signed."""

    medication: MedicationIn
    dosage: Dosage
    substitutions: Literal["allowed", "not_allowed"] = "allowed"
    refills: Refills = Field(default_factory=Refills)
    pharmacy: PharmacyIn | None = None
    diagnosis_codes: list[ICD10Code] = Field(default_factory=list, max_length=20)
    notes: LongText | None = None
    controlled_substance: bool = False
    schedule: Schedule | None = Field(None, description="DEA schedule II-V of a controlled drug")
    dea_number: Annotated[str, Field(max_length=9)] | None = Field(
        None, description="The prescriber's DEA number; must match its provider record"
    )


class PrescriptionCreate(PrescriptionContent):
    patient_id: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="The patient's UUID or number"
    )
    provider_id: uuid.UUID | None = Field(
        None, description="The prescriber; defaults to the signed-in doctor's provider record"
    )
    mfa_code: Annotated[str, Field(max_length=10)] | None = Field(
        None, description="A current TOTP code of the prescriber: required for controlled drugs"
    )
    override_reason: Reason | None = Field(
        None, description="Why a contraindicated combination or an allergy is accepted"
    )


class PrescriptionUpdate(InputModel):
    """Only `status` (and its reason) changes on a signed prescription; clinical content sent
    with another value is a 409: cancel the prescription and write a new one."""

    medication: MedicationIn | None = None
    dosage: Dosage | None = None
    substitutions: Literal["allowed", "not_allowed"] | None = None
    refills: Refills | None = None
    pharmacy: PharmacyIn | None = None
    diagnosis_codes: list[ICD10Code] | None = Field(None, max_length=20)
    notes: LongText | None = None
    controlled_substance: bool | None = None
    schedule: Schedule | None = None
    dea_number: Annotated[str, Field(max_length=9)] | None = None
    status: PrescriptionStatus | None = None
    status_reason: Reason | None = None


class DispenseRequest(InputModel):
    quantity: Label | None = Field(None, description="What was handed out, e.g. '30 tablets'")
    ndc: NDC | None = Field(None, description="The NDC of the package dispensed")
    notes: LongText | None = None


class CheckedMedicationIn(InputModel):
    name: DrugName
    ndc: NDC | None = None
    strength: Label | None = None
    form: Label | None = None


class InteractionCheckRequest(InputModel):
    patient_id: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        None,
        description="Adds the patient's current medications, active prescriptions and "
        "allergies to the check",
    )
    medications: list[CheckedMedicationIn] = Field(min_length=1, max_length=50)


class MedicationRead(BaseModel):
    name: str
    strength: str | None = None
    form: str | None = None
    ndc: str | None = None


class DosageRead(BaseModel):
    amount: int | float | None = None
    unit: str | None = None
    frequency: str | None = None
    timing: str | None = None
    duration: int | None = None
    duration_unit: str | None = None
    instructions: str | None = None
    indications: str | None = None


class RefillsRead(BaseModel):
    authorized: int
    remaining: int


class PharmacyRead(BaseModel):
    name: str
    ncpdp: str | None = None
    address: dict[str, str] | None = Field(None, description="As sent")
    phone: str | None = None


class InteractionRead(BaseModel):
    id: str = Field(description="The knowledge base entry")
    severity: Severity
    interaction_type: str
    description: str
    recommendation: str
    references: list[str]
    medications: list[str]


class AllergyConflict(BaseModel):
    medication: str
    match: Literal["same_drug", "same_class", "cross_reactivity"]
    risk: Literal["high", "low"]
    description: str
    references: list[str]


class AllergyRead(BaseModel):
    medication: str = Field(description="The recorded allergen")
    severity: str | None
    reaction: str | None
    conflicts_with: list[AllergyConflict]


class CheckedMedication(BaseModel):
    name: str
    source: Literal["listed", "current_medication", "prescription"]
    recognized: bool


class Alerts(BaseModel):
    interactions: list[InteractionRead] = Field(default_factory=list)
    allergies: list[AllergyRead] = Field(default_factory=list)
    unchecked: list[str] = Field(default_factory=list)


class InteractionCheckRead(Alerts):
    medications: list[CheckedMedication]
    checked_at: datetime


class PrescriptionLinks(BaseModel):
    self_: Link = Field(serialization_alias="self")
    patient: Link
    provider: Link
    fills: Link


class PrescriptionRead(BaseModel):
    id: uuid.UUID
    prescription_number: str
    patient_id: uuid.UUID
    provider_id: uuid.UUID
    medication: MedicationRead
    dosage: DosageRead
    substitutions: str
    refills: RefillsRead
    pharmacy: PharmacyRead | None
    diagnosis_codes: list[str]
    notes: str | None
    status: PrescriptionStatus
    status_reason: str | None
    date_written: datetime
    expires_at: datetime
    controlled_substance: bool
    schedule: str | None
    dea_number: str | None
    fill_count: int = Field(description="Fills so far: the first fill and each refill")
    alerts: Alerts
    override_reason: str | None
    created_at: datetime
    updated_at: datetime
    links: PrescriptionLinks = Field(serialization_alias="_links")


class DispensedBy(BaseModel):
    user_id: uuid.UUID | None
    username: str | None


class FillRead(BaseModel):
    id: uuid.UUID
    prescription_id: uuid.UUID
    fill_number: int
    refill: bool = Field(description="false for the first fill, true for each refill")
    quantity: str | None
    ndc: str | None
    notes: str | None
    dispensed_by: DispensedBy
    dispensed_at: datetime
