"""GraphQL object types, derived from the domains' Read schemas (one source of truth; names
in camelCase). Nested lists and references resolve through the request's DataLoaders."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import strawberry
from pydantic import BaseModel, create_model
from strawberry.experimental.pydantic import type as from_model
from strawberry.scalars import JSON
from strawberry.types.base import StrawberryList, StrawberryOptional, has_object_definition
from strawberry.types.union import StrawberryUnion

from hms.api.graphql.context import GraphQLContext
from hms.appointments.models import Appointment as AppointmentRow
from hms.appointments.schemas import AppointmentSummary
from hms.billing import records as billing_records
from hms.billing.models import Charge as ChargeRow
from hms.billing.models import Claim as ClaimRow
from hms.billing.schemas import AdjustmentRead, ChargeSummary, ClaimSummary
from hms.clinical import coding
from hms.clinical.models import Encounter
from hms.clinical.schemas import AssessmentRead, DiagnosisRead, EncounterData, EncounterRead
from hms.clinical.schemas import PlanRead as PlanItemRead
from hms.laboratory.models import LabOrder as LabOrderRow
from hms.laboratory.schemas import (
    ComponentRead,
    LabOrderRead,
    PreviousValue,
    ResultsRead,
    TestRead,
    TestResultRead,
)
from hms.patients.models import Patient as PatientRow
from hms.patients.schemas import (
    AddressRead,
    EmergencyContactRead,
    MedicationRead,
    PatientRead,
)
from hms.pharmacy import records as prescription_records
from hms.pharmacy.models import Prescription as PrescriptionRow
from hms.pharmacy.schemas import DosageRead, PrescriptionRead, RefillsRead
from hms.pharmacy.schemas import MedicationRead as PrescribedMedicationRead
from hms.providers.models import Provider as ProviderRow
from hms.providers.schemas import ProviderRead

Info = strawberry.Info[GraphQLContext, None]


def _without_links(model: type[BaseModel]) -> type[BaseModel]:
    """The Read schema minus its REST `_links`: GraphQL clients follow fields, not URLs."""
    return create_model(f"{model.__name__}Fields", __base__=model, links=(Any, None))


PatientFields = _without_links(PatientRead)
EncounterFields = _without_links(EncounterRead)
ProviderFields = _without_links(ProviderRead)
PrescriptionFields = _without_links(PrescriptionRead)
LabOrderFields = _without_links(LabOrderRead)


@from_model(model=AddressRead, all_fields=True, name="Address")
class Address:
    pass


@from_model(model=EmergencyContactRead, all_fields=True, name="EmergencyContact")
class EmergencyContact:
    pass


@from_model(model=MedicationRead, all_fields=True, name="CurrentMedication")
class CurrentMedication:
    pass


@from_model(model=AssessmentRead, all_fields=True, name="Assessment")
class Assessment:
    pass


@from_model(model=PlanItemRead, all_fields=True, name="PlanItem")
class PlanItem:
    pass


@from_model(model=DiagnosisRead, all_fields=True, name="Diagnosis")
class Diagnosis:
    pass


@from_model(model=ProviderFields, name="Provider")
class Provider:
    id: strawberry.auto
    first_name: strawberry.auto
    last_name: strawberry.auto
    specialty: strawberry.auto
    npi: strawberry.auto
    email: strawberry.auto
    phone: strawberry.auto
    is_active: strawberry.auto


@from_model(model=EncounterFields, name="ClinicalEncounter")
class ClinicalEncounter:
    id: strawberry.auto
    patient_id: strawberry.auto
    provider_id: strawberry.auto
    encounter_type: strawberry.auto
    encounter_date: strawberry.auto
    location: strawberry.auto
    chief_complaint: strawberry.auto
    history_of_present_illness: strawberry.auto
    review_of_systems: JSON
    physical_examination: JSON
    assessment: strawberry.auto
    plan: strawberry.auto
    diagnoses: strawberry.auto
    status: strawberry.auto
    created_at: strawberry.auto
    updated_at: strawberry.auto

    @strawberry.field
    async def provider(self, info: Info) -> Provider | None:
        return provider_of(await info.context.loaders.providers.load(self.provider_id))


@from_model(model=AppointmentSummary, name="Appointment")
class Appointment:
    id: strawberry.auto
    appointment_number: strawberry.auto
    patient_id: strawberry.auto
    provider_id: strawberry.auto
    appointment_type: strawberry.auto
    start_datetime: strawberry.auto = strawberry.field(name="startDateTime")
    end_datetime: strawberry.auto = strawberry.field(name="endDateTime")
    duration: strawberry.auto
    location: strawberry.auto
    reason: strawberry.auto
    status: str
    priority: strawberry.auto
    notes: strawberry.auto
    reminder_method: strawberry.auto
    telehealth: strawberry.auto
    cancellation_reason: strawberry.auto
    checked_in_at: strawberry.auto
    completed_at: strawberry.auto
    cancelled_at: strawberry.auto
    created_at: strawberry.auto
    updated_at: strawberry.auto

    @strawberry.field
    async def provider(self, info: Info) -> Provider | None:
        return provider_of(await info.context.loaders.providers.load(self.provider_id))


@from_model(model=PrescribedMedicationRead, all_fields=True, name="Medication")
class Medication:
    pass


@from_model(model=DosageRead, name="Dosage")
class Dosage:
    amount: float | None
    unit: strawberry.auto
    frequency: strawberry.auto
    timing: strawberry.auto
    duration: strawberry.auto
    duration_unit: strawberry.auto
    instructions: strawberry.auto
    indications: strawberry.auto


@from_model(model=RefillsRead, all_fields=True, name="Refills")
class Refills:
    pass


@from_model(model=PrescriptionFields, name="Prescription")
class Prescription:
    id: strawberry.auto
    prescription_number: strawberry.auto
    patient_id: strawberry.auto
    provider_id: strawberry.auto
    medication: strawberry.auto
    dosage: strawberry.auto
    substitutions: strawberry.auto
    refills: strawberry.auto
    diagnosis_codes: strawberry.auto
    notes: strawberry.auto
    status: str
    status_reason: strawberry.auto
    date_written: strawberry.auto
    expires_at: strawberry.auto
    controlled_substance: strawberry.auto
    schedule: strawberry.auto
    fill_count: strawberry.auto
    created_at: strawberry.auto
    updated_at: strawberry.auto

    @strawberry.field
    async def provider(self, info: Info) -> Provider | None:
        return provider_of(await info.context.loaders.providers.load(self.provider_id))


@from_model(model=TestRead, all_fields=True, name="LabTest")
class LabTest:
    pass


@from_model(model=LabOrderFields, name="LabOrder")
class LabOrder:
    id: strawberry.auto
    order_number: strawberry.auto
    patient_id: strawberry.auto
    provider_id: strawberry.auto
    ordering_location: strawberry.auto
    priority: strawberry.auto
    clinical_information: strawberry.auto
    tests: strawberry.auto
    diagnoses: strawberry.auto
    notes: strawberry.auto
    status: strawberry.auto
    ordered_at: strawberry.auto
    collection_date: strawberry.auto
    completed_at: strawberry.auto
    cancelled_at: strawberry.auto
    cancel_reason: strawberry.auto
    created_at: strawberry.auto
    updated_at: strawberry.auto

    @strawberry.field
    async def provider(self, info: Info) -> Provider | None:
        return provider_of(await info.context.loaders.providers.load(self.provider_id))


@from_model(model=PreviousValue, all_fields=True, name="PreviousLabValue")
class PreviousLabValue:
    pass


@from_model(model=ComponentRead, all_fields=True, name="LabResultComponent")
class LabResultComponent:
    pass


@from_model(model=TestResultRead, all_fields=True, name="LabTestResult")
class LabTestResult:
    pass


@from_model(model=ResultsRead, all_fields=True, name="LabResults")
class LabResults:
    pass


# Money is strawberry's Decimal scalar: exact values as strings ("150.00"), never floats.
@from_model(model=ChargeSummary, name="Charge")
class Charge:
    id: strawberry.auto
    charge_number: strawberry.auto
    patient_id: strawberry.auto
    encounter_id: strawberry.auto
    charge_date: strawberry.auto
    charge_code: strawberry.auto
    description: strawberry.auto
    quantity: strawberry.auto
    unit_price: strawberry.auto
    total_amount: strawberry.auto
    insurance_amount: strawberry.auto
    patient_amount: strawberry.auto
    status: str
    billing_provider_id: strawberry.auto
    diagnosis_codes: strawberry.auto
    modifiers: strawberry.auto
    notes: strawberry.auto
    void_reason: strawberry.auto
    voided_at: strawberry.auto
    created_at: strawberry.auto
    updated_at: strawberry.auto


@from_model(model=AdjustmentRead, all_fields=True, name="ClaimAdjustment")
class ClaimAdjustment:
    pass


@from_model(model=ClaimSummary, name="Claim")
class Claim:
    id: strawberry.auto
    claim_number: strawberry.auto
    patient_id: strawberry.auto
    insurance_provider: strawberry.auto
    policy_number: strawberry.auto
    group_number: strawberry.auto
    charges: strawberry.auto
    total_amount: strawberry.auto
    patient_responsibility: strawberry.auto
    submission_method: str
    diagnoses: strawberry.auto
    status: str
    submitted_at: strawberry.auto
    accepted_at: strawberry.auto
    rejected_at: strawberry.auto
    rejection_reason: strawberry.auto
    paid_at: strawberry.auto
    insurance_paid: strawberry.auto
    patient_paid: strawberry.auto
    adjustments: strawberry.auto
    resubmission_of: strawberry.auto
    created_at: strawberry.auto
    updated_at: strawberry.auto


@from_model(model=PatientFields, name="Patient")
class Patient:
    id: strawberry.auto
    patient_id: strawberry.auto
    first_name: strawberry.auto
    last_name: strawberry.auto
    date_of_birth: strawberry.auto
    gender: strawberry.auto
    contact_number: strawberry.auto
    email: strawberry.auto
    address: strawberry.auto
    emergency_contact: strawberry.auto
    blood_type: strawberry.auto
    allergies: JSON
    medical_conditions: strawberry.auto
    current_medications: strawberry.auto
    is_active: strawberry.auto
    restricted: strawberry.auto
    created_at: strawberry.auto
    updated_at: strawberry.auto

    @strawberry.field
    async def clinical_encounters(self, info: Info) -> list[ClinicalEncounter]:
        rows = await info.context.loaders.encounters.load(self.id)
        return [encounter_of(row) for row in rows]

    @strawberry.field
    async def appointments(self, info: Info) -> list[Appointment]:
        rows = await info.context.loaders.appointments.load(self.id)
        return [appointment_of(row) for row in rows]

    @strawberry.field
    async def prescriptions(self, info: Info) -> list[Prescription]:
        rows = await info.context.loaders.prescriptions.load(self.id)
        return [prescription_of(row) for row in rows]

    @strawberry.field
    async def lab_orders(self, info: Info) -> list[LabOrder]:
        rows = await info.context.loaders.lab_orders.load(self.id)
        return [lab_order_of(row) for row in rows]

    @strawberry.field
    async def charges(self, info: Info) -> list[Charge]:
        rows = await info.context.loaders.charges.load(self.id)
        return [charge_of(row) for row in rows]

    @strawberry.field
    async def claims(self, info: Info) -> list[Claim]:
        rows = await info.context.loaders.claims.load(self.id)
        return [claim_of(row) for row in rows]


def _converted(kind: Any, fields: BaseModel, extra: dict[str, Any] | None = None) -> Any:
    """`kind.from_pydantic(fields, extra=extra)`, with each type's fields resolved once.

    Strawberry's conversion resolves every field's type again for every object it converts
    (about a third of a patient query's CPU); the plan of a type (its fields and how to convert
    each value) does not change, and is made once here. As there, a value the model leaves None
    is taken from `extra`."""
    return _build(kind, fields, extra or {})


Convert = Callable[[Any], Any]


def _build(kind: Any, model: Any, extra: dict[str, Any]) -> Any:
    values: dict[str, Any] = {}
    for name, convert in _plan(kind):
        value = getattr(model, name, None)
        if value is None:
            value = extra.get(name)
        values[name] = value if value is None or convert is None else convert(value)
    return kind(**values)


@cache
def _plan(kind: Any) -> tuple[tuple[str, Convert | None], ...]:
    definition = kind.__strawberry_definition__
    return tuple(
        (field.python_name, _converter(field.type)) for field in definition.fields if field.init
    )


def _converter(type_: Any) -> Convert | None:
    """How a model's value becomes the field's (None: as it is)."""
    if isinstance(type_, StrawberryOptional):
        return _converter(type_.of_type)  # None values are never converted
    if isinstance(type_, StrawberryList):
        item = _converter(type_.of_type)
        if item is None:
            return list
        return lambda values: [None if v is None else item(v) for v in values]
    if isinstance(type_, StrawberryUnion):
        raise TypeError(f"no conversion plan for the union {type_!r}")
    if has_object_definition(type_):

        def convert(value: Any) -> Any:
            kind = getattr(type(value), "_strawberry_type", type_)
            if isinstance(value, dict):
                return _build(kind, None, value)
            return _build(kind, value, {})

        return convert
    return None


def patient_of(row: PatientRow) -> Patient:
    fields = PatientFields.model_validate(row, from_attributes=True)
    allergies = [a.model_dump() if isinstance(a, BaseModel) else a for a in row.allergies]
    return _converted(Patient, fields, extra={"allergies": allergies})


def encounter_of(row: Encounter) -> ClinicalEncounter:
    values = {name: getattr(row, name) for name in EncounterData.model_fields}
    values["assessment"] = coding.titled(row.assessment, "icd10_code")
    values["diagnoses"] = coding.titled(row.diagnoses, "code")
    return _converted(ClinicalEncounter, EncounterFields.model_validate(values))


def appointment_of(row: AppointmentRow) -> Appointment:
    return _converted(Appointment, AppointmentSummary.model_validate(row, from_attributes=True))


def prescription_of(row: PrescriptionRow) -> Prescription:
    # Built as REST builds it: the status as of now, refills from their two columns.
    names = set(PrescriptionFields.model_fields) - {"refills", "status", "links"}
    values = {name: getattr(row, name) for name in names}
    values["status"] = prescription_records.current_status(row)
    values["refills"] = {"authorized": row.refills_authorized, "remaining": row.refills_remaining}
    return _converted(Prescription, PrescriptionFields.model_validate(values))


def lab_order_of(row: LabOrderRow) -> LabOrder:
    values = {name: getattr(row, name) for name in LabOrderFields.model_fields if name != "links"}
    return _converted(LabOrder, LabOrderFields.model_validate(values))


def lab_results_of(order: LabOrderRow, found: list[dict[str, Any]]) -> LabResults:
    # The same shape and timestamps as the REST results resource.
    resulted = [c["resulted_at"] for r in found for c in r["components"]]
    body = ResultsRead.model_validate(
        {
            "order_id": order.id,
            "order_number": order.order_number,
            "patient_id": order.patient_id,
            "results": found,
            "status": order.status,
            "completed_at": order.completed_at,
            "pathologist_id": order.pathologist_id,
            "notes": order.result_notes,
            "created_at": min(resulted) if resulted else order.created_at,
            "updated_at": max(resulted) if resulted else order.updated_at,
        }
    )
    return _converted(LabResults, body)


def charge_of(row: ChargeRow) -> Charge:
    return _converted(Charge, billing_records.charge_summary(row))


def claim_of(row: ClaimRow) -> Claim:
    return _converted(Claim, billing_records.claim_summary(row))


def provider_of(row: ProviderRow | None) -> Provider | None:
    if row is None:
        return None
    return _converted(Provider, ProviderFields.model_validate(row, from_attributes=True))


@strawberry.type
class PatientPage:
    patients: list[Patient]
    total: int
    limit: int
    offset: int


@strawberry.type
class EncounterPage:
    encounters: list[ClinicalEncounter]
    total: int
    limit: int
    offset: int


@strawberry.type
class AppointmentPage:
    appointments: list[Appointment]
    total: int
    limit: int
    offset: int


@strawberry.type
class PrescriptionPage:
    prescriptions: list[Prescription]
    total: int
    limit: int
    offset: int


@strawberry.type
class LabOrderPage:
    orders: list[LabOrder]
    total: int
    limit: int
    offset: int


@strawberry.type
class ChargePage:
    charges: list[Charge]
    total: int
    limit: int
    offset: int


@strawberry.type
class ClaimPage:
    claims: list[Claim]
    total: int
    limit: int
    offset: int


@strawberry.type
class ProviderPage:
    providers: list[Provider]
    total: int
    limit: int
    offset: int
