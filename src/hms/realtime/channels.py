"""Channels and who may hear what on them.

An event belongs to a channel by the prefix of its type, so the events of a new domain reach the
right channel without touching this file. A channel needs the permission that reads that kind of
record; a patient user hears only of its own record, and of clinical work only once it is final
(a signed encounter, a final lab result), as the REST views show it.
"""

from __future__ import annotations

from hms.auth.permissions import Actor, Permission
from hms.clinical.schemas import SIGNED_STATUSES
from hms.events import DomainEvent

P = Permission

# channel -> (event type prefixes, permission to read what it carries)
CHANNELS: dict[str, tuple[tuple[str, ...], Permission]] = {
    "patient_updates": (("patient_",), P.PATIENTS_READ),
    "appointment_changes": (("appointment_",), P.APPOINTMENTS_READ),
    "encounters": (("encounter_",), P.ENCOUNTERS_READ),
    "lab_results": (("lab_",), P.LAB_RESULTS_READ),
    "prescriptions": (("prescription_",), P.PRESCRIPTIONS_READ),
    "billing": (("charge_", "claim_"), P.BILLING_READ),
}

PATIENT_VISIBLE_LAB_STATUSES = frozenset({"final", "corrected"})


def channel_of(event: DomainEvent) -> str | None:
    for channel, (prefixes, _permission) in CHANNELS.items():
        if event.type.startswith(prefixes):
            return channel
    return None


def may_subscribe(actor: Actor, channel: str) -> bool:
    return actor.can(CHANNELS[channel][1])


def may_see(actor: Actor, channel: str, event: DomainEvent) -> bool:
    if not may_subscribe(actor, channel):
        return False
    scope = actor.patient_scope
    if scope is None:
        return True
    if event.patient_id != str(scope):
        return False
    if channel == "encounters":
        return _status(event, "encounter") in SIGNED_STATUSES
    if channel == "lab_results":
        return _status(event, "result") in PATIENT_VISIBLE_LAB_STATUSES
    return True


def _status(event: DomainEvent, key: str) -> str | None:
    payload = event.data.get(key)
    return payload.get("status") if isinstance(payload, dict) else None
