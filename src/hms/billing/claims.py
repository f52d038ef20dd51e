"""Insurance claims: submit the pending charges of one patient, then follow the payer's answer:
submitted -> accepted or rejected (with a reason) -> paid (with the amounts paid and adjusted).

A charge sits on one live claim at most; the database decides (a partial unique index on
`claim_charges`), so two submissions racing for a charge get one 201 and one 409. A rejected
claim lets its charges go back to pending: they may be corrected and submitted again, by a new
`POST /claims` or by `POST /claims/{id}/resubmit`, which copies the rejected claim."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hms.auth.permissions import Actor, Permission
from hms.billing import records
from hms.billing.accounts import lock_account
from hms.billing.coverage import load_coverage
from hms.billing.models import Charge, Claim, ClaimCharge
from hms.billing.money import total
from hms.billing.schemas import ClaimCreate, ClaimPayment
from hms.db import utcnow
from hms.errors import Conflict, NotFound, ValidationFailed
from hms.numbering import next_number
from hms.patients.service import load_patient, named_by
from hms.periods import DateCriterion, all_of

TAKEN = "A charge of this claim is already on another claim, or was claimed meanwhile"


@dataclass(frozen=True)
class ClaimFilter:
    patient: str | None = None
    status: str | None = None
    ids: Sequence[uuid.UUID] | None = None
    patient_ids: Sequence[uuid.UUID] | None = None
    statuses: Sequence[str] | None = None
    dates: tuple[DateCriterion, ...] = ()  # of the submission


async def submit_claim(
    session: AsyncSession,
    *,
    actor: Actor,
    data: ClaimCreate,
    resubmission_of: uuid.UUID | None = None,
) -> Claim:
    actor.require(Permission.BILLING_WRITE)
    try:
        patient = await load_patient(session, actor=actor, ref=data.patient_id)
    except NotFound:
        raise ValidationFailed("patient_id", "No such patient") from None
    charge_ids = list(dict.fromkeys(data.charges))
    found = await session.execute(select(Charge).where(Charge.id.in_(charge_ids)))
    charges = {c.id: c for c in found.scalars()}
    if missing := [str(i) for i in charge_ids if i not in charges]:
        raise ValidationFailed("charges", f"No such charge: {', '.join(missing)}")
    ordered = [charges[i] for i in charge_ids]
    if any(c.patient_id != patient.id for c in ordered):
        raise ValidationFailed("charges", "A claim holds charges of its own patient only")
    for charge in ordered:
        if charge.status != "pending":
            raise Conflict(
                f"Charge {charge.charge_number} is {charge.status}; only pending ones are claimed",
                details={"charge_id": str(charge.id), "status": charge.status},
            )
    claimed = total(c.total_amount for c in ordered)
    owed = total(c.patient_amount for c in ordered)
    if data.total_amount is not None and data.total_amount != claimed:
        raise ValidationFailed("total_amount", f"The charges total {claimed}")
    if data.patient_responsibility is not None and data.patient_responsibility != owed:
        raise ValidationFailed("patient_responsibility", f"The charges' patient amounts are {owed}")
    payer, policy, group = await _insurance(session, patient.id, data)
    diagnoses = data.diagnoses
    if diagnoses is None:
        diagnoses = list(dict.fromkeys(code for c in ordered for code in c.diagnosis_codes))
    now = utcnow()
    claim = Claim(
        id=uuid.uuid4(),
        patient_id=patient.id,
        insurance_provider=payer,
        policy_number=policy,
        group_number=group,
        charge_ids=[str(i) for i in charge_ids],
        total_amount=claimed,
        patient_responsibility=owed,
        submission_method=data.submission_method,
        diagnoses=diagnoses,
        status="submitted",
        submitted_at=now,
        adjustments=[],
        resubmission_of=resubmission_of,
    )
    claim.claim_number = await next_number(session, "CLM")
    session.add(claim)
    await session.flush()
    session.add_all(ClaimCharge(claim_id=claim.id, charge_id=c.id, active=True) for c in ordered)
    for charge in ordered:
        charge.status = "billed"
    await records.save(session, TAKEN)
    details = {"charges": len(ordered), "total_amount": str(claimed)}
    if resubmission_of:
        details["resubmission_of"] = str(resubmission_of)
    records.record(session, actor, "claim.submit", claim, details)
    records.emit(session, "claim_submitted", claim)
    return claim


async def get_claim(session: AsyncSession, *, actor: Actor, ref: str) -> Claim:
    actor.require(Permission.BILLING_READ)
    claim = await records.load(session, Claim, actor=actor, ref=ref)
    records.record(session, actor, "claim.read", claim)
    return claim


async def list_claims(
    session: AsyncSession, *, actor: Actor, filters: ClaimFilter, limit: int | None, offset: int
) -> tuple[list[Claim], int]:
    """Newest submission first; a patient user's own claims only."""
    actor.require(Permission.BILLING_READ)
    where = records.scope(Claim, actor)
    if filters.patient is not None:
        where = where & named_by(Claim.patient_id, filters.patient)
    if filters.status is not None:
        where = where & (Claim.status == filters.status)
    for column, values in (
        (Claim.id, filters.ids),
        (Claim.patient_id, filters.patient_ids),
        (Claim.status, filters.statuses),
    ):
        if values is not None:
            where = where & column.in_(values)
    where = where & all_of(Claim.submitted_at, filters.dates)
    count = await session.execute(select(func.count()).select_from(Claim).where(where))
    rows = await session.execute(
        select(Claim)
        .where(where)
        .order_by(Claim.submitted_at.desc(), Claim.claim_number.desc())
        .limit(limit)
        .offset(offset)
    )
    claims = list(rows.scalars())
    for claim in claims:
        records.record(session, actor, "claim.list", claim)
    return claims, count.scalar_one()


