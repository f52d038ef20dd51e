"""Charges: record, read, list, correct while pending, and void. Amounts are checked to the
cent: total = quantity x unit price, and the insurance and patient parts add up to the total."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hms.analytics import summaries
from hms.auth.permissions import Actor, Permission
from hms.billing import records
from hms.billing.models import Charge
from hms.billing.money import MAX_AMOUNT, ZERO, cents
from hms.billing.schemas import ChargeCreate, ChargeUpdate
from hms.clinical.models import Encounter
from hms.db import utcnow
from hms.errors import Conflict, NotFound, ValidationFailed
from hms.numbering import next_number
from hms.patients.service import load_patient, named_by
from hms.periods import DateCriterion, all_of
from hms.providers.models import Provider

AMOUNT_FIELDS = ("quantity", "unit_price", "total_amount", "insurance_amount", "patient_amount")
# Sent as null they would leave the charge without a required value.
REQUIRED_FIELDS = (
    *AMOUNT_FIELDS,
    "charge_date",
    "charge_code",
    "billing_provider_id",
    "diagnosis_codes",
    "modifiers",
)


@dataclass(frozen=True)
class ChargeFilter:
    patient: str | None = None
    encounter_id: uuid.UUID | None = None
    status: str | None = None
    ids: Sequence[uuid.UUID] | None = None
    patient_ids: Sequence[uuid.UUID] | None = None
    statuses: Sequence[str] | None = None
    dates: tuple[DateCriterion, ...] = ()  # of the charge date


def checked_amounts(
    quantity: int,
    unit_price: Decimal,
    total: Decimal | None,
    insurance: Decimal | None,
    patient: Decimal | None,
) -> tuple[Decimal, Decimal, Decimal]:
    """Total, insurance part and patient part, exact to the cent; what is absent is derived."""
    expected = cents(unit_price * quantity)
    if expected > MAX_AMOUNT:
        raise ValidationFailed("total_amount", f"The total may not exceed {MAX_AMOUNT}")
    if total is None:
        total = expected
    elif total != expected:
        raise ValidationFailed(
            "total_amount", f"total_amount must be quantity x unit_price = {expected}"
        )
    if patient is None:
        insurance = ZERO if insurance is None else insurance
        patient = total - insurance
    elif insurance is None:
        insurance = total - patient
    if insurance < 0 or patient < 0 or insurance + patient != total:
        raise ValidationFailed(
            "patient_amount", f"insurance_amount + patient_amount must equal total_amount {total}"
        )
    return total, cents(insurance), cents(patient)


async def create_charge(session: AsyncSession, *, actor: Actor, data: ChargeCreate) -> Charge:
    actor.require(Permission.BILLING_WRITE)
    try:
        patient = await load_patient(session, actor=actor, ref=data.patient_id)
    except NotFound:
        raise ValidationFailed("patient_id", "No such patient") from None
    if not patient.is_active:
        raise Conflict("The patient is deactivated; no charge can be added")
    encounter = await _encounter(session, data.encounter_id, patient.id)
    provider_id = data.billing_provider_id or (encounter.provider_id if encounter else None)
    total, insurance, own = checked_amounts(
        data.quantity,
        data.unit_price,
        data.total_amount,
        data.insurance_amount,
        data.patient_amount,
    )
    charge = Charge(
        id=uuid.uuid4(),
        patient_id=patient.id,
        encounter_id=encounter.id if encounter else None,
        charge_date=data.charge_date or utcnow(),
        charge_code=data.charge_code,
        description=data.description,
        quantity=data.quantity,
        unit_price=data.unit_price,
        total_amount=total,
        insurance_amount=insurance,
        patient_amount=own,
        status="pending",
        billing_provider_id=await _provider(session, provider_id),
        diagnosis_codes=data.diagnosis_codes,
        modifiers=data.modifiers,
        notes=data.notes,
    )
    charge.charge_number = await next_number(session, "CHG")
    session.add(charge)
    await records.save(session, "The charge conflicts with an existing record")
    await summaries.refresh_revenue(session, charge.charge_date)
    records.record(session, actor, "charge.create", charge, {"total_amount": str(total)})
    records.emit(session, "charge_created", charge)
    return charge


async def get_charge(session: AsyncSession, *, actor: Actor, ref: str) -> Charge:
    actor.require(Permission.BILLING_READ)
    charge = await records.load(session, Charge, actor=actor, ref=ref)
    records.record(session, actor, "charge.read", charge)
    return charge


async def list_charges(
    session: AsyncSession, *, actor: Actor, filters: ChargeFilter, limit: int | None, offset: int
) -> tuple[list[Charge], int]:
    """Newest charge date first; a patient user's own charges only."""
    actor.require(Permission.BILLING_READ)
    where = records.scope(Charge, actor)
    if filters.patient is not None:
        where = where & named_by(Charge.patient_id, filters.patient)
    if filters.encounter_id is not None:
        where = where & (Charge.encounter_id == filters.encounter_id)
    if filters.status is not None:
        where = where & (Charge.status == filters.status)
    for column, values in (
        (Charge.id, filters.ids),
        (Charge.patient_id, filters.patient_ids),
        (Charge.status, filters.statuses),
    ):
        if values is not None:
            where = where & column.in_(values)
    where = where & all_of(Charge.charge_date, filters.dates)
    count = select(func.count()).select_from(Charge).where(where)
    total = (await session.execute(count)).scalar_one()
    rows = await session.execute(
        select(Charge)
        .where(where)
        .order_by(Charge.charge_date.desc(), Charge.charge_number.desc())
        .limit(limit)
        .offset(offset)
    )
    charges = list(rows.scalars())
    for charge in charges:
        records.record(session, actor, "charge.list", charge)
    return charges, total


