"""Emergency ("break the glass") access, HIPAA 164.312(a)(2)(ii): a clinician of a
pre-authorised role opens a restricted patient's record with a reason, for a limited time.
The grant is its own audit event, every read under it is flagged in the trail, and
administrators list the grants."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hms.access.models import EmergencyAccessGrant
from hms.access.scoping import reference
from hms.audit import service as audit
from hms.auth.permissions import Actor, Permission
from hms.db import utcnow
from hms.errors import Conflict, NotFound
from hms.patients.models import Patient
from hms.patients.service import NUMBER_PATTERN

ACTION = "emergency_access"


async def grant_access(
    session: AsyncSession, *, actor: Actor, patient_ref: str, reason: str, minutes: int
) -> EmergencyAccessGrant:
    """Grant `actor` access to one patient's record for `minutes`, whoever the patient is."""
    actor.require(Permission.EMERGENCY_ACCESS)
    if actor.user_id is None:
        raise Conflict("Emergency access is granted to a signed-in user")
    condition = reference(
        patient_ref,
        Patient.id,
        not_found="Patient not found",
        number_column=Patient.patient_number,
        number_pattern=NUMBER_PATTERN,
    )
    patient = (await session.execute(select(Patient).where(condition))).scalar_one_or_none()
    if patient is None:
        raise NotFound("Patient not found")
    now = utcnow()
    grant = EmergencyAccessGrant(
        id=uuid.uuid4(),
        user_id=actor.user_id,
        username=actor.username,
        role=str(actor.role),
        patient_id=patient.id,
        reason=reason,
        created_at=now,
        expires_at=now + timedelta(minutes=minutes),
    )
    session.add(grant)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action=ACTION,
        resource_type="emergency_access",
        resource_id=grant.id,
        patient_id=patient.id,
        details={
            "reason": reason,
            "expires_at": grant.expires_at.isoformat(),
            "restricted": patient.restricted,
        },
    )
    return grant


@dataclass(frozen=True)
class GrantFilter:
    user_id: uuid.UUID | None = None
    patient_id: uuid.UUID | None = None
    active: bool | None = None


async def list_grants(
    session: AsyncSession, *, actor: Actor, filters: GrantFilter, limit: int, offset: int
) -> tuple[list[EmergencyAccessGrant], int]:
    """Every grant, newest first: for the administrators who review them."""
    actor.require(Permission.AUDIT_READ)
    where = []
    if filters.user_id is not None:
        where.append(EmergencyAccessGrant.user_id == filters.user_id)
    if filters.patient_id is not None:
        where.append(EmergencyAccessGrant.patient_id == filters.patient_id)
    if filters.active is not None:
        live = EmergencyAccessGrant.expires_at > utcnow()
        where.append(live if filters.active else ~live)
    total = (
        await session.execute(select(func.count()).select_from(EmergencyAccessGrant).where(*where))
    ).scalar_one()
    rows = await session.execute(
        select(EmergencyAccessGrant)
        .where(*where)
        .order_by(EmergencyAccessGrant.created_at.desc(), EmergencyAccessGrant.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows.scalars()), total
