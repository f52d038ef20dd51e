"""Observations: each vital sign of a note and each laboratory result, as one series searchable
by patient, LOINC code, category and time, newest first.

Vital signs need `encounters:read` and reach what the notes reach (a patient user: its own
signed ones); laboratory results need `lab:results:read` and reach what `result_scope` allows
(a patient user: its own released values). An actor holding only one of the two permissions
searches that part alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from hms.audit import service as audit
from hms.auth.permissions import Actor, Permission
from hms.clinical.models import Encounter, VitalSignsReading
from hms.clinical.service import encounter_scope
from hms.errors import NotFound
from hms.laboratory.models import LabResult
from hms.laboratory.results import result_scope
from hms.periods import DateCriterion, all_of

VITAL_SIGNS_CATEGORY = "vital_signs"
LABORATORY_CATEGORY = "laboratory"
CATEGORIES = (VITAL_SIGNS_CATEGORY, LABORATORY_CATEGORY)


@dataclass(frozen=True)
class VitalSignKind:
    name: str
    # The LOINC codes of the measurement, the first the one it is known by.
    loinc: tuple[str, ...]
    column: Any


# The LOINC codes of the vital signs panel (as US Core profiles them). Weight, height and BMI
# are not recorded by a note, so there is no observation of them.
VITAL_SIGNS = {
    kind.name: kind
    for kind in (
        VitalSignKind("blood_pressure", ("85354-9",), VitalSignsReading.systolic),
        VitalSignKind("heart_rate", ("8867-4",), VitalSignsReading.heart_rate),
        VitalSignKind("respiratory_rate", ("9279-1",), VitalSignsReading.respiratory_rate),
        VitalSignKind("body_temperature", ("8310-5",), VitalSignsReading.temperature_c),
        VitalSignKind(
            "oxygen_saturation", ("59408-5", "2708-6"), VitalSignsReading.oxygen_saturation
        ),
    )
}
# A key: a vital sign's name and its encounter, or LABORATORY_CATEGORY and the result's id.
ObservationKey = tuple[str, uuid.UUID]


@dataclass(frozen=True)
class VitalSign:
    kind: VitalSignKind
    reading: VitalSignsReading
    encounter_status: str
    provider_id: uuid.UUID


Observation = VitalSign | LabResult


@dataclass(frozen=True)
class ObservationFilter:
    keys: Sequence[ObservationKey] | None = None
    patient_ids: Sequence[uuid.UUID] | None = None
    categories: Sequence[str] | None = None
    loinc_codes: Sequence[str] | None = None
    dates: tuple[DateCriterion, ...] = ()


async def list_observations(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: ObservationFilter,
    limit: int | None,
    offset: int = 0,
) -> tuple[list[Observation], int]:
    """Newest first; each one returned is audited with its patient."""
    found, total = await _page(session, actor, filters, limit, offset)
    for item in found:
        _audit(session, actor, "list", item)
    return found, total


async def get_observation(
    session: AsyncSession, *, actor: Actor, key: ObservationKey
) -> Observation:
    category = LABORATORY_CATEGORY if key[0] == LABORATORY_CATEGORY else VITAL_SIGNS_CATEGORY
    actor.require(_PERMISSIONS[category])
    filters = ObservationFilter(keys=[key], categories=[category])
    found, _ = await _page(session, actor, filters, 1, 0)
    if not found:
        raise NotFound("Observation not found")
    _audit(session, actor, "read", found[0])
    return found[0]


async def _page(
    session: AsyncSession, actor: Actor, filters: ObservationFilter, limit: int | None, offset: int
) -> tuple[list[Observation], int]:
    parts = _parts(actor, filters)
    if not parts:
        return [], 0
    keys = union_all(*parts).subquery()
    total = (await session.execute(select(func.count()).select_from(keys))).scalar_one()
    page = await session.execute(
        select(keys.c.kind, keys.c.ref)
        .order_by(keys.c.at.desc(), keys.c.kind, keys.c.ref)
        .limit(limit)
        .offset(offset)
    )
    return await _load(session, [(kind, ref) for kind, ref in page.tuples()]), total


_PERMISSIONS = {
    VITAL_SIGNS_CATEGORY: Permission.ENCOUNTERS_READ,
    LABORATORY_CATEGORY: Permission.LAB_RESULTS_READ,
}


def _parts(actor: Actor, filters: ObservationFilter) -> list[Any]:
    wanted = [c for c in CATEGORIES if filters.categories is None or c in filters.categories]
    if not wanted:
        return []
    allowed = [c for c in wanted if actor.can(_PERMISSIONS[c])]
    if not allowed:
        actor.require(_PERMISSIONS[wanted[0]])
    codes = set(filters.loinc_codes) if filters.loinc_codes is not None else None
    parts = []
    if VITAL_SIGNS_CATEGORY in allowed:
        for kind in VITAL_SIGNS.values():
            if codes is not None and not codes & set(kind.loinc):
                continue
            refs = None
            if filters.keys is not None:
                refs = [ref for name, ref in filters.keys if name == kind.name]
            where = (
                encounter_scope(actor)
                & kind.column.is_not(None)
                & all_of(VitalSignsReading.recorded_at, filters.dates)
            )
            if refs is not None:
                where = where & VitalSignsReading.encounter_id.in_(refs)
            if filters.patient_ids is not None:
                where = where & VitalSignsReading.patient_id.in_(filters.patient_ids)
            parts.append(
                select(
                    cast(literal(kind.name), String(32)).label("kind"),
                    VitalSignsReading.encounter_id.label("ref"),
                    VitalSignsReading.recorded_at.label("at"),
                )
                .join(Encounter, Encounter.id == VitalSignsReading.encounter_id)
                .where(where)
            )
    if LABORATORY_CATEGORY in allowed:
        where = result_scope(actor) & all_of(LabResult.resulted_at, filters.dates)
        if filters.keys is not None:
            refs = [ref for name, ref in filters.keys if name == LABORATORY_CATEGORY]
            where = where & LabResult.id.in_(refs)
        if filters.patient_ids is not None:
            where = where & LabResult.patient_id.in_(filters.patient_ids)
        if codes is not None:
            where = where & LabResult.loinc_code.in_(codes)
        parts.append(
            select(
                cast(literal(LABORATORY_CATEGORY), String(32)).label("kind"),
                LabResult.id.label("ref"),
                LabResult.resulted_at.label("at"),
            ).where(where)
        )
    return parts


async def _load(session: AsyncSession, page: list[tuple[str, uuid.UUID]]) -> list[Observation]:
    """The page's observations, in its order."""
    encounter_ids = [ref for kind, ref in page if kind != LABORATORY_CATEGORY]
    result_ids = [ref for kind, ref in page if kind == LABORATORY_CATEGORY]
    readings: dict[uuid.UUID, tuple[VitalSignsReading, str, uuid.UUID]] = {}
    if encounter_ids:
        rows = await session.execute(
            select(VitalSignsReading, Encounter.status, Encounter.provider_id)
            .join(Encounter, Encounter.id == VitalSignsReading.encounter_id)
            .where(VitalSignsReading.encounter_id.in_(encounter_ids))
        )
        readings = {r.encounter_id: (r, status, provider) for r, status, provider in rows.tuples()}
    results: dict[uuid.UUID, LabResult] = {}
    if result_ids:
        found = await session.execute(select(LabResult).where(LabResult.id.in_(result_ids)))
        results = {r.id: r for r in found.scalars()}
    out: list[Observation] = []
    for kind, ref in page:
        if kind == LABORATORY_CATEGORY:
            out.append(results[ref])
        else:
            reading, status, provider = readings[ref]
            out.append(VitalSign(VITAL_SIGNS[kind], reading, status, provider))
    return out


def _audit(session: AsyncSession, actor: Actor, verb: str, item: Observation) -> None:
    if isinstance(item, VitalSign):
        audit.record(
            session,
            actor=actor,
            action=f"vital_signs.{verb}",
            resource_type="encounter",
            resource_id=item.reading.encounter_id,
            patient_id=item.reading.patient_id,
            details={"vital_sign": item.kind.name},
        )
    else:
        audit.record(
            session,
            actor=actor,
            action=f"lab_results.{verb}",
            resource_type="lab_order",
            resource_id=item.order_id,
            patient_id=item.patient_id,
            details={"tests": [item.test_code]},
        )
