from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from hms.clinical.coding import ICD10Code
from hms.clinical.vitals import VitalSigns
from hms.schemas import InputModel, Link, Text

EncounterStatus = Literal["in_progress", "completed", "amended", "entered_in_error"]
# What a patient sees of its own chart: signed notes, not drafts or voided ones.
SIGNED_STATUSES = ("completed", "amended")

MAX_ITEMS = 50
_TYPE_CODE = re.compile(r"^[a-z][a-z0-9_]{1,49}$")


def _type_code(value: Any) -> Any:
    # "Office Visit" and "office-visit" mean office_visit.
    if isinstance(value, str):
        return re.sub(r"[\s\-]+", "_", value.strip().lower())
    return value


def _checked_type_code(value: str) -> str:
    if not _TYPE_CODE.match(value):
        raise ValueError("Use a short code of letters, digits and underscores, e.g. office_visit")
    return value


def _as_utc(value: datetime) -> datetime:
    # A time without an offset is taken as UTC, the API's only zone.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


EncounterType = Annotated[str, BeforeValidator(_type_code), AfterValidator(_checked_type_code)]
UTCTime = Annotated[datetime, AfterValidator(_as_utc)]
Label = Annotated[Text, Field(min_length=1, max_length=100)]
Title = Annotated[Text, Field(min_length=1, max_length=500)]
ShortText = Annotated[Text, Field(max_length=500)]
Reason = Annotated[Text, Field(min_length=1, max_length=2000)]
NoteText = Annotated[Text, Field(max_length=20_000)]
SystemName = Annotated[str, Field(min_length=1, max_length=64)]
SystemNotes = Annotated[
    dict[SystemName, NoteText],
    Field(max_length=MAX_ITEMS, description="Free text per body system"),
]


class PhysicalExamination(InputModel):
    """`vital_signs` plus free text per body system (`general`, `heent`, ...)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, NoteText] = Field(init=False)

    vital_signs: VitalSigns | None = None

    @model_validator(mode="after")
    def _bounded(self) -> PhysicalExamination:
        extra = self.__pydantic_extra__ or {}
        if len(extra) > MAX_ITEMS:
            raise ValueError(f"At most {MAX_ITEMS} body systems")
        if any(not 1 <= len(name) <= 64 for name in extra):
            raise ValueError("Body system names are 1 to 64 characters")
        return self

    def stored(self) -> dict[str, Any]:
        """As kept in the note: vital signs as written (only those taken), then the systems."""
        out: dict[str, Any] = {}
        if self.vital_signs is not None:
            out["vital_signs"] = self.vital_signs.model_dump(exclude_none=True)
        out.update(self.__pydantic_extra__ or {})
        return out


class AssessmentItem(InputModel):
    condition: Title
    icd10_code: ICD10Code | None = None
    severity: Label | None = None
    onset: Label | None = None
    notes: NoteText | None = None


class PlanItem(InputModel):
    type: Label
    description: Annotated[Text, Field(min_length=1, max_length=5000)]
    reason: ShortText | None = None


class DiagnosisEntry(InputModel):
    code: ICD10Code
    description: ShortText | None = None
    type: Label | None = Field(None, description="e.g. primary, secondary")
    confirmed: bool = True


class EncounterFields(InputModel):
    location: Annotated[Text, Field(max_length=200)] | None = None
    chief_complaint: Annotated[Text, Field(max_length=2000)] | None = None
    history_of_present_illness: NoteText | None = None


class EncounterCreate(EncounterFields):
    patient_id: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="The patient's UUID or number"
    )
    provider_id: uuid.UUID | None = Field(
        None, description="Defaults to the signed-in clinician's provider record"
    )
    encounter_type: EncounterType
    encounter_date: UTCTime | None = Field(None, description="Defaults to now")
    review_of_systems: SystemNotes = Field(default_factory=dict)
    physical_examination: PhysicalExamination | None = None
    assessment: list[AssessmentItem] = Field(default_factory=list, max_length=MAX_ITEMS)
    plan: list[PlanItem] = Field(default_factory=list, max_length=MAX_ITEMS)
    diagnoses: list[DiagnosisEntry] = Field(default_factory=list, max_length=MAX_ITEMS)
    status: Literal["in_progress", "completed"] = Field(
        "completed", description="completed (signed) unless the note is still in_progress"
    )


class EncounterUpdate(EncounterFields):
    """Partial update: only the fields sent change; lists and objects are replaced whole."""

    provider_id: uuid.UUID | None = None
    encounter_type: EncounterType | None = None
    encounter_date: UTCTime | None = None
    review_of_systems: SystemNotes | None = None
    physical_examination: PhysicalExamination | None = None
    assessment: list[AssessmentItem] | None = Field(None, max_length=MAX_ITEMS)
    plan: list[PlanItem] | None = Field(None, max_length=MAX_ITEMS)
    diagnoses: list[DiagnosisEntry] | None = Field(None, max_length=MAX_ITEMS)
    status: EncounterStatus | None = None
    amendment_reason: Reason | None = Field(
        None, description="Why a signed note is changed; required to mark it entered_in_error"
    )


class EncounterData(BaseModel):
    """An encounter's content: what history keeps of each version and what events carry."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    patient_id: uuid.UUID
    provider_id: uuid.UUID
    encounter_type: str
    encounter_date: datetime
    location: str | None
    chief_complaint: str | None
    history_of_present_illness: str | None
    review_of_systems: dict[str, Any]
    physical_examination: dict[str, Any]
    assessment: list[dict[str, Any]]
    plan: list[dict[str, Any]]
    diagnoses: list[dict[str, Any]]
    status: str
    created_at: datetime
    updated_at: datetime


class AssessmentRead(BaseModel):
    condition: str
    icd10_code: str | None = None
    code_description: str | None = Field(None, description="The ICD-10-CM title of the code")
    severity: str | None = None
    onset: str | None = None
    notes: str | None = None


class PlanRead(BaseModel):
    type: str
    description: str
    reason: str | None = None


class DiagnosisRead(BaseModel):
    code: str
    description: str | None = None
    code_description: str | None = Field(None, description="The ICD-10-CM title of the code")
    type: str | None = None
    confirmed: bool


class EncounterLinks(BaseModel):
    self_: Link = Field(serialization_alias="self")
    patient: Link
    provider: Link
    history: Link


class EncounterRead(EncounterData):
    assessment: list[AssessmentRead]  # type: ignore[assignment]
    plan: list[PlanRead]  # type: ignore[assignment]
    diagnoses: list[DiagnosisRead]  # type: ignore[assignment]
    links: EncounterLinks = Field(serialization_alias="_links")


class ChangedBy(BaseModel):
    user_id: uuid.UUID | None
    username: str | None
    role: str | None


class EncounterVersionRead(BaseModel):
    version: int
    status: str
    change: str = Field(description="created, updated, amended or entered_in_error")
    reason: str | None
    changed_fields: list[str]
    changed_by: ChangedBy
    changed_at: datetime
    encounter: dict[str, Any] = Field(description="The encounter as it was in this version")
