"""Patient records: registration, lookup, update, deactivation, listing and search."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from hms import events
from hms.access import scoping
from hms.analytics import summaries
from hms.audit import service as audit
from hms.auth.permissions import Actor, Permission
from hms.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from hms.numbering import number_for_insert
from hms.patients import name_index
from hms.patients import search as patient_search
from hms.patients.models import Patient
from hms.patients.schemas import (
    REQUIRED_FIELDS,
    SELF_SERVICE_FIELDS,
    PatientCreate,
    PatientSummary,
    PatientUpdate,
)
from hms.periods import DateCriterion, all_of

NUMBER_PATTERN = re.compile(r"^P\d{8,}$")
# The fields of the record that the analytics summaries read (with is_active, which only
# deactivation changes): a change of contact details leaves the summaries as they are.
SUMMARISED_FIELDS = frozenset({"date_of_birth", "gender", "medical_conditions"})
DERIVED_FIELDS = ("search_name", "search_keys", "email_normalized", "phone_digits_reversed")
LIST_FIELDS = ("allergies", "medical_conditions", "current_medications")


def patient_scope(actor: Actor) -> ColumnElement[bool]:
    """The patients this actor may reach (see hms.access.scoping)."""
    return scoping.patient_condition(actor, Patient.id)


_NOT_FOUND = "Patient not found"


def reference_condition(ref: str) -> ColumnElement[bool]:
    """A path reference is either the record's UUID or its patient number (404 otherwise)."""
    return scoping.reference(
        ref,
        Patient.id,
        not_found=_NOT_FOUND,
        number_column=Patient.patient_number,
        number_pattern=NUMBER_PATTERN,
    )


def named_by(patient_id: scoping.Column[uuid.UUID], ref: str) -> ColumnElement[bool]:
    """A list filter on the patient a query parameter names by UUID or number (422 otherwise)."""
    try:
        named = reference_condition(ref)
    except NotFound:
        raise ValidationFailed("patient_id", "Give the patient's UUID or number") from None
    return patient_id.in_(select(Patient.id).where(named))


async def load_patient(
    session: AsyncSession, *, actor: Actor, ref: str, for_update: bool = False
) -> Patient:
    """A patient this actor may reach, without auditing (for services that audit themselves).

    `for_update` locks the row until the transaction ends, so that concurrent changes of one
    patient take turns: each then starts from the version the previous one committed (a
    request without If-Match is not refused for a change it could not have seen). The lock is
    FOR NO KEY UPDATE: rows that merely refer to the patient (an appointment, an order) are
    still inserted meanwhile, and a writer holding such a reference can still take the lock
    without deadlocking with another."""
    value = scoping.parse_reference(ref, not_found=_NOT_FOUND, number_pattern=NUMBER_PATTERN)
    query = _lookup(patient_scope(actor), isinstance(value, str), for_update)
    row = await session.execute(query, {"ref": value})
    patient = row.scalar_one_or_none()
    if patient is None:
        raise NotFound(_NOT_FOUND)
    return patient


# Built once per reader scope and kind of reference, with the reference as a bound value: a
# statement built per request costs more to key for the statement cache than to run (a
# clinician's scope holds four subqueries).
@functools.lru_cache(maxsize=1024)
def _lookup(scope: ColumnElement[bool], by_number: bool, for_update: bool) -> Select[Any]:
    key = Patient.patient_number if by_number else Patient.id
    query = select(Patient).where(key == bindparam("ref"), scope)
    if for_update:
        query = query.with_for_update(of=Patient, key_share=True)
    return query


