"""Appointment, and Slot: the free slots of a provider's schedule (its working hours cut into
30-minute slots, minus booked time), as the schedule service computes them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from hms.api.fhir import systems as s
from hms.api.fhir.clinical import patient_ids
from hms.api.fhir.interactions import (
    ID,
    PATIENT,
    Context,
    Resource,
    ResourceType,
    SearchParam,
)
from hms.api.fhir.search import Search, as_uuid
from hms.appointments import queries, schedule
from hms.appointments.models import Appointment
from hms.db import utcnow
from hms.errors import BadRequest, NotFound
from hms.periods import DateCriterion

APPOINTMENT_STATUSES = {
    "scheduled": "booked",
    "checked_in": "checked-in",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}
SLOT_MINUTES = 30
# Slot searches without a start look this many days ahead.
DEFAULT_DAYS = 7


def appointment_resource(appointment: Appointment) -> Resource:
    return s.pruned(
        {
            "resourceType": "Appointment",
            "id": str(appointment.id),
            "meta": s.meta(appointment.updated_at),
            "identifier": [
                {"system": s.APPOINTMENT_NUMBER, "value": appointment.appointment_number}
            ],
            "status": APPOINTMENT_STATUSES[appointment.status],
            "cancelationReason": s.concept(text=appointment.cancellation_reason),
            "appointmentType": s.concept(text=appointment.appointment_type.replace("_", " ")),
            "description": appointment.reason,
            "start": s.instant(appointment.start_datetime),
            "end": s.instant(appointment.end_datetime),
            "minutesDuration": appointment.duration,
            "created": s.instant(appointment.created_at),
            "comment": appointment.notes,
            "participant": [
                {"actor": s.reference("Patient", appointment.patient_id), "status": "accepted"},
                {
                    "actor": s.reference("Practitioner", appointment.provider_id),
                    "status": "accepted",
                },
            ],
        }
    )


def slot_resource(provider_id: str, start: datetime, end: datetime) -> Resource:
    return {
        "resourceType": "Slot",
        "id": f"{provider_id}-{start:%Y%m%d%H%M}-{SLOT_MINUTES}",
        "schedule": {"reference": f"Schedule/{provider_id}"},
        "status": "free",
        "start": s.instant(start),
        "end": s.instant(end),
    }


async def read_appointment(ctx: Context, id_: str) -> Resource:
    found = await queries.get_appointment(ctx.session, actor=ctx.actor, ref=id_)
    return appointment_resource(found)


async def search_appointments(ctx: Context, search: Search) -> tuple[list[Resource], int]:
    asked = search.strings("status")
    statuses = None
    if asked is not None:
        statuses = tuple(ours for ours, theirs in APPOINTMENT_STATUSES.items() if theirs in asked)
    filters = queries.AppointmentFilter(
        ids=search.uuids("_id"),
        patient_ids=patient_ids(search),
        provider_id=_one_practitioner(search),
        statuses=statuses or (),
        starts=search.dates("date"),
    )
    if statuses == ():
        return [], 0
    found, total = await queries.list_appointments(
        ctx.session, actor=ctx.actor, filters=filters, limit=search.count, offset=search.offset
    )
    return [appointment_resource(a) for a in found], total


def _one_practitioner(search: Search) -> uuid.UUID | None:
    found = search.references("practitioner", "Practitioner")
    if found is None:
        return None
    if not found:
        return uuid.UUID(int=0)  # no id of ours: matches nothing
    if len(found) > 1:
        raise BadRequest("Give one practitioner: practitioner=Practitioner/<id>")
    return found[0]


def _days(criteria: tuple[DateCriterion, ...]) -> tuple[date, date]:
    """The days a slot search must look at: from the latest lower bound to the earliest
    upper bound of its `start` criteria (a week from today when none is given)."""
    first: date | None = None
    last: date | None = None
    for c in criteria:
        if c.comparison in ("eq", "ge", "gt", "sa"):
            low = c.start.date() if c.comparison in ("eq", "ge") else c.end.date()
            first = max(first, low) if first else low
        if c.comparison in ("eq", "le", "lt", "eb"):
            high = (c.end - timedelta(microseconds=1)).date()
            last = min(last, high) if last else high
    first = first or utcnow().date()
    last = last or first + timedelta(days=DEFAULT_DAYS - 1)
    if (last - first).days >= schedule.MAX_DAYS:
        raise BadRequest(f"A slot search covers at most {schedule.MAX_DAYS} days: bound 'start'")
    return first, last


async def _free_slots(
    ctx: Context, provider: str, criteria: tuple[DateCriterion, ...]
) -> list[Resource]:
    provider_id = as_uuid(provider)
    if provider_id is None:
        return []
    first, last = _days(criteria)
    if last < first:
        return []
    try:
        found = await schedule.provider_schedule(
            ctx.session,
            actor=ctx.actor,
            provider_id=provider_id,
            start_date=first,
            end_date=last,
            duration=SLOT_MINUTES,
        )
    except NotFound:
        return []  # no such schedule: a search that finds nothing
    return [
        slot_resource(str(provider_id), start, end)
        for start, end in found.slots
        if all(c.holds(start) for c in criteria)
    ]


async def search_slots(ctx: Context, search: Search) -> tuple[list[Resource], int]:
    schedules = search.references("schedule", "Schedule")
    if not schedules or len(schedules) != 1:
        raise BadRequest("Search slots of one schedule: schedule=Schedule/<practitioner id>")
    every = await _free_slots(ctx, str(schedules[0]), search.dates("start"))
    wanted = search.ids()
    if wanted is not None:
        every = [slot for slot in every if slot["id"] in wanted]
    return every[search.offset : search.offset + search.count], len(every)


async def read_slot(ctx: Context, id_: str) -> Resource:
    provider, _, rest = id_[:36], id_[36:37], id_[37:]
    try:
        start = datetime.strptime(rest, f"%Y%m%d%H%M-{SLOT_MINUTES}").replace(tzinfo=UTC)
    except ValueError:
        raise NotFound("Slot not found") from None
    moment = DateCriterion("eq", start, start + timedelta(minutes=1))
    for slot in await _free_slots(ctx, provider, (moment,)):
        if slot["id"] == id_:
            return slot
    raise NotFound("Slot not found (or no longer free)")


APPOINTMENT_TYPE = ResourceType(
    "Appointment",
    read_appointment,
    search_appointments,
    (
        ID,
        PATIENT,
        SearchParam("practitioner", "reference", "The provider: Practitioner/<id>"),
        SearchParam("status", "token", ", ".join(APPOINTMENT_STATUSES.values())),
        SearchParam("date", "date", "When it starts, with prefixes"),
    ),
)
SLOT_TYPE = ResourceType(
    "Slot",
    read_slot,
    search_slots,
    (
        ID,
        SearchParam(
            "schedule",
            "reference",
            "Required: Schedule/<practitioner id> (a provider's schedule has its id)",
        ),
        SearchParam("start", "date", "When the slot starts; at most 31 days (default: 7 days)"),
    ),
    documentation="Free 30-minute slots of a provider's working hours, minus booked time",
)
