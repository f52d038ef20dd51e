from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from hms.billing.money import Amount, Money, PositiveMoney
from hms.clinical.coding import ICD10Code
from hms.schemas import InputModel, Link, Text

ChargeStatus = Literal["pending", "billed", "paid", "voided"]
ClaimStatus = Literal["submitted", "accepted", "rejected", "paid"]
CoverageType = Literal["private", "medicare", "medicaid", "self_pay"]
SubmissionMethod = Literal["electronic", "paper"]
PaymentMethod = Literal["cash", "card", "check", "bank_transfer", "other"]

# CPT Category I (5 digits), Category II/III (4 digits + F or T), PLA (4 digits + U); HCPCS
# Level II (a letter + 4 digits). Only the shape is checked: CPT descriptions are licensed.
_PROCEDURE = re.compile(r"^(?:\d{5}|\d{4}[FTU]|[A-Z]\d{4})$")
_MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
# Claim Adjustment Reason Codes with their group: CO-45, PR-1, OA-23, PI-97, CR-...
_ADJUSTMENT = re.compile(r"^(?:CO|PR|OA|PI|CR)-[A-Z0-9]{1,3}$")
MAX_CODES = 12


def _upper(value: str) -> str:
    return value.strip().upper()


def _procedure(value: str) -> str:
    value = _upper(value)
    if not _PROCEDURE.match(value):
        raise ValueError(
            "Use a CPT code (5 digits, or 4 digits and F, T or U) or a HCPCS Level II code "
            "(a letter and 4 digits)"
        )
    return value


def _modifier(value: str) -> str:
    value = _upper(value)
    if not _MODIFIER.match(value):
        raise ValueError("A modifier is two letters or digits, e.g. 25 or LT")
    return value


def _adjustment_code(value: str) -> str:
    value = _upper(value)
    if not _ADJUSTMENT.match(value):
        raise ValueError("Use a group and reason code, e.g. CO-45 or PR-1")
    return value


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


ProcedureCode = Annotated[str, Field(min_length=5, max_length=5), AfterValidator(_procedure)]
Modifier = Annotated[str, Field(min_length=2, max_length=2), AfterValidator(_modifier)]
Diagnoses = Annotated[list[ICD10Code], Field(max_length=MAX_CODES), AfterValidator(_unique)]
Modifiers = Annotated[list[Modifier], Field(max_length=4), AfterValidator(_unique)]
Instant = Annotated[AwareDatetime, AfterValidator(_utc)]
Quantity = Annotated[int, Field(ge=1, le=9999, description="Units of the procedure")]
Name = Annotated[Text, Field(min_length=1, max_length=200)]
Number = Annotated[Text, Field(min_length=1, max_length=64)]
Reason = Annotated[Text, Field(min_length=1, max_length=500)]
PatientRef = Annotated[str, Field(min_length=1, max_length=64)]


class ChargeCreate(InputModel):
    patient_id: PatientRef = Field(description="The patient's UUID or number")
    encounter_id: uuid.UUID | None = Field(None, description="An encounter of the same patient")
    charge_date: Instant | None = Field(None, description="Defaults to now")
    charge_code: ProcedureCode
    description: Annotated[Text, Field(max_length=500)] | None = None
    quantity: Quantity = 1
    unit_price: Money
    total_amount: Money | None = Field(None, description="quantity x unit_price; derived if absent")
    insurance_amount: Money | None = Field(None, description="The part billed to insurance")
    patient_amount: Money | None = Field(None, description="The patient's part")
    billing_provider_id: uuid.UUID | None = Field(
        None, description="Defaults to the encounter's provider"
    )
    diagnosis_codes: Diagnoses = Field(default_factory=list)
    modifiers: Modifiers = Field(default_factory=list)
    notes: Annotated[Text, Field(max_length=4000)] | None = None


class ChargeUpdate(InputModel):
    """Partial update of a pending charge; the amounts must still add up afterwards."""

    encounter_id: uuid.UUID | None = None
    charge_date: Instant | None = None
    charge_code: ProcedureCode | None = None
    description: Annotated[Text, Field(max_length=500)] | None = None
    quantity: Quantity | None = None
    unit_price: Money | None = None
    total_amount: Money | None = None
    insurance_amount: Money | None = None
    patient_amount: Money | None = None
    billing_provider_id: uuid.UUID | None = None
    diagnosis_codes: Diagnoses | None = None
    modifiers: Modifiers | None = None
    notes: Annotated[Text, Field(max_length=4000)] | None = None


class VoidRequest(InputModel):
    reason: Reason | None = None