async def create_patient(session: AsyncSession, *, actor: Actor, data: PatientCreate) -> Patient:
    actor.require(Permission.PATIENTS_CREATE)
    if "restricted" in data.model_fields_set:
        actor.require(Permission.PATIENTS_RESTRICT)
    values = data.model_dump(exclude_none=True)
    patient = Patient(id=uuid.uuid4(), is_active=True, **search_fields(values))
    patient.patient_number = await number_for_insert(session, "P")
    session.add(patient)
    await session.flush()
    await summaries.refresh_patient(session, patient.id, new=True)
    await name_index.index_name(session, patient.id, patient.search_name, new=True)
    audit.record(
        session,
        actor=actor,
        action="patient.create",
        resource_type="patient",
        resource_id=patient.id,
        patient_id=patient.id,
    )
    _emit(session, "patient_created", patient)
    return patient


async def get_patient(session: AsyncSession, *, actor: Actor, ref: str) -> Patient:
    actor.require(Permission.PATIENTS_READ)
    patient = await load_patient(session, actor=actor, ref=ref)
    audit.record(
        session,
        actor=actor,
        action="patient.read",
        resource_type="patient",
        resource_id=patient.id,
        patient_id=patient.id,
    )
    return patient


async def update_patient(
    session: AsyncSession,
    *,
    actor: Actor,
    ref: str,
    data: PatientUpdate,
    expected_version: int | None = None,
) -> Patient:
    actor.require(Permission.PATIENTS_UPDATE)
    patient = await load_patient(session, actor=actor, ref=ref, for_update=True)
    _check_version(patient, expected_version)
    changes = data.model_dump(exclude_unset=True)
    if "restricted" in changes and not actor.is_patient:
        actor.require(Permission.PATIENTS_RESTRICT)
    for name in REQUIRED_FIELDS:
        if name in changes and changes[name] is None:
            raise ValidationFailed(name, "This field cannot be empty")
    # An explicit null empties a list: the record itself never holds null for one.
    for name in LIST_FIELDS:
        if name in changes and changes[name] is None:
            changes[name] = []
    if actor.is_patient and (denied := sorted(set(changes) - SELF_SERVICE_FIELDS)):
        raise Forbidden(f"Patients may update only their contact details, not {', '.join(denied)}")
    if not patient.is_active:
        raise Conflict("The patient is deactivated; its record can no longer be changed")
    merged = {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "email": patient.email,
        "contact_number": patient.contact_number,
        **changes,
    }
    renamed = False
    for name, value in search_fields(merged).items():
        if name in changes or name in DERIVED_FIELDS:
            renamed |= name == "search_name" and value != patient.search_name
            setattr(patient, name, value)
    await _flush_versioned(session)
    if SUMMARISED_FIELDS & changes.keys():
        await summaries.refresh_patient(session, patient.id)
    if renamed:
        await name_index.index_name(session, patient.id, patient.search_name)
    audit.record(
        session,
        actor=actor,
        action="patient.update",
        resource_type="patient",
        resource_id=patient.id,
        patient_id=patient.id,
        details={"fields": sorted(changes)},
    )
    _emit(session, "patient_updated", patient)
    return patient


async def deactivate_patient(
    session: AsyncSession, *, actor: Actor, ref: str, expected_version: int | None = None
) -> Patient:
    """Records are never deleted: the patient is marked inactive, and that is audited."""
    actor.require(Permission.PATIENTS_DEACTIVATE)
    patient = await load_patient(session, actor=actor, ref=ref, for_update=True)
    _check_version(patient, expected_version)
    if patient.is_active:
        patient.is_active = False
        await _flush_versioned(session)
        await summaries.refresh_patient(session, patient.id)
        _emit(session, "patient_deactivated", patient)
    audit.record(
        session,
        actor=actor,
        action="patient.deactivate",
        resource_type="patient",
        resource_id=patient.id,
        patient_id=patient.id,
    )
    return patient


