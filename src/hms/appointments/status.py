"""The appointment's life: scheduled -> checked_in -> completed, or cancelled / no_show from
scheduled or checked_in. Nothing else moves it, and no move is ever undone."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hms.appointments import records
from hms.appointments.models import Appointment
from hms.auth.permissions import Actor, Permission
from hms.db import utcnow
from hms.errors import Conflict, Forbidden


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    event: str
    stamp: str | None  # the column that records when it happened
    patient_may: bool = False


CHECK_IN = Transition(
    "check_in", frozenset({"scheduled"}), "checked_in", "appointment_updated", "checked_in_at"
)
COMPLETE = Transition(
    "complete", frozenset({"checked_in"}), "completed", "appointment_updated", "completed_at"
)
NO_SHOW = Transition(
    "no_show", frozenset({"scheduled", "checked_in"}), "no_show", "appointment_updated", None
)
CANCEL = Transition(
    "cancel",
    frozenset({"scheduled", "checked_in"}),
    "cancelled",
    "appointment_cancelled",
    "cancelled_at",
    patient_may=True,
)


async def change_status(
    session: AsyncSession,
    *,
    actor: Actor,
    ref: str,
    transition: Transition,
    reason: str | None = None,
    expected_version: int | None = None,
    repeat_ok: bool = False,
) -> Appointment:
    """Move an appointment along `transition`; any other move is a 409. With `repeat_ok`, an
    appointment already in the target state is left as it is (DELETE's idempotence)."""
    actor.require(Permission.APPOINTMENTS_WRITE)
    appointment = await records.load_appointment(session, actor=actor, ref=ref)
    if actor.is_patient and not transition.patient_may:
        raise Forbidden("Patients may book and cancel their appointments; the clinic does the rest")
    records.check_version(appointment, expected_version)
    action = f"appointment.{transition.name}"
    if repeat_ok and appointment.status == transition.target:
        records.record(session, actor, action, appointment, {"unchanged": True})
        return appointment
    if appointment.status not in transition.sources:
        allowed = " or ".join(sorted(transition.sources))
        raise Conflict(
            f"A {appointment.status} appointment cannot be moved to {transition.target} "
            f"(only from {allowed})",
            details={"status": appointment.status, "target": transition.target},
        )
    previous, appointment.status = appointment.status, transition.target
    if transition.stamp:
        setattr(appointment, transition.stamp, utcnow())
    if transition is CANCEL:
        appointment.cancellation_reason = reason
    await records.save(session)
    details = {"from": previous, "to": transition.target}
    records.record(session, actor, action, appointment, details)
    records.emit(session, transition.event, appointment)
    return appointment