async def charges_for_patients(
    session: AsyncSession, *, actor: Actor, patient_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Charge]]:
    """Several patients' charges in one query (newest first), for batched readers such as
    GraphQL; the same scope and per-charge audit as `list_charges`."""
    actor.require(Permission.BILLING_READ)
    found: dict[uuid.UUID, list[Charge]] = {pid: [] for pid in patient_ids}
    if not patient_ids:
        return found
    rows = await session.execute(
        select(Charge)
        .where(records.scope(Charge, actor), Charge.patient_id.in_(patient_ids))
        .order_by(Charge.charge_date.desc(), Charge.charge_number.desc())
    )
    for charge in rows.scalars():
        found[charge.patient_id].append(charge)
        records.record(session, actor, "charge.list", charge)
    return found


async def update_charge(
    session: AsyncSession,
    *,
    actor: Actor,
    ref: str,
    data: ChargeUpdate,
    expected_version: int | None = None,
) -> Charge:
    actor.require(Permission.BILLING_WRITE)
    charge = await records.load(session, Charge, actor=actor, ref=ref)
    records.check_version(charge, expected_version)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    for name in REQUIRED_FIELDS:
        if name in changes and changes[name] is None:
            raise ValidationFailed(name, "This field cannot be empty")
    if charge.status != "pending":
        raise Conflict(
            f"A {charge.status} charge can no longer be changed",
            details={"status": charge.status},
        )
    if "encounter_id" in changes and changes["encounter_id"] is not None:
        await _encounter(session, changes["encounter_id"], charge.patient_id)
    if "billing_provider_id" in changes:
        changes["billing_provider_id"] = await _provider(session, changes["billing_provider_id"])
    if set(AMOUNT_FIELDS) & set(changes):
        merged = {name: changes.get(name, getattr(charge, name)) for name in AMOUNT_FIELDS}
        if not {"total_amount", "insurance_amount", "patient_amount"} & set(changes):
            # A new quantity or price keeps the insurance part and recomputes the rest.
            merged.update(total_amount=None, patient_amount=None)
        changes["total_amount"], changes["insurance_amount"], changes["patient_amount"] = (
            checked_amounts(*merged.values())
        )
    dated = charge.charge_date
    for name, value in changes.items():
        setattr(charge, name, value)
    await records.save(session, "The charge was changed by another request; retry")
    await summaries.refresh_revenue(session, dated, charge.charge_date)
    records.record(
        session, actor, "charge.update", charge, {"fields": sorted(data.model_fields_set)}
    )
    return charge


async def void_charge(
    session: AsyncSession,
    *,
    actor: Actor,
    ref: str,
    reason: str | None,
    expected_version: int | None = None,
) -> Charge:
    """pending -> voided. A billed charge is voided once its claim is rejected."""
    actor.require(Permission.BILLING_WRITE)
    charge = await records.load(session, Charge, actor=actor, ref=ref)
    records.check_version(charge, expected_version)
    if charge.status != "pending":
        raise Conflict(
            f"A {charge.status} charge cannot be voided (only a pending one)",
            details={"status": charge.status, "target": "voided"},
        )
    charge.status, charge.void_reason, charge.voided_at = "voided", reason, utcnow()
    await records.save(session, "The charge was changed by another request; retry")
    await summaries.refresh_revenue(session, charge.charge_date)
    records.record(session, actor, "charge.void", charge, {"from": "pending", "to": "voided"})
    return charge


async def _encounter(
    session: AsyncSession, encounter_id: uuid.UUID | None, patient_id: uuid.UUID
) -> Encounter | None:
    # Read directly: billing staff may link an encounter without reading its clinical note.
    if encounter_id is None:
        return None
    encounter = await session.get(Encounter, encounter_id)
    if encounter is None or encounter.patient_id != patient_id:
        raise ValidationFailed("encounter_id", "No such encounter for this patient")
    if encounter.status == "entered_in_error":
        raise ValidationFailed("encounter_id", "This encounter was entered in error")
    return encounter


async def _provider(session: AsyncSession, provider_id: uuid.UUID | None) -> uuid.UUID:
    if provider_id is None:
        raise ValidationFailed("billing_provider_id", "Name the billing provider")
    provider = await session.get(Provider, provider_id)
    if provider is None:
        raise ValidationFailed("billing_provider_id", "No such provider")
    if not provider.is_active:
        raise ValidationFailed("billing_provider_id", "This provider is deactivated")
    return provider.id