async def list_patients(
    session: AsyncSession,
    *,
    actor: Actor,
    limit: int,
    offset: int,
    is_active: bool | None = True,
    ids: Sequence[uuid.UUID] | None = None,
    numbers: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    birth_dates: tuple[DateCriterion, ...] = (),
) -> tuple[list[Patient], int]:
    """By name; narrowed to some ids or patient numbers, to names any of `names` starts a word
    of (every word of it, case and accents ignored), or to birth dates, when asked."""
    actor.require(Permission.PATIENTS_READ)
    where = patient_scope(actor) & all_of(Patient.date_of_birth, birth_dates, as_date=True)
    if is_active is not None:
        where = where & (Patient.is_active == is_active)
    if ids is not None:
        where = where & Patient.id.in_(ids)
    if numbers is not None:
        where = where & Patient.patient_number.in_([n.upper() for n in numbers])
    if names is not None:
        where = where & or_(false(), *(_name_starts(name) for name in names))
    total = (
        await session.execute(select(func.count()).select_from(Patient).where(where))
    ).scalar_one()
    rows = await session.execute(
        select(Patient)
        .where(where)
        .order_by(Patient.last_name, Patient.first_name, Patient.id)
        .limit(limit)
        .offset(offset)
    )
    patients = list(rows.scalars())
    _audit_reads(session, actor, "patient.list", patients)
    return patients, total


async def search_patients(
    session: AsyncSession,
    *,
    actor: Actor,
    query: str,
    limit: int,
    offset: int,
    include_inactive: bool = False,
) -> tuple[list[Patient], int]:
    actor.require(Permission.PATIENTS_READ)
    if not query.strip():
        raise ValidationFailed("query", "Give a name, patient number, e-mail or phone to search")
    scope = patient_scope(actor)
    if not include_inactive:
        scope = _active_only(scope)
    patients, total = await patient_search.search(
        session, query, scope=scope, limit=limit, offset=offset
    )
    _audit_reads(session, actor, "patient.search", patients)
    return patients, total


@functools.lru_cache(maxsize=4096)
def _active_only(scope: ColumnElement[bool]) -> ColumnElement[bool]:
    """One expression per scope, as search keeps its statements per scope."""
    return scope & Patient.is_active.is_(True)


def _name_starts(name: str) -> ColumnElement[bool]:
    words = patient_search.normalize(name).split()
    return and_(
        true(),
        *(
            or_(
                Patient.search_name.startswith(word, autoescape=True),
                Patient.search_name.contains(f" {word}", autoescape=True),
            )
            for word in words
        ),
    )


def _audit_reads(session: AsyncSession, actor: Actor, action: str, patients: list[Patient]) -> None:
    for patient in patients:
        audit.record(
            session,
            actor=actor,
            action=action,
            resource_type="patient",
            resource_id=patient.id,
            patient_id=patient.id,
        )


def search_fields(values: dict[str, Any]) -> dict[str, Any]:
    """The values with the normalised copies search reads (also used by the bulk demo loader)."""
    out = dict(values)
    if "first_name" in values or "last_name" in values:
        out["search_name"] = patient_search.search_name(
            values.get("first_name") or "", values.get("last_name") or ""
        )
        out["search_keys"] = patient_search.search_keys(out["search_name"])
    if "email" in values:
        out["email_normalized"] = values["email"].lower() if values["email"] else None
    if "contact_number" in values:
        out["phone_digits_reversed"] = patient_search.reversed_digits(values["contact_number"])
    return out


def _check_version(patient: Patient, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != patient.version:
        raise PreconditionFailed(
            "The patient was changed since you read it; fetch it again and retry",
            details={"current_etag": etag(patient.version)},
        )


async def _flush_versioned(session: AsyncSession) -> None:
    try:
        await session.flush()
    except StaleDataError:
        raise PreconditionFailed("The patient was changed by another request; retry") from None


def etag(version: int) -> str:
    return f'"{version}"'


def event_payload(patient: Patient) -> dict[str, Any]:
    return PatientSummary.model_validate(patient).model_dump(mode="json") | {
        "is_active": patient.is_active,
    }


def _emit(session: AsyncSession, kind: str, patient: Patient) -> None:
    events.emit(
        session,
        events.DomainEvent(
            type=kind,
            resource_type="patient",
            resource_id=str(patient.id),
            patient_id=str(patient.id),
            data={"patient": event_payload(patient)},
        ),
    )