async def claims_for_patients(
    session: AsyncSession, *, actor: Actor, patient_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Claim]]:
    """Several patients' claims in one query (newest first), for batched readers such as
    GraphQL; the same scope and per-claim audit as `list_claims`."""
    actor.require(Permission.BILLING_READ)
    found: dict[uuid.UUID, list[Claim]] = {pid: [] for pid in patient_ids}
    if not patient_ids:
        return found
    rows = await session.execute(
        select(Claim)
        .where(records.scope(Claim, actor), Claim.patient_id.in_(patient_ids))
        .order_by(Claim.submitted_at.desc(), Claim.claim_number.desc())
    )
    for claim in rows.scalars():
        found[claim.patient_id].append(claim)
        records.record(session, actor, "claim.list", claim)
    return found


async def accept_claim(
    session: AsyncSession, *, actor: Actor, ref: str, expected_version: int | None = None
) -> Claim:
    claim = await _moving(session, actor, ref, expected_version, "accepted", ("submitted",))
    claim.status, claim.accepted_at = "accepted", utcnow()
    return await _moved(session, actor, claim, "claim.accept", "submitted")


async def reject_claim(
    session: AsyncSession,
    *,
    actor: Actor,
    ref: str,
    reason: str,
    expected_version: int | None = None,
) -> Claim:
    """submitted or accepted -> rejected; its charges return to pending."""
    claim = await _moving(
        session, actor, ref, expected_version, "rejected", ("submitted", "accepted")
    )
    previous = claim.status
    claim.status, claim.rejected_at, claim.rejection_reason = "rejected", utcnow(), reason
    await session.execute(
        update(ClaimCharge).where(ClaimCharge.claim_id == claim.id).values(active=False)
    )
    await _set_charges(session, claim, "pending")
    return await _moved(session, actor, claim, "claim.reject", previous)


