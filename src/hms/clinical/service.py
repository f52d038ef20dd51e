"""Clinical encounters: document, read, list, change (drafts edited, signed notes amended) and
read their history. Every step checks the permission map, audits and queues its event."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from hms import events
from hms.access import scoping
from hms.analytics import summaries
from hms.audit import service as audit
from hms.auth.permissions import Actor, Permission
from hms.clinical import history, projections
from hms.clinical.models import Encounter, EncounterVersion
from hms.clinical.schemas import SIGNED_STATUSES, EncounterCreate, EncounterUpdate
from hms.clinical.transitions import next_status
from hms.db import utcnow
from hms.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from hms.patients.models import Patient
from hms.patients.service import load_patient
from hms.periods import DateCriterion, all_of
from hms.providers.models import Provider

# Clocks drift; a note saved a moment "ahead" of the server is not a note about the future.
CLOCK_SKEW = timedelta(minutes=5)
CONTENT_FIELDS = (
    "provider_id",
    "encounter_type",
    "encounter_date",
    "location",
    "chief_complaint",
    "history_of_present_illness",
    "review_of_systems",
    "physical_examination",
    "assessment",
    "plan",
    "diagnoses",
)
REQUIRED_FIELDS = ("provider_id", "encounter_type", "encounter_date", "status")


def encounter_scope(actor: Actor) -> ColumnElement[bool]:
    """Staff reach the encounters of the patients they reach; a patient user its own signed
    ones (no drafts)."""
    reachable = scoping.patient_condition(actor, Encounter.patient_id)
    if actor.patient_scope is None:
        return reachable
    return reachable & Encounter.status.in_(SIGNED_STATUSES)


async def load_encounter(
    session: AsyncSession, *, actor: Actor, ref: str, for_update: bool = False
) -> Encounter:
    """An encounter this actor may reach, without auditing (for services that audit).

    `for_update` locks the row until the transaction ends, so that concurrent changes take
    turns, each starting from the version the previous one committed."""
    found = scoping.reference(ref, Encounter.id, not_found="Encounter not found")
    query = select(Encounter).where(found, encounter_scope(actor))
    if for_update:
        query = query.with_for_update(of=Encounter, key_share=True)
    row = await session.execute(query)
    encounter = row.scalar_one_or_none()
    if encounter is None:
        raise NotFound("Encounter not found")
    return encounter


async def create_encounter(
    session: AsyncSession, *, actor: Actor, data: EncounterCreate
) -> Encounter:
    actor.require(Permission.ENCOUNTERS_WRITE)
    try:
        # Locked first: the patient's analytics summary is rewritten below, and taking the lock
        # after the encounter's insert (which holds the patient row's key) would let two
        # encounters of one patient deadlock.
        patient = await load_patient(session, actor=actor, ref=data.patient_id, for_update=True)
    except NotFound:
        raise ValidationFailed("patient_id", "No such patient") from None
    if not patient.is_active:
        raise Conflict("The patient is deactivated; no encounter can be added")
    values = _content(data, set(CONTENT_FIELDS))
    values["provider_id"] = await _provider(session, actor, data.provider_id)
    now = utcnow()
    values["encounter_date"] = _checked_date(data.encounter_date or now, patient)
    encounter = Encounter(
        id=uuid.uuid4(),
        patient_id=patient.id,
        status=data.status,
        created_at=now,
        updated_at=now,
        **values,
    )
    session.add(encounter)
    await session.flush()
    await projections.refresh(session, encounter)
    fields = sorted(set(CONTENT_FIELDS) & data.model_fields_set)
    await history.record_version(
        session, actor=actor, encounter=encounter, change="created", fields=fields
    )
    _audit(session, actor, "encounter.create", encounter, version=1, status=encounter.status)
    _emit(session, "encounter_created", encounter)
    return encounter


async def get_encounter(session: AsyncSession, *, actor: Actor, ref: str) -> Encounter:
    actor.require(Permission.ENCOUNTERS_READ)
    encounter = await load_encounter(session, actor=actor, ref=ref)
    _audit(session, actor, "encounter.read", encounter)
    return encounter


async def update_encounter(
    session: AsyncSession,
    *,
    actor: Actor,
    ref: str,
    data: EncounterUpdate,
    expected_version: int | None = None,
) -> Encounter:
    actor.require(Permission.ENCOUNTERS_WRITE)
    encounter = await load_encounter(session, actor=actor, ref=ref, for_update=True)
    # The patient before any row that refers to it (see create_encounter).
    await summaries.lock_patient(session, encounter.patient_id)
    if expected_version is not None and expected_version != encounter.version:
        raise PreconditionFailed(
            "The encounter was changed since you read it; fetch it again and retry",
            details={"current_etag": f'"{encounter.version}"'},
        )
    sent = data.model_fields_set
    for name in REQUIRED_FIELDS:
        if name in sent and getattr(data, name) is None:
            raise ValidationFailed(name, "This field cannot be empty")
    values = _content(data, sent)
    if "provider_id" in values:
        values["provider_id"] = await _provider(session, actor, data.provider_id)
    if "encounter_date" in values:
        patient = await session.get_one(Patient, encounter.patient_id)
        values["encounter_date"] = _checked_date(values["encounter_date"], patient)
    changed = [name for name, value in values.items() if getattr(encounter, name) != value]
    status, change = next_status(encounter.status, data.status, changed, data.amendment_reason)
    if change is None:
        _audit(session, actor, "encounter.update", encounter, fields=[])
        return encounter
    for name in changed:
        setattr(encounter, name, values[name])
    if status != encounter.status:
        encounter.status = status
        changed.append("status")
    try:
        await session.flush()
    except StaleDataError:
        raise PreconditionFailed("The encounter was changed by another request; retry") from None
    await projections.refresh(session, encounter)
    await history.record_version(
        session,
        actor=actor,
        encounter=encounter,
        change=change,
        fields=sorted(changed),
        reason=data.amendment_reason,
    )
    _audit(
        session,
        actor,
        "encounter.update",
        encounter,
        fields=sorted(changed),
        version=encounter.version,
        status=encounter.status,
        change=change,
    )
    _emit(session, "encounter_updated", encounter)
    return encounter


async def list_encounters(
    session: AsyncSession,
    *,
    actor: Actor,
    limit: int | None,
    offset: int,
    patient_ref: str | None = None,
    status: str | None = None,
    ids: Sequence[uuid.UUID] | None = None,
    patient_ids: Sequence[uuid.UUID] | None = None,
    statuses: Sequence[str] | None = None,
    dates: tuple[DateCriterion, ...] = (),
) -> tuple[list[Encounter], int]:
    """Newest first; for one patient (UUID or number) when asked, or narrowed to some ids,
    patients, statuses or encounter dates."""
    actor.require(Permission.ENCOUNTERS_READ)
    where = encounter_scope(actor) & all_of(Encounter.encounter_date, dates)
    if patient_ref is not None:
        patient = await load_patient(session, actor=actor, ref=patient_ref)
        where = where & (Encounter.patient_id == patient.id)
    if status is not None:
        where = where & (Encounter.status == status)
    for column, values in (
        (Encounter.id, ids),
        (Encounter.patient_id, patient_ids),
        (Encounter.status, statuses),
    ):
        if values is not None:
            where = where & column.in_(values)
    total = (
        await session.execute(select(func.count()).select_from(Encounter).where(where))
    ).scalar_one()
    rows = await session.execute(
        select(Encounter)
        .where(where)
        .order_by(Encounter.encounter_date.desc(), Encounter.created_at.desc(), Encounter.id)
        .limit(limit)
        .offset(offset)
    )
    encounters = list(rows.scalars())
    for encounter in encounters:
        _audit(session, actor, "encounter.list", encounter)
    return encounters, total


async def encounters_for_patients(
    session: AsyncSession, *, actor: Actor, patient_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Encounter]]:
    """Several patients' encounters in one query (newest first), for batched readers such as
    GraphQL; the same scope and per-encounter audit as `list_encounters`."""
    actor.require(Permission.ENCOUNTERS_READ)
    found: dict[uuid.UUID, list[Encounter]] = {pid: [] for pid in patient_ids}
    if not patient_ids:
        return found
    rows = await session.execute(
        select(Encounter)
        .where(encounter_scope(actor), Encounter.patient_id.in_(patient_ids))
        .order_by(Encounter.encounter_date.desc(), Encounter.created_at.desc(), Encounter.id)
    )
    for encounter in rows.scalars():
        found[encounter.patient_id].append(encounter)
        _audit(session, actor, "encounter.list", encounter)
    return found


async def encounter_history(
    session: AsyncSession, *, actor: Actor, ref: str, limit: int, offset: int
) -> tuple[list[EncounterVersion], int]:
    actor.require(Permission.ENCOUNTERS_READ)
    encounter = await load_encounter(session, actor=actor, ref=ref)
    found, total = await history.versions(
        session, actor=actor, encounter=encounter, limit=limit, offset=offset
    )
    _audit(session, actor, "encounter.history", encounter, versions=[v.version for v in found])
    return found, total


def _content(data: EncounterCreate | EncounterUpdate, sent: set[str]) -> dict[str, Any]:
    """The column values of the fields sent, in the form the note keeps them."""
    out: dict[str, Any] = {}
    for name in CONTENT_FIELDS:
        if name not in sent:
            continue
        value = getattr(data, name)
        if name == "physical_examination":
            value = value.stored() if value is not None else {}
        elif name == "review_of_systems":
            value = dict(value or {})
        elif name in ("assessment", "plan", "diagnoses"):
            value = [item.model_dump(mode="json") for item in value or []]
        out[name] = value
    return out


async def _provider(
    session: AsyncSession, actor: Actor, provider_id: uuid.UUID | None
) -> uuid.UUID:
    """The provider named, or the signed-in clinician's own record."""
    if provider_id is None:
        if actor.provider_id is None:
            raise ValidationFailed(
                "provider_id", "Name the provider: the signed-in user has no provider record"
            )
        provider_id = actor.provider_id
    provider = await session.get(Provider, provider_id)
    if provider is None:
        raise ValidationFailed("provider_id", "No such provider")
    if not provider.is_active:
        raise ValidationFailed("provider_id", "This provider is deactivated")
    return provider.id


def _checked_date(value: datetime, patient: Patient) -> datetime:
    if value > utcnow() + CLOCK_SKEW:
        raise ValidationFailed("encounter_date", "An encounter cannot be dated in the future")
    if value.date() < patient.date_of_birth:
        raise ValidationFailed("encounter_date", "An encounter cannot predate the patient's birth")
    return value


def _audit(
    session: AsyncSession, actor: Actor, action: str, encounter: Encounter, **details: Any
) -> None:
    # Field names, versions and statuses only: clinical text stays out of the audit trail.
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="encounter",
        resource_id=encounter.id,
        patient_id=encounter.patient_id,
        details=details or None,
    )


def _emit(session: AsyncSession, kind: str, encounter: Encounter) -> None:
    events.emit(
        session,
        events.DomainEvent(
            type=kind,
            resource_type="encounter",
            resource_id=str(encounter.id),
            patient_id=str(encounter.patient_id),
            data={"encounter": history.snapshot(encounter)},
        ),
    )
