"""Coded diagnoses across encounters: searched by patient, ICD-10-CM code and date, with the
same reach as the notes they come from (a patient user: its own signed encounters)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hms.audit import service as audit
from hms.auth.permissions import Actor, Permission
from hms.clinical import coding
from hms.clinical.models import Diagnosis, Encounter
from hms.clinical.service import encounter_scope
from hms.errors import NotFound
from hms.periods import DateCriterion, all_of

# A diagnosis is known by its encounter and its place in the note's list: the rows of the
# `diagnoses` table are rewritten with every change of the note, their own ids are not kept.
DiagnosisKey = tuple[uuid.UUID, int]


@dataclass(frozen=True)
class CodedDiagnosis:
    row: Diagnosis
    encounter_status: str
    provider_id: uuid.UUID

    @property
    def key(self) -> DiagnosisKey:
        return self.row.encounter_id, self.row.position


async def list_diagnoses(
    session: AsyncSession,
    *,
    actor: Actor,
    limit: int | None,
    offset: int = 0,
    keys: Sequence[DiagnosisKey] | None = None,
    patient_ids: Sequence[uuid.UUID] | None = None,
    codes: Sequence[str] | None = None,
    dates: tuple[DateCriterion, ...] = (),
) -> tuple[list[CodedDiagnosis], int]:
    """Newest encounter first, in the note's order; each one returned is audited."""
    actor.require(Permission.ENCOUNTERS_READ)
    where = encounter_scope(actor) & all_of(Diagnosis.encounter_date, dates)
    if keys is not None:
        where = where & or_(
            false(),
            *((Diagnosis.encounter_id == e) & (Diagnosis.position == p) for e, p in keys),
        )
    if patient_ids is not None:
        where = where & Diagnosis.patient_id.in_(patient_ids)
    if codes is not None:
        where = where & Diagnosis.code.in_([coding.normalize(c) or c for c in codes])
    found, total = await _query(session, where, limit, offset)
    for item in found:
        _audit(session, actor, "diagnosis.list", item)
    return found, total


async def get_diagnosis(
    session: AsyncSession, *, actor: Actor, key: DiagnosisKey
) -> CodedDiagnosis:
    actor.require(Permission.ENCOUNTERS_READ)
    where = (
        encounter_scope(actor) & (Diagnosis.encounter_id == key[0]) & (Diagnosis.position == key[1])
    )
    found, _ = await _query(session, where, 1, 0)
    if not found:
        raise NotFound("Diagnosis not found")
    _audit(session, actor, "diagnosis.read", found[0])
    return found[0]


async def _query(
    session: AsyncSession, where: ColumnElement[bool], limit: int | None, offset: int
) -> tuple[list[CodedDiagnosis], int]:
    joined = select(Diagnosis, Encounter.status, Encounter.provider_id).join(
        Encounter, Encounter.id == Diagnosis.encounter_id
    )
    total = (
        await session.execute(
            select(func.count())
            .select_from(Diagnosis)
            .join(Encounter, Encounter.id == Diagnosis.encounter_id)
            .where(where)
        )
    ).scalar_one()
    rows = await session.execute(
        joined.where(where)
        .order_by(Diagnosis.encounter_date.desc(), Diagnosis.encounter_id, Diagnosis.position)
        .limit(limit)
        .offset(offset)
    )
    return [CodedDiagnosis(d, status, provider) for d, status, provider in rows.tuples()], total


def _audit(session: AsyncSession, actor: Actor, action: str, item: CodedDiagnosis) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="encounter",
        resource_id=item.row.encounter_id,
        patient_id=item.row.patient_id,
        details={"diagnosis": item.row.position},
    )
