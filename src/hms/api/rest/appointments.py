"""Appointments: book, read, list, reschedule, and move along (check in, complete, no-show,
cancel). Providers' schedules and working hours are in `schedules`, mounted with them."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from hms.api.deps import ActorDep, PageDep, SessionDep
from hms.api.idempotency import IdempotencyDep
from hms.api.openapi import error_responses
from hms.api.responses import etag, expected_version, href, json_response, list_body
from hms.api.rest import schedules
from hms.api.routing import add_routes
from hms.appointments import booking, queries, status
from hms.appointments.models import Appointment
from hms.appointments.queries import AppointmentFilter
from hms.appointments.schemas import (
    AppointmentCreate,
    AppointmentRead,
    AppointmentSummary,
    AppointmentUpdate,
    CancelRequest,
    Reason,
    Status,
)
from hms.schemas import ListLinks

routes = APIRouter(tags=["appointments"])

AppointmentRef = Annotated[str, "The appointment's UUID or its number (APT20240001)"]


class AppointmentList(BaseModel):
    appointments: list[AppointmentRead]
    total: int
    limit: int
    offset: int
    links: ListLinks = Field(serialization_alias="_links")


def appointment_read(request: Request, appointment: Appointment) -> AppointmentRead:
    fields = {name: getattr(appointment, name) for name in AppointmentSummary.model_fields}
    links = {
        "self_": href(request, f"/appointments/{appointment.id}"),
        "patient": href(request, f"/patients/{appointment.patient_id}"),
        "provider": href(request, f"/providers/{appointment.provider_id}"),
    }
    return AppointmentRead.model_validate({**fields, "links": links})


def _resource(request: Request, appointment: Appointment, status_code: int = 200) -> Response:
    headers = {"ETag": etag(appointment.version)}
    if status_code == 201:
        headers["Location"] = href(request, f"/appointments/{appointment.id}")["href"]
    return json_response(
        appointment_read(request, appointment), status=status_code, headers=headers
    )


def _list(
    request: Request, found: tuple[list[Appointment], int], limit: int, offset: int
) -> Response:
    appointments, total = found
    items: list[Any] = [
        appointment_read(request, a).model_dump(mode="json", by_alias=True) for a in appointments
    ]
    return json_response(
        list_body(request, "appointments", items, total=total, limit=limit, offset=offset)
    )


async def common_filters(
    provider_id: uuid.UUID | None = None,
    start_date: Annotated[date | None, Query(description="Starting on or after (UTC)")] = None,
    end_date: Annotated[date | None, Query(description="Starting on or before (UTC)")] = None,
    status: Annotated[list[Status] | None, Query(description="Repeat for several")] = None,
    # The API document's JavaScript client sends camelCase (`patientId`).
    provider_id_: Annotated[
        uuid.UUID | None, Query(alias="providerId", include_in_schema=False)
    ] = None,
    start_date_: Annotated[date | None, Query(alias="startDate", include_in_schema=False)] = None,
    end_date_: Annotated[date | None, Query(alias="endDate", include_in_schema=False)] = None,
) -> AppointmentFilter:
    return AppointmentFilter(
        provider_id=provider_id or provider_id_,
        start_date=start_date or start_date_,
        end_date=end_date or end_date_,
        statuses=tuple(status or ()),
    )


CommonFiltersDep = Annotated[AppointmentFilter, Depends(common_filters)]


async def appointment_filters(
    common: CommonFiltersDep,
    patient_id: Annotated[
        str | None, Query(max_length=64, description="The patient's UUID or number")
    ] = None,
    patient_id_: Annotated[
        str | None, Query(alias="patientId", max_length=64, include_in_schema=False)
    ] = None,
) -> AppointmentFilter:
    return replace(common, patient=patient_id or patient_id_)


FiltersDep = Annotated[AppointmentFilter, Depends(appointment_filters)]
# Status moves honour If-Match like PUT and DELETE do.
MOVE_ERRORS = error_responses(412)


# A patient named in the body may be out of reach (404), as when reading it.
@routes.post(
    "/appointments",
    status_code=201,
    response_model=AppointmentRead,
    responses=error_responses(404),
)
async def book_appointment(
    request: Request,
    body: AppointmentCreate,
    session: SessionDep,
    actor: ActorDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Book an appointment. Give `end_datetime` or `duration` (minutes), or both when they agree.
    The time must be free for the provider and the patient (409 otherwise, decided by the
    database, so concurrent requests for one slot get one 201) and within the provider's
    working hours (422 otherwise, unless an administrator or the provider itself sends
    `override_working_hours: true`). Send `Idempotency-Key` to make retries safe."""
    if replay := await idempotency.replay():
        return replay
    appointment = await booking.book_appointment(session, actor=actor, data=body)
    response = _resource(request, appointment, status_code=201)
    await idempotency.save(response)
    return response


