"""Imports every table so that Alembic and the tests see the whole schema."""

from hms.access.models import EmergencyAccessGrant
from hms.analytics.models import PatientSummary
from hms.api.idempotency import IdempotencyRecord
from hms.appointments.models import Appointment, ProviderDayOff, ProviderWorkingHours
from hms.audit.models import AuditChainHead, AuditEntry, AuditLink
from hms.auth.models import AuthSession, RefreshToken, User
from hms.billing.models import Charge, Claim, ClaimCharge, Coverage, Payment
from hms.clinical.models import Diagnosis, Encounter, EncounterVersion, VitalSignsReading
from hms.db import Base
from hms.laboratory.models import LabOrder, LabResult
from hms.numbering import NumberSequence
from hms.patients.models import NameVocabulary, Patient, PatientNameWord
from hms.pharmacy.models import Prescription, PrescriptionFill
from hms.providers.models import Provider

__all__ = [
    "Appointment",
    "AuditChainHead",
    "AuditEntry",
    "AuditLink",
    "AuthSession",
    "Base",
    "Charge",
    "Claim",
    "ClaimCharge",
    "Coverage",
    "Diagnosis",
    "EmergencyAccessGrant",
    "Encounter",
    "EncounterVersion",
    "IdempotencyRecord",
    "LabOrder",
    "LabResult",
    "NameVocabulary",
    "NumberSequence",
    "Patient",
    "PatientNameWord",
    "PatientSummary",
    "Payment",
    "Prescription",
    "PrescriptionFill",
    "Provider",
    "ProviderDayOff",
    "ProviderWorkingHours",
    "RefreshToken",
    "User",
    "VitalSignsReading",
]
