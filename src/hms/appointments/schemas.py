from __future__ import annotations

import datetime as dt
import itertools
import re
import uuid
import zoneinfo
from datetime import UTC, date, datetime, time
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    model_validator,
)

from hms.schemas import InputModel, Link, Text

Status = Literal["scheduled", "checked_in", "completed", "cancelled", "no_show"]
Priority = Literal["low", "normal", "high", "urgent"]
ReminderMethod = Literal["email", "sms", "phone", "push"]

_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
EARLIEST, LATEST = 1900, 2199


def _type_name(value: Any) -> Any:
    # "Office Visit" and "office-visit" mean the seed's "office_visit".
    if isinstance(value, str):
        return re.sub(r"[\s\-]+", "_", value.strip().lower())
    return value


def _appointment_type(value: str) -> str:
    if not _TYPE.match(value):
        raise ValueError("Use a short code such as office_visit, follow_up or telehealth")
    return value


def _utc(value: datetime) -> datetime:
    if not EARLIEST <= value.year <= LATEST:
        raise ValueError(f"Must be between the years {EARLIEST} and {LATEST}")
    return value.astimezone(UTC)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


AppointmentType = Annotated[
    str, BeforeValidator(_type_name), Field(max_length=50), AfterValidator(_appointment_type)
]
# A time zone is required, so that "14:00" cannot silently mean the server's local time.
Instant = Annotated[AwareDatetime, AfterValidator(_utc)]
Minutes = Annotated[int, Field(ge=1, le=1440, description="Length in minutes")]
Location = Annotated[Text, Field(max_length=200)]
Reason = Annotated[Text, Field(max_length=500)]
Notes = Annotated[Text, Field(max_length=4000)]
Reminders = Annotated[list[ReminderMethod], Field(max_length=4), AfterValidator(_unique)]


class AppointmentCreate(InputModel):
    patient_id: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        None, description="The patient's UUID or number; a patient account may leave it out"
    )
    provider_id: uuid.UUID | None = Field(
        None, description="Defaults to the signed-in clinician's provider record"
    )
    appointment_type: AppointmentType = "office_visit"
    start_datetime: Instant
    end_datetime: Instant | None = None
    duration: Minutes | None = Field(None, description="Minutes; derived from the times if absent")
    location: Location | None = None
    reason: Reason | None = None
    status: Literal["scheduled"] = Field(
        "scheduled", description="New appointments are always scheduled"
    )
    priority: Priority = "normal"
    notes: Notes | None = None
    reminder_method: Reminders = Field(default_factory=list)
    telehealth: bool = False
    override_working_hours: bool = Field(
        False,
        description="Book outside the provider's working hours or on a day off "
        "(administrators and the provider itself; audited)",
    )


class AppointmentUpdate(InputModel):
    """Partial update: only the fields sent change. Moving `start_datetime` alone keeps the
    length; status changes go through the action endpoints (check-in, complete, ...)."""

    provider_id: uuid.UUID | None = None
    appointment_type: AppointmentType | None = None
    start_datetime: Instant | None = None
    end_datetime: Instant | None = None
    duration: Minutes | None = None
    location: Location | None = None
    reason: Reason | None = None
    status: Status | None = Field(None, description="Accepted only when unchanged")
    priority: Priority | None = None
    notes: Notes | None = None
    reminder_method: Reminders | None = None
    telehealth: bool | None = None
    override_working_hours: bool = False


# Sent as null they would leave the appointment without a required value.
REQUIRED_FIELDS = (
    "provider_id",
    "appointment_type",
    "start_datetime",
    "end_datetime",
    "duration",
    "priority",
    "reminder_method",
    "telehealth",
)
# What a patient may change on its own appointment through the portal: when, and why.
SELF_SERVICE_FIELDS = frozenset(
    {"start_datetime", "end_datetime", "duration", "reason", "reminder_method", "status"}
)


class CancelRequest(InputModel):
    reason: Reason | None = None


