from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, EmailStr, Field

from hms.db import utcnow
from hms.schemas import InputModel, Link, Text

_PHONE = re.compile(r"^\+?[0-9][0-9 ().\-]{5,24}$")


def _phone(value: str) -> str:
    digits = sum(c.isdigit() for c in value)
    if not _PHONE.match(value) or not 7 <= digits <= 15:
        raise ValueError("Invalid phone number: use 7 to 15 digits, optionally starting with +")
    return value


def _gender(value: Any) -> Any:
    if isinstance(value, str):
        words = {"male": "M", "female": "F", "other": "O", "unknown": "U"}
        return words.get(value.strip().lower(), value.strip().upper())
    return value


def _birth_date(value: date) -> date:
    if value > utcnow().date():
        raise ValueError("Date of birth cannot be in the future")
    if value.year < 1880:
        raise ValueError("Date of birth is implausibly early")
    return value


Phone = Annotated[str, Field(max_length=32), AfterValidator(_phone)]
Gender = Annotated[Literal["M", "F", "O", "U"], BeforeValidator(_gender)]
BloodType = Literal["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"]
# Control characters in a chart only corrupt what prints or exports it (labels, HL7, CSV).
Name = Annotated[Text, Field(min_length=1, max_length=100)]
ShortText = Annotated[Text, Field(max_length=200)]
BirthDate = Annotated[date, AfterValidator(_birth_date)]


class Address(InputModel):
    street: ShortText | None = None
    city: ShortText | None = None
    state: ShortText | None = None
    zip_code: Annotated[Text, Field(max_length=20)] | None = None
    country: ShortText | None = None


class EmergencyContact(InputModel):
    name: ShortText | None = None
    relationship: ShortText | None = None
    phone: Phone | None = None


class Allergy(InputModel):
    substance: ShortText
    severity: Literal["mild", "moderate", "severe", "unknown"] | None = None
    reaction: ShortText | None = None


class Medication(InputModel):
    name: ShortText
    dosage: ShortText | None = None
    frequency: ShortText | None = None


AllergyEntry = Annotated[Text, Field(min_length=1, max_length=200)] | Allergy


class PatientFields(InputModel):
    contact_number: Phone | None = None
    email: EmailStr | None = Field(None, max_length=254)
    address: Address | None = None
    emergency_contact: EmergencyContact | None = None
    blood_type: BloodType | None = None
    allergies: list[AllergyEntry] = Field(default_factory=list, max_length=100)
    medical_conditions: list[ShortText] = Field(default_factory=list, max_length=100)
    current_medications: list[Medication] = Field(default_factory=list, max_length=100)


class PatientCreate(PatientFields):
    first_name: Name
    last_name: Name
    date_of_birth: BirthDate
    gender: Gender
    restricted: bool = Field(
        False,
        description="A confidential record, reached only by its carers, admins and emergency "
        "access; only administrators may set it",
    )


class PatientUpdate(InputModel):
    """Partial update: only the fields sent change."""

    first_name: Name | None = None
    last_name: Name | None = None
    date_of_birth: BirthDate | None = None
    gender: Gender | None = None
    contact_number: Phone | None = None
    email: EmailStr | None = Field(None, max_length=254)
    address: Address | None = None
    emergency_contact: EmergencyContact | None = None
    blood_type: BloodType | None = None
    allergies: list[AllergyEntry] | None = Field(None, max_length=100)
    medical_conditions: list[ShortText] | None = Field(None, max_length=100)
    current_medications: list[Medication] | None = Field(None, max_length=100)
    restricted: bool | None = Field(None, description="Only administrators may change it")


REQUIRED_FIELDS = ("first_name", "last_name", "date_of_birth", "gender", "restricted")
# What a patient may change on its own record through the portal.
SELF_SERVICE_FIELDS = frozenset({"contact_number", "email", "address", "emergency_contact"})


class AddressRead(BaseModel):
    street: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None


class EmergencyContactRead(BaseModel):
    name: str | None = None
    relationship: str | None = None
    phone: str | None = None


class AllergyRead(BaseModel):
    substance: str
    severity: str | None = None
    reaction: str | None = None


class MedicationRead(BaseModel):
    name: str
    dosage: str | None = None
    frequency: str | None = None


class PatientLinks(BaseModel):
    self_: Link = Field(serialization_alias="self")
    clinical_encounters: Link
    appointments: Link


class PatientSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: str = Field(validation_alias="patient_number")
    first_name: str
    last_name: str
    date_of_birth: date
    gender: str
    contact_number: str | None
    email: str | None


class PatientRead(PatientSummary):
    address: AddressRead | None
    emergency_contact: EmergencyContactRead | None
    blood_type: str | None
    allergies: list[str | AllergyRead]
    medical_conditions: list[str]
    current_medications: list[MedicationRead]
    is_active: bool
    restricted: bool
    created_at: datetime
    updated_at: datetime
    links: PatientLinks = Field(serialization_alias="_links")