class ChargeLinks(BaseModel):
    self_: Link = Field(serialization_alias="self")
    patient: Link
    encounter: Link | None = None
    billing_provider: Link


class ChargeSummary(BaseModel):
    id: uuid.UUID
    charge_number: str
    patient_id: uuid.UUID
    encounter_id: uuid.UUID | None
    charge_date: datetime
    charge_code: str
    description: str | None
    quantity: int
    unit_price: Amount
    total_amount: Amount
    insurance_amount: Amount
    patient_amount: Amount
    status: ChargeStatus
    billing_provider_id: uuid.UUID
    diagnosis_codes: list[str]
    modifiers: list[str]
    notes: str | None
    void_reason: str | None
    voided_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ChargeRead(ChargeSummary):
    links: ChargeLinks = Field(serialization_alias="_links")


class ClaimCreate(InputModel):
    patient_id: PatientRef
    insurance_provider: Name | None = Field(None, description="Defaults to the patient's payer")
    policy_number: Number | None = Field(None, description="Defaults to the patient's policy")
    group_number: Number | None = Field(None, description="Defaults to the patient's group")
    charges: Annotated[list[uuid.UUID], Field(min_length=1, max_length=100)] = Field(
        description="Pending charges of this patient"
    )
    total_amount: Money | None = Field(None, description="Must equal the charges' total")
    patient_responsibility: Money | None = Field(
        None, description="Must equal the charges' patient amounts"
    )
    submission_method: SubmissionMethod = "electronic"
    diagnoses: Diagnoses | None = Field(None, description="Defaults to the charges' codes")


class RejectRequest(InputModel):
    reason: Reason


class Adjustment(InputModel):
    reason_code: Annotated[str, Field(max_length=6), AfterValidator(_adjustment_code)]
    amount: PositiveMoney
    description: Annotated[Text, Field(max_length=200)] | None = None


class ClaimPayment(InputModel):
    insurance_paid: Money
    patient_paid: Money = Decimal("0.00")
    adjustments: list[Adjustment] = Field(default_factory=list, max_length=20)


class AdjustmentRead(BaseModel):
    reason_code: str
    amount: Amount
    description: str | None = None


class ClaimLinks(BaseModel):
    self_: Link = Field(serialization_alias="self")
    patient: Link
    charges: list[Link]
    resubmission_of: Link | None = None


class ClaimSummary(BaseModel):
    id: uuid.UUID
    claim_number: str
    patient_id: uuid.UUID
    insurance_provider: str
    policy_number: str
    group_number: str | None
    charges: list[uuid.UUID]
    total_amount: Amount
    patient_responsibility: Amount
    submission_method: SubmissionMethod
    diagnoses: list[str]
    status: ClaimStatus
    submitted_at: datetime
    accepted_at: datetime | None
    rejected_at: datetime | None
    rejection_reason: str | None
    paid_at: datetime | None
    insurance_paid: Amount | None
    patient_paid: Amount | None
    adjustments: list[AdjustmentRead]
    resubmission_of: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class ClaimRead(ClaimSummary):
    links: ClaimLinks = Field(serialization_alias="_links")


class CoverageUpdate(InputModel):
    coverage_type: CoverageType | None = None
    payer: Name | None = Field(None, description="The insurer, e.g. Blue Cross Blue Shield")
    policy_number: Number | None = None
    group_number: Number | None = None


class CoverageLinks(BaseModel):
    self_: Link = Field(serialization_alias="self")
    patient: Link


class CoverageRead(BaseModel):
    patient_id: uuid.UUID
    coverage_type: CoverageType
    payer: str | None
    policy_number: str | None
    group_number: str | None
    created_at: datetime
    updated_at: datetime
    links: CoverageLinks = Field(serialization_alias="_links")


class PaymentCreate(InputModel):
    patient_id: PatientRef
    amount: PositiveMoney
    method: PaymentMethod = "card"
    reference: Annotated[Text, Field(max_length=100)] | None = None
    received_at: Instant | None = Field(None, description="Defaults to now")


class PaymentRead(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    amount: Amount
    method: str
    reference: str | None
    received_at: datetime
    created_at: datetime
    links: CoverageLinks = Field(serialization_alias="_links")


class BalanceRead(BaseModel):
    patient_id: uuid.UUID
    charged: Amount = Field(description="Every charge not voided")
    insurance_paid: Amount
    patient_paid: Amount = Field(description="Payments recorded and patient payments on claims")
    adjustments: Amount
    outstanding: Amount
    links: CoverageLinks = Field(serialization_alias="_links")
