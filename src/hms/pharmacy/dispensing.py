"""Dispensing: each fill is recorded, and the refill counter moves in one conditional UPDATE.

The first fill does not use a refill: a prescription with 3 refills is filled four times (the
first fill, then three refills), after which it is `completed`. The database decides, in one
statement (`... WHERE status = 'active' AND (fill_count = 0 OR refills_remaining > 0)`), so two
pharmacists dispensing at the same moment can never both take the last fill, and the counter
never goes below zero (a CHECK constraint guards that too).
"""

from __future__ import annotations

import uuid

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hms.auth.permissions import Actor, Permission
from hms.db import utcnow
from hms.errors import Conflict
from hms.pharmacy import records
from hms.pharmacy.models import Prescription, PrescriptionFill
from hms.pharmacy.schemas import DispenseRequest

P = Prescription


async def dispense(
    session: AsyncSession, *, actor: Actor, ref: str, data: DispenseRequest
) -> tuple[Prescription, PrescriptionFill]:
    actor.require(Permission.PRESCRIPTIONS_DISPENSE)
    prescription = await records.load_prescription(session, actor=actor, ref=ref)
    now = utcnow()
    last_fill = or_(
        and_(P.fill_count == 0, P.refills_remaining == 0),
        and_(P.fill_count > 0, P.refills_remaining == 1),
    )
    taken = await session.execute(
        update(P)
        .where(
            P.id == prescription.id,
            P.status == "active",
            P.expires_at > now,
            or_(P.fill_count == 0, P.refills_remaining > 0),
        )
        .values(
            fill_count=P.fill_count + 1,
            refills_remaining=case(
                (P.fill_count == 0, P.refills_remaining), else_=P.refills_remaining - 1
            ),
            status=case((last_fill, "completed"), else_=P.status),
            version=P.version + 1,
            updated_at=now,
        )
        .returning(P.fill_count)
        .execution_options(synchronize_session=False)
    )
    fill_number = taken.scalar_one_or_none()
    await session.refresh(prescription)
    if fill_number is None:
        raise _refusal(prescription)
    fill = PrescriptionFill(
        id=uuid.uuid4(),
        prescription_id=prescription.id,
        patient_id=prescription.patient_id,
        fill_number=fill_number,
        refill=fill_number > 1,
        quantity=data.quantity,
        ndc=data.ndc,
        notes=data.notes,
        dispensed_by_user_id=actor.user_id,
        dispensed_by_username=actor.username or None,
        dispensed_at=now,
    )
    session.add(fill)
    await session.flush()
    records.record(
        session,
        actor,
        "prescription.dispense",
        prescription,
        {
            "fill_id": str(fill.id),
            "fill_number": fill_number,
            "refills_remaining": prescription.refills_remaining,
            "controlled_substance": prescription.controlled_substance,
            "schedule": prescription.schedule,
        },
    )
    records.emit(
        session,
        "prescription_dispensed",
        prescription,
        fill={"id": str(fill.id), "fill_number": fill_number, "refill": fill.refill},
    )
    return prescription, fill


def _refusal(prescription: Prescription) -> Conflict:
    status = records.current_status(prescription)
    if status == "completed" and prescription.fill_count > 0:
        message = "Every fill of this prescription has been dispensed; no refills remain"
    elif status in ("cancelled", "expired"):
        message = f"A {status} prescription cannot be filled"
    else:
        message = f"A prescription that is {status.replace('_', ' ')} cannot be filled"
    return Conflict(
        message,
        details={
            "status": status,
            "fill_count": prescription.fill_count,
            "refills_remaining": prescription.refills_remaining,
        },
    )


async def list_fills(
    session: AsyncSession, *, actor: Actor, ref: str, limit: int, offset: int
) -> tuple[Prescription, list[PrescriptionFill], int]:
    """A prescription's fills, first fill first."""
    actor.require(Permission.PRESCRIPTIONS_READ)
    prescription = await records.load_prescription(session, actor=actor, ref=ref)
    where = PrescriptionFill.prescription_id == prescription.id
    total = (
        await session.execute(select(func.count()).select_from(PrescriptionFill).where(where))
    ).scalar_one()
    rows = await session.execute(
        select(PrescriptionFill)
        .where(where)
        .order_by(PrescriptionFill.fill_number)
        .limit(limit)
        .offset(offset)
    )
    records.record(session, actor, "prescription.fills", prescription)
    return prescription, list(rows.scalars()), total