class AppointmentLinks(BaseModel):
    self_: Link = Field(serialization_alias="self")
    patient: Link
    provider: Link


class AppointmentSummary(BaseModel):
    """The appointment's own fields (events and lists); `AppointmentRead` adds `_links`."""

    id: uuid.UUID
    appointment_number: str
    patient_id: uuid.UUID
    provider_id: uuid.UUID
    appointment_type: str
    start_datetime: datetime
    end_datetime: datetime
    location: str | None
    reason: str | None
    status: Status
    priority: str
    duration: int
    notes: str | None
    reminder_method: list[str]
    telehealth: bool
    cancellation_reason: str | None
    checked_in_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AppointmentRead(AppointmentSummary):
    links: AppointmentLinks = Field(serialization_alias="_links")


class ScheduleEntry(BaseModel):
    id: uuid.UUID
    appointment_number: str
    start_datetime: datetime
    end_datetime: datetime
    patient_id: uuid.UUID
    patient_name: str
    appointment_type: str
    location: str | None
    status: Status
    duration: int


class Slot(BaseModel):
    start_time: datetime
    end_time: datetime
    duration: int


class ScheduleLinks(BaseModel):
    self_: Link = Field(serialization_alias="self")
    provider: Link
    working_hours: Link


class ScheduleRead(BaseModel):
    provider_id: uuid.UUID
    start_date: date
    end_date: date
    time_zone: str
    duration: int
    schedule: list[ScheduleEntry]
    available_slots: list[Slot]
    links: ScheduleLinks = Field(serialization_alias="_links")


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _wall_clock(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("Give a local time without offset; the provider's time_zone applies")
    if value.second or value.microsecond:
        raise ValueError("Use whole minutes (HH:MM)")
    return value


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _time_zone(value: str) -> str:
    if value not in _known_zones():
        raise ValueError("Unknown time zone: use an IANA name such as America/New_York or UTC")
    return value


WallClock = Annotated[time, AfterValidator(_wall_clock)]
TimeZone = Annotated[
    str,
    Field(min_length=1, max_length=64, examples=["America/New_York"]),
    AfterValidator(_time_zone),
]


class WorkingInterval(InputModel):
    weekday: Weekday
    start_time: WallClock
    end_time: WallClock

    @model_validator(mode="after")
    def _ordered(self) -> WorkingInterval:
        if self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time (no shift crosses midnight)")
        return self


def _no_overlap(hours: list[WorkingInterval]) -> list[WorkingInterval]:
    intervals = sorted((WEEKDAYS.index(i.weekday), i.start_time, i.end_time) for i in hours)
    for before, after in itertools.pairwise(intervals):
        if before[0] == after[0] and after[1] < before[2]:
            raise ValueError(f"Working hours overlap on {WEEKDAYS[after[0]]}")
    return hours


class WorkingHoursUpdate(InputModel):
    """`time_zone` (IANA name) and `hours`, the whole weekly template; only the fields sent
    change. An empty `hours` list returns the provider to the default: 08:00-17:00 every day."""

    time_zone: TimeZone | None = None
    hours: (
        Annotated[list[WorkingInterval], Field(max_length=70), AfterValidator(_no_overlap)] | None
    ) = None


class DayOffCreate(InputModel):
    date: dt.date
    reason: Annotated[Text, Field(max_length=200)] | None = None


class WorkingIntervalRead(BaseModel):
    weekday: str
    start_time: str
    end_time: str


class DayOffRead(BaseModel):
    date: dt.date
    reason: str | None


class WorkingHoursLinks(BaseModel):
    self_: Link = Field(serialization_alias="self")
    provider: Link
    schedule: Link


class WorkingHoursRead(BaseModel):
    provider_id: uuid.UUID
    time_zone: str
    configured: bool = Field(
        description="False: no weekly template, so 08:00-17:00 every day in `time_zone`"
    )
    hours: list[WorkingIntervalRead]
    days_off: list[DayOffRead]
    links: WorkingHoursLinks = Field(serialization_alias="_links")