async def pay_claim(
    session: AsyncSession,
    *,
    actor: Actor,
    ref: str,
    data: ClaimPayment,
    expected_version: int | None = None,
) -> Claim:
    """accepted -> paid, with what the payer paid, what the patient paid and the adjustments;
    together they may not exceed the claim's total."""
    claim = await _moving(session, actor, ref, expected_version, "paid", ("accepted",))
    await lock_account(session, claim.patient_id)
    adjusted = total(a.amount for a in data.adjustments)
    settled = data.insurance_paid + data.patient_paid + adjusted
    if settled > claim.total_amount:
        raise ValidationFailed(
            "insurance_paid",
            f"Paid and adjusted ({settled}) exceed the claim's total ({claim.total_amount})",
        )
    claim.status, claim.paid_at = "paid", utcnow()
    claim.insurance_paid, claim.patient_paid = data.insurance_paid, data.patient_paid
    claim.adjustment_total = adjusted
    claim.adjustments = [a.model_dump(mode="json") for a in data.adjustments]
    await _set_charges(session, claim, "paid")
    return await _moved(session, actor, claim, "claim.pay", "accepted")


async def resubmit_claim(
    session: AsyncSession, *, actor: Actor, ref: str, expected_version: int | None = None
) -> Claim:
    """A new claim with the rejected claim's charges, payer and diagnoses."""
    actor.require(Permission.BILLING_WRITE)
    rejected = await records.load(session, Claim, actor=actor, ref=ref)
    records.check_version(rejected, expected_version)
    if rejected.status != "rejected":
        raise Conflict(
            f"Only a rejected claim is resubmitted; this one is {rejected.status}",
            details={"status": rejected.status},
        )
    data = ClaimCreate(
        patient_id=str(rejected.patient_id),
        insurance_provider=rejected.insurance_provider,
        policy_number=rejected.policy_number,
        group_number=rejected.group_number,
        charges=[uuid.UUID(i) for i in rejected.charge_ids],
        submission_method=rejected.submission_method,
        diagnoses=rejected.diagnoses,
    )
    return await submit_claim(session, actor=actor, data=data, resubmission_of=rejected.id)


async def _insurance(
    session: AsyncSession, patient_id: uuid.UUID, data: ClaimCreate
) -> tuple[str, str, str | None]:
    """Payer, policy and group: as sent, else from the patient's coverage."""
    coverage = await load_coverage(session, patient_id)
    on_file = coverage is not None and coverage.coverage_type != "self_pay"
    payer = data.insurance_provider or (coverage.payer if on_file and coverage else None)
    policy = data.policy_number or (coverage.policy_number if on_file and coverage else None)
    group = data.group_number or (coverage.group_number if on_file and coverage else None)
    if payer is None:
        raise ValidationFailed("insurance_provider", "No payer given and none on file")
    if policy is None:
        raise ValidationFailed("policy_number", "No policy number given and none on file")
    return payer, policy, group


async def _moving(
    session: AsyncSession,
    actor: Actor,
    ref: str,
    expected_version: int | None,
    target: str,
    sources: tuple[str, ...],
) -> Claim:
    actor.require(Permission.BILLING_WRITE)
    claim = await records.load(session, Claim, actor=actor, ref=ref)
    records.check_version(claim, expected_version)
    if claim.status not in sources:
        raise Conflict(
            f"A {claim.status} claim cannot be moved to {target} (only from "
            f"{' or '.join(sources)})",
            details={"status": claim.status, "target": target},
        )
    return claim


async def _set_charges(session: AsyncSession, claim: Claim, status: str) -> None:
    ids = [uuid.UUID(i) for i in claim.charge_ids]
    for charge in (await session.execute(select(Charge).where(Charge.id.in_(ids)))).scalars():
        charge.status = status


async def _moved(
    session: AsyncSession, actor: Actor, claim: Claim, action: str, previous: str
) -> Claim:
    await records.save(session, "The claim was changed by another request; retry")
    records.record(session, actor, action, claim, {"from": previous, "to": claim.status})
    records.emit(session, "claim_updated", claim)
    return claim
