"""Providers' schedules: the appointments and free slots of some days, and the working hours
and days off they are cut from."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from hms.api.deps import ActorDep, SessionDep
from hms.api.openapi import error_responses
from hms.api.responses import etag, expected_version, href, json_response
from hms.appointments import schedule
from hms.appointments import working_hours as service
from hms.appointments.schemas import (
    DayOffCreate,
    ScheduleRead,
    WorkingHoursRead,
    WorkingHoursUpdate,
)
from hms.errors import ValidationFailed

router = APIRouter()
HOURS = "/providers/{provider_id}"


@router.get(
    "/appointments/schedule",
    tags=["appointments"],
    response_model=ScheduleRead,
    responses=error_responses(404),
)
async def provider_schedule(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    start_date: Annotated[date | None, Query(description="First day, provider's time zone")] = None,
    end_date: Annotated[date | None, Query(description="Last day (default: start_date)")] = None,
    provider_id: Annotated[
        uuid.UUID | None, Query(description="Default: the signed-in clinician")
    ] = None,
    duration: Annotated[int, Query(ge=5, le=480, description="Slot length, minutes")] = 30,
    provider_id_: Annotated[
        uuid.UUID | None, Query(alias="providerId", include_in_schema=False)
    ] = None,
    start_date_: Annotated[date | None, Query(alias="startDate", include_in_schema=False)] = None,
    end_date_: Annotated[date | None, Query(alias="endDate", include_in_schema=False)] = None,
) -> Response:
    """A provider's appointments on some days (at most 31; cancelled ones left out) and its free
    slots: its working hours cut into slots of `duration` minutes, minus booked time. A patient
    user sees the free slots and only its own appointments."""
    first = start_date or start_date_
    if first is None:
        raise ValidationFailed("start_date", "Field required")
    found = await schedule.provider_schedule(
        session,
        actor=actor,
        provider_id=provider_id or provider_id_,
        start_date=first,
        end_date=end_date or end_date_,
        duration=duration,
    )
    return json_response(_schedule_body(request, found))


def _schedule_body(request: Request, found: schedule.Schedule) -> ScheduleRead:
    provider_path = f"/providers/{found.provider.id}"
    entries = [
        {name: getattr(v.appointment, name) for name in _ENTRY_FIELDS}
        | {"patient_name": v.patient_name}
        for v in found.visits
    ]
    slots = [{"start_time": s, "end_time": e, "duration": found.duration} for s, e in found.slots]
    return ScheduleRead.model_validate(
        {
            "provider_id": found.provider.id,
            "start_date": found.start_date,
            "end_date": found.end_date,
            "time_zone": found.availability.time_zone,
            "duration": found.duration,
            "schedule": entries,
            "available_slots": slots,
            "links": {
                "self_": {"href": str(request.url)},
                "provider": href(request, provider_path),
                "working_hours": href(request, f"{provider_path}/working-hours"),
            },
        }
    )


_ENTRY_FIELDS = (
    "id",
    "appointment_number",
    "start_datetime",
    "end_datetime",
    "patient_id",
    "appointment_type",
    "location",
    "status",
    "duration",
)


def _resource(request: Request, found: service.WorkingHours, status_code: int = 200) -> Response:
    path = f"/providers/{found.provider.id}"
    body = WorkingHoursRead.model_validate(
        {
            "provider_id": found.provider.id,
            "time_zone": found.time_zone,
            "configured": found.configured,
            "hours": found.hours,
            "days_off": [{"date": d.day, "reason": d.reason} for d in found.days_off],
            "links": {
                "self_": href(request, f"{path}/working-hours"),
                "provider": href(request, path),
                "schedule": href(
                    request, f"/appointments/schedule?provider_id={found.provider.id}"
                ),
            },
        }
    )
    return json_response(body, status=status_code, headers={"ETag": etag(found.version)})


@router.get(HOURS + "/working-hours", tags=["providers"], response_model=WorkingHoursRead)
async def get_working_hours(
    request: Request, provider_id: str, session: SessionDep, actor: ActorDep
) -> Response:
    """The provider's weekly hours (wall-clock times in its `time_zone`) and days off. Without a
    template (`configured: false`) a provider works 08:00-17:00 every day in its time zone,
    which is UTC unless set."""
    found = await service.get_working_hours(session, actor=actor, provider_ref=provider_id)
    return _resource(request, found)


@router.put(HOURS + "/working-hours", tags=["providers"], response_model=WorkingHoursRead)
async def update_working_hours(
    request: Request,
    provider_id: str,
    body: WorkingHoursUpdate,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    """Set the `time_zone` (IANA name) and/or the whole weekly template `hours`, a list of
    `{"weekday": "monday", "start_time": "09:00", "end_time": "17:00"}` (several per day
    allowed, none overlapping, none crossing midnight). Administrators and the provider itself.
    Booked appointments are left as they are. With `If-Match`, a stale ETag gets 412."""
    found = await service.update_working_hours(
        session,
        actor=actor,
        provider_ref=provider_id,
        data=body,
        expected_version=expected_version(request),
    )
    return _resource(request, found)


@router.post(
    HOURS + "/days-off",
    tags=["providers"],
    status_code=201,
    response_model=WorkingHoursRead,
    responses=error_responses(412),
)
async def add_day_off(
    request: Request,
    provider_id: str,
    body: DayOffCreate,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    """Mark a `date` (in the provider's time zone) as a day off, with an optional `reason`; it
    cannot be booked then. Answers with the provider's working hours. Appointments already on
    that day are not cancelled."""
    found = await service.add_day_off(
        session,
        actor=actor,
        provider_ref=provider_id,
        data=body,
        expected_version=expected_version(request),
    )
    return _resource(request, found, status_code=201)


@router.delete(
    HOURS + "/days-off/{day}", tags=["providers"], status_code=204, response_class=Response
)
async def remove_day_off(
    request: Request, provider_id: str, day: date, session: SessionDep, actor: ActorDep
) -> Response:
    """Make a day off a working day again."""
    await service.remove_day_off(
        session,
        actor=actor,
        provider_ref=provider_id,
        day=day,
        expected_version=expected_version(request),
    )
    return Response(status_code=204)
