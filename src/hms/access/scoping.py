"""Whose records an actor reaches, and how a path names a record: the one definition every
domain's queries use, so REST, GraphQL, WebSocket and FHIR obey the same rule and a query that
forgets nothing fails closed.

- A patient user reaches its own record only.
- An administrator reaches every record.
- Other staff reach every patient that is not `restricted`. A restricted (confidential) patient
  is reached only by a clinician with a care relationship (the provider named on one of the
  patient's encounters, appointments, prescriptions or lab orders) or by a user holding an
  active emergency-access grant for that patient. Anything else is "not found".
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterable
from typing import TypeAlias, TypeVar

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from hms.appointments.models import Appointment
from hms.auth.permissions import Actor, Role
from hms.clinical.models import Encounter
from hms.errors import NotFound
from hms.laboratory.models import LabOrder
from hms.patients.models import Patient
from hms.pharmacy.models import Prescription

# A mapped column or a plain one.
T = TypeVar("T")
Column: TypeAlias = InstrumentedAttribute[T] | ColumnElement[T]

# The records whose `provider_id` makes that provider one of the patient's carers.
CARE_RECORDS = (Encounter, Appointment, Prescription, LabOrder)


def patient_condition(actor: Actor, patient_id: Column[uuid.UUID]) -> ColumnElement[bool]:
    """A condition on a column holding a patient's id: true for the patients `actor` reaches."""
    return _condition(
        actor.patient_scope, actor.role, actor.provider_id, actor.emergency_patients, patient_id
    )


# Built once per kind of actor and column, since every query of every request asks for one
# (a clinician's carries four subqueries); expressions are immutable, so they are shared.
@functools.lru_cache(maxsize=4096)
def _condition(
    own: uuid.UUID | None,
    role: Role,
    provider_id: uuid.UUID | None,
    emergency_patients: frozenset[uuid.UUID],
    patient_id: Column[uuid.UUID],
) -> ColumnElement[bool]:
    if own is not None:
        return patient_id == own
    if role == Role.ADMIN:
        return true()
    if patient_id is Patient.id:
        # Querying the register itself: the row says whether it is restricted.
        allowed: list[ColumnElement[bool]] = [Patient.restricted.is_(False)]
    else:
        restricted = select(Patient.id).where(Patient.restricted).correlate(None)
        allowed = [patient_id.not_in(restricted)]
    if provider_id is not None:
        allowed += [
            patient_id.in_(
                select(record.patient_id).where(record.provider_id == provider_id).correlate(None)
            )
            for record in CARE_RECORDS
        ]
    if emergency_patients:
        allowed.append(patient_id.in_(sorted(emergency_patients)))
    return or_(*allowed)


async def reachable_patients(
    session: AsyncSession, actor: Actor, patient_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of these patients the actor reaches (for doors that filter outside a query)."""
    ids = set(patient_ids)
    if not ids:
        return set()
    rows = await session.execute(
        select(Patient.id).where(Patient.id.in_(sorted(ids)), patient_condition(actor, Patient.id))
    )
    return set(rows.scalars())


async def restricted_among(
    session: AsyncSession, patient_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    ids = set(patient_ids)
    if not ids:
        return set()
    rows = await session.execute(
        select(Patient.id).where(Patient.id.in_(sorted(ids)), Patient.restricted.is_(True))
    )
    return set(rows.scalars())


def reference(
    ref: str,
    id_column: Column[uuid.UUID],
    *,
    not_found: str,
    number_column: Column[str] | None = None,
    number_pattern: re.Pattern[str] | None = None,
) -> ColumnElement[bool]:
    """A path names a record by its UUID or, where it has one, its number (P20240001,
    RX20240001...). Anything else matches nothing: a 404 with `not_found` as its message."""
    pattern = number_pattern if number_column is not None else None
    value = parse_reference(ref, not_found=not_found, number_pattern=pattern)
    if number_column is not None and isinstance(value, str):
        return number_column == value
    return id_column == value


def parse_reference(
    ref: str, *, not_found: str, number_pattern: re.Pattern[str] | None = None
) -> uuid.UUID | str:
    """What `reference` matches: the UUID, or the record number (upper case) where the record
    kind has a `number_pattern`; a 404 with `not_found` for anything else."""
    try:
        return uuid.UUID(ref)
    except ValueError:
        pass
    if number_pattern is not None:
        number = ref.upper()
        if number_pattern.match(number):
            return number
    raise NotFound(not_found)
