"""A patient's account: what was charged, what insurance and the patient paid, what was
adjusted, what is still owed; and the patient's payments towards it.

Sums are taken in Python over Decimals rather than by SQL `SUM`, which SQLite computes in
binary floating point."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hms.audit import service as audit
from hms.auth.permissions import Actor, Permission
from hms.billing.models import Charge, Claim, Payment
from hms.billing.money import total
from hms.billing.schemas import PaymentCreate
from hms.db import utcnow
from hms.errors import Conflict, NotFound, ValidationFailed
from hms.patients.models import Patient
from hms.patients.service import load_patient


@dataclass(frozen=True)
class Balance:
    patient_id: uuid.UUID
    charged: Decimal
    insurance_paid: Decimal
    patient_paid: Decimal
    adjustments: Decimal

    @property
    def outstanding(self) -> Decimal:
        return self.charged - self.insurance_paid - self.patient_paid - self.adjustments


async def compute_balance(session: AsyncSession, patient_id: uuid.UUID) -> Balance:
    charged = await session.execute(
        select(Charge.total_amount).where(
            Charge.patient_id == patient_id, Charge.status != "voided"
        )
    )
    claims = (
        await session.execute(
            select(Claim.insurance_paid, Claim.patient_paid, Claim.adjustment_total).where(
                Claim.patient_id == patient_id, Claim.status == "paid"
            )
        )
    ).all()
    payments = await session.execute(select(Payment.amount).where(Payment.patient_id == patient_id))
    return Balance(
        patient_id=patient_id,
        charged=total(charged.scalars()),
        insurance_paid=total(c.insurance_paid for c in claims),
        patient_paid=total(c.patient_paid for c in claims) + total(payments.scalars()),
        adjustments=total(c.adjustment_total for c in claims),
    )


async def lock_account(session: AsyncSession, patient_id: uuid.UUID) -> None:
    """Serialise the writes that move a patient's balance (payments, claim payments), so that
    two payments racing cannot together exceed what is owed. SQLite serialises writers anyway."""
    await session.execute(select(Patient.id).where(Patient.id == patient_id).with_for_update())


async def get_balance(session: AsyncSession, *, actor: Actor, patient_ref: str) -> Balance:
    actor.require(Permission.BILLING_READ)
    patient = await load_patient(session, actor=actor, ref=patient_ref)
    balance = await compute_balance(session, patient.id)
    _audit(session, actor, "balance.read", "patient", patient.id, patient.id)
    return balance


async def record_payment(session: AsyncSession, *, actor: Actor, data: PaymentCreate) -> Payment:
    """A payment may not exceed what the patient owes (422): refunds are not kept here."""
    actor.require(Permission.BILLING_WRITE)
    try:
        patient = await load_patient(session, actor=actor, ref=data.patient_id)
    except NotFound:
        raise ValidationFailed("patient_id", "No such patient") from None
    if not patient.is_active:
        raise Conflict("The patient is deactivated; no payment can be recorded")
    await lock_account(session, patient.id)
    outstanding = (await compute_balance(session, patient.id)).outstanding
    if data.amount > outstanding:
        raise ValidationFailed("amount", f"The patient owes {outstanding}")
    payment = Payment(
        id=uuid.uuid4(),
        patient_id=patient.id,
        amount=data.amount,
        method=data.method,
        reference=data.reference,
        received_at=data.received_at or utcnow(),
        recorded_by=actor.user_id,
        created_at=utcnow(),
    )
    session.add(payment)
    await session.flush()
    _audit(session, actor, "payment.create", "payment", payment.id, patient.id)
    return payment


def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID,
    patient_id: uuid.UUID,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        patient_id=patient_id,
    )
