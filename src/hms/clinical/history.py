"""Encounter versions: every state a note has been in, with who made it, when and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hms.auth.permissions import Actor
from hms.clinical.models import Encounter, EncounterVersion
from hms.clinical.schemas import SIGNED_STATUSES, EncounterData


def snapshot(encounter: Encounter) -> dict[str, Any]:
    return EncounterData.model_validate(encounter).model_dump(mode="json")


async def record_version(
    session: AsyncSession,
    *,
    actor: Actor,
    encounter: Encounter,
    change: str,
    fields: list[str],
    reason: str | None = None,
) -> EncounterVersion:
    """Keep the encounter as it now is, as version `encounter.version`."""
    version = EncounterVersion(
        encounter_id=encounter.id,
        patient_id=encounter.patient_id,
        version=encounter.version,
        status=encounter.status,
        change=change,
        reason=reason,
        fields=fields,
        snapshot=snapshot(encounter),
        changed_by_user_id=actor.user_id,
        changed_by_username=actor.username or None,
        changed_by_role=str(actor.role),
        changed_at=encounter.updated_at,
    )
    session.add(version)
    await session.flush()
    return version


async def versions(
    session: AsyncSession, *, actor: Actor, encounter: Encounter, limit: int, offset: int
) -> tuple[list[EncounterVersion], int]:
    """Newest first. A patient sees only the signed versions of its own (signed) encounter."""
    where = EncounterVersion.encounter_id == encounter.id
    if actor.patient_scope is not None:
        where = where & EncounterVersion.status.in_(SIGNED_STATUSES)
    total = (
        await session.execute(select(func.count()).select_from(EncounterVersion).where(where))
    ).scalar_one()
    rows = await session.execute(
        select(EncounterVersion)
        .where(where)
        .order_by(EncounterVersion.version.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(rows.scalars()), total