@routes.get("/appointments", response_model=AppointmentList)
async def list_appointments(
    request: Request, session: SessionDep, actor: ActorDep, page: PageDep, filters: FiltersDep
) -> Response:
    """Appointments in start order, filtered by patient, provider, UTC dates and status
    (`patientId`-style names are accepted too). A patient user sees only its own."""
    found = await queries.list_appointments(
        session, actor=actor, filters=filters, limit=page.limit, offset=page.offset
    )
    return _list(request, found, page.limit, page.offset)


@routes.get("/appointments/{appointment_id}", response_model=AppointmentRead)
async def get_appointment(
    request: Request, appointment_id: AppointmentRef, session: SessionDep, actor: ActorDep
) -> Response:
    """One appointment, by UUID or number. The `ETag` goes into `If-Match` on changes."""
    appointment = await queries.get_appointment(session, actor=actor, ref=appointment_id)
    return _resource(request, appointment)


@routes.put("/appointments/{appointment_id}", response_model=AppointmentRead)
async def update_appointment(
    request: Request,
    appointment_id: AppointmentRef,
    body: AppointmentUpdate,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    """Change the fields sent; the others stay. Moving `start_datetime` alone keeps the length.
    Only a scheduled appointment can be moved; the same overlap and working-hours rules as
    booking apply. `status` is changed with the action endpoints (check-in, complete, no-show,
    cancel), not here. With `If-Match`, a stale ETag gets 412."""
    appointment = await booking.update_appointment(
        session,
        actor=actor,
        ref=appointment_id,
        data=body,
        expected_version=expected_version(request),
    )
    return _resource(request, appointment)


@routes.delete("/appointments/{appointment_id}", status_code=204, response_class=Response)
async def delete_appointment(
    request: Request,
    appointment_id: AppointmentRef,
    session: SessionDep,
    actor: ActorDep,
    reason: Annotated[Reason | None, Query(description="Why it is cancelled")] = None,
) -> Response:
    """Cancel (appointments are never erased), as `POST .../cancel` does; repeating it on a
    cancelled appointment changes nothing and answers 204 again."""
    await status.change_status(
        session,
        actor=actor,
        ref=appointment_id,
        transition=status.CANCEL,
        reason=reason,
        expected_version=expected_version(request),
        repeat_ok=True,
    )
    return Response(status_code=204)


@routes.post(
    "/appointments/{appointment_id}/cancel",
    response_model=AppointmentRead,
    responses=MOVE_ERRORS,
)
async def cancel_appointment(
    request: Request,
    appointment_id: AppointmentRef,
    session: SessionDep,
    actor: ActorDep,
    body: CancelRequest | None = None,
) -> Response:
    """Cancel a scheduled or checked-in appointment, with an optional `reason`; its time becomes
    free. A patient user may cancel its own."""
    appointment = await status.change_status(
        session,
        actor=actor,
        ref=appointment_id,
        transition=status.CANCEL,
        reason=body.reason if body else None,
        expected_version=expected_version(request),
    )
    return _resource(request, appointment)


async def _move(
    request: Request, ref: str, session: SessionDep, actor: ActorDep, move: status.Transition
) -> Response:
    appointment = await status.change_status(
        session, actor=actor, ref=ref, transition=move, expected_version=expected_version(request)
    )
    return _resource(request, appointment)


@routes.post(
    "/appointments/{appointment_id}/check-in",
    response_model=AppointmentRead,
    responses=MOVE_ERRORS,
)
async def check_in(
    request: Request, appointment_id: AppointmentRef, session: SessionDep, actor: ActorDep
) -> Response:
    """The patient has arrived: scheduled -> checked_in (staff only)."""
    return await _move(request, appointment_id, session, actor, status.CHECK_IN)


@routes.post(
    "/appointments/{appointment_id}/complete",
    response_model=AppointmentRead,
    responses=MOVE_ERRORS,
)
async def complete(
    request: Request, appointment_id: AppointmentRef, session: SessionDep, actor: ActorDep
) -> Response:
    """The visit is over: checked_in -> completed (staff only)."""
    return await _move(request, appointment_id, session, actor, status.COMPLETE)


@routes.post(
    "/appointments/{appointment_id}/no-show",
    response_model=AppointmentRead,
    responses=MOVE_ERRORS,
)
async def no_show(
    request: Request, appointment_id: AppointmentRef, session: SessionDep, actor: ActorDep
) -> Response:
    """The patient did not come: scheduled or checked_in -> no_show (staff only); the time
    becomes free for another booking."""
    return await _move(request, appointment_id, session, actor, status.NO_SHOW)


@routes.get("/patients/{patient_id}/appointments", response_model=AppointmentList)
async def patient_appointments(
    request: Request,
    patient_id: Annotated[str, "The patient's UUID or number"],
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    filters: CommonFiltersDep,
) -> Response:
    """One patient's appointments in start order, with the same filters as the full list."""
    found = await queries.patient_appointments(
        session,
        actor=actor,
        patient_ref=patient_id,
        filters=filters,
        limit=page.limit,
        offset=page.offset,
    )
    return _list(request, found, page.limit, page.offset)


router = APIRouter()
# Schedules first, so that /appointments/schedule is not taken for an appointment's id.
add_routes(router, schedules.router)
add_routes(router, routes)
