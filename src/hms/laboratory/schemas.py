from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from hms.clinical.coding import ICD10Code
from hms.schemas import InputModel, Link, Text

Priority = Literal["routine", "urgent", "stat"]
OrderStatus = Literal["ordered", "collected", "in_progress", "completed", "cancelled"]
# What a patient may read of its own results: not preliminary ones.
RELEASED = ("final", "corrected")


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _as_text(value: Any) -> Any:
    # A numeric result sent as a JSON number is the same result as its text.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


UTCTime = Annotated[datetime, AfterValidator(_as_utc)]
TestCode = Annotated[str, Field(min_length=1, max_length=20)]
Short = Annotated[Text, Field(min_length=1, max_length=100)]
ResultText = Annotated[str, BeforeValidator(_as_text), Field(min_length=1, max_length=100)]
NoteText = Annotated[Text, Field(max_length=5000)]


class OrderedTest(InputModel):
    test_code: TestCode
    test_name: Annotated[Text, Field(max_length=200)] | None = Field(
        None, description="Defaults to the catalogue's name"
    )
    specimen_type: Short | None = Field(None, description="Defaults to the catalogue's")
    collection_instructions: Annotated[Text, Field(max_length=500)] | None = None


class LabOrderCreate(InputModel):
    patient_id: Annotated[str, Field(min_length=1, max_length=64)] = Field(
        description="The patient's UUID or number"
    )
    provider_id: uuid.UUID | None = Field(
        None, description="Defaults to the signed-in clinician's provider record"
    )
    ordering_location: Annotated[Text, Field(max_length=200)] | None = None
    priority: Priority = "routine"
    clinical_information: Annotated[Text, Field(max_length=2000)] | None = None
    tests: list[OrderedTest] = Field(min_length=1, max_length=30)
    diagnoses: list[ICD10Code] = Field(default_factory=list, max_length=20)
    notes: NoteText | None = None
    collection_date: UTCTime | None = Field(None, description="When the specimen is to be taken")


class CollectRequest(InputModel):
    test_codes: list[TestCode] | None = Field(
        None, max_length=30, description="The tests collected; all still to collect when absent"
    )
    collected_at: UTCTime | None = Field(None, description="Defaults to now")


class CancelRequest(InputModel):
    reason: Annotated[Text, Field(min_length=1, max_length=2000)] | None = None


class ComponentEntry(InputModel):
    component: Short
    result: ResultText
    unit: Annotated[Text, Field(max_length=30)] | None = None
    reference_range: Annotated[Text, Field(max_length=100)] | None = Field(
        None, description="Used for the flag only when the catalogue has no range for it"
    )


class TestResultEntry(InputModel):
    test_code: TestCode
    status: Literal["preliminary", "final"] = "final"
    components: list[ComponentEntry] = Field(min_length=1, max_length=100)


class ResultsEntry(InputModel):
    """Results of one or more tests of the order. Flags are computed, never sent."""

    results: list[TestResultEntry] = Field(min_length=1, max_length=30)
    pathologist_id: uuid.UUID | None = None
    notes: NoteText | None = None


class TestRead(BaseModel):
    test_code: str
    test_name: str
    specimen_type: str | None
    collection_instructions: str | None
    status: str
    collected_at: datetime | None = None
    resulted_at: datetime | None = None


class OrderLinks(BaseModel):
    self_: Link = Field(serialization_alias="self")
    patient: Link
    provider: Link
    results: Link


class LabOrderRead(BaseModel):
    id: uuid.UUID
    order_number: str
    patient_id: uuid.UUID
    provider_id: uuid.UUID
    ordering_location: str | None
    priority: str
    clinical_information: str | None
    tests: list[TestRead]
    diagnoses: list[str]
    notes: str | None
    status: str
    ordered_at: datetime
    collection_date: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime
    links: OrderLinks = Field(serialization_alias="_links")


class PreviousValue(BaseModel):
    result: str
    unit: str | None
    reference_range: str | None
    flag: str | None
    status: str
    resulted_at: datetime
    resulted_by: str | None


class ComponentRead(BaseModel):
    component: str
    result: str
    unit: str | None
    reference_range: str | None
    flag: str | None
    status: str
    loinc_code: str | None
    resulted_at: datetime
    resulted_by: str | None
    previous: list[PreviousValue] = Field(description="Earlier values, oldest first")


class TestResultRead(BaseModel):
    test_code: str
    test_name: str
    components: list[ComponentRead]
    status: str
    resulted_at: datetime | None


class ResultsRead(BaseModel):
    order_id: uuid.UUID
    order_number: str
    patient_id: uuid.UUID
    results: list[TestResultRead]
    status: str
    completed_at: datetime | None
    pathologist_id: uuid.UUID | None
    notes: str | None
    created_at: datetime
    updated_at: datetime
