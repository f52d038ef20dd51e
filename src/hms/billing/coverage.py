"""A patient's insurance coverage: one record per patient, used to fill in claims and counted
by analytics (private, medicare, medicaid, self_pay)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from hms.analytics import summaries
from hms.audit import service as audit
from hms.auth.permissions import Actor, Permission
from hms.billing.models import Coverage
from hms.billing.schemas import CoverageUpdate
from hms.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from hms.patients.service import load_patient

INSURANCE_FIELDS = ("payer", "policy_number", "group_number")


async def load_coverage(session: AsyncSession, patient_id: uuid.UUID) -> Coverage | None:
    return await session.get(Coverage, patient_id)


async def get_coverage(session: AsyncSession, *, actor: Actor, patient_ref: str) -> Coverage:
    actor.require(Permission.BILLING_READ)
    patient = await load_patient(session, actor=actor, ref=patient_ref)
    coverage = await load_coverage(session, patient.id)
    if coverage is None:
        raise NotFound("No coverage is recorded for this patient")
    _audit(session, actor, "coverage.read", patient.id)
    return coverage


async def set_coverage(
    session: AsyncSession,
    *,
    actor: Actor,
    patient_ref: str,
    data: CoverageUpdate,
    expected_version: int | None = None,
) -> tuple[Coverage, bool]:
    """Record or change the coverage (only the fields sent change); True when it is new.
    Insured coverage needs a payer and a policy number; self-pay has neither."""
    actor.require(Permission.BILLING_WRITE)
    patient = await load_patient(session, actor=actor, ref=patient_ref, for_update=True)
    if not patient.is_active:
        raise Conflict("The patient is deactivated; its record can no longer be changed")
    coverage = await load_coverage(session, patient.id)
    created = coverage is None
    if coverage is not None and expected_version not in (None, coverage.version):
        raise PreconditionFailed(
            "The coverage was changed since you read it; fetch it again",
            details={"current_etag": f'"{coverage.version}"'},
        )
    changes = data.model_dump(exclude_unset=True)
    if "coverage_type" in changes and changes["coverage_type"] is None:
        raise ValidationFailed("coverage_type", "This field cannot be empty")
    if coverage is None:
        if "coverage_type" not in changes:
            raise ValidationFailed("coverage_type", "Field required")
        coverage = Coverage(patient_id=patient.id)
        session.add(coverage)
    if changes.get("coverage_type") == "self_pay":
        # Switching to self-pay drops the policy; nothing to bill to an insurer.
        for name in INSURANCE_FIELDS:
            changes.setdefault(name, None)
    for name, value in changes.items():
        setattr(coverage, name, value)
    if coverage.coverage_type == "self_pay":
        if given := [n for n in INSURANCE_FIELDS if getattr(coverage, n) is not None]:
            raise ValidationFailed(given[0], "Self-pay coverage has no payer or policy")
    else:
        for name in ("payer", "policy_number"):
            if getattr(coverage, name) is None:
                raise ValidationFailed(name, f"Insured coverage needs {name}")
    try:
        await session.flush()
    except StaleDataError:
        raise PreconditionFailed("The coverage was changed by another request; retry") from None
    await summaries.refresh_patient(session, patient.id)
    _audit(
        session,
        actor,
        "coverage.update",
        patient.id,
        fields=sorted(data.model_fields_set),
        coverage_type=coverage.coverage_type,
    )
    return coverage, created


def _audit(
    session: AsyncSession, actor: Actor, action: str, patient_id: uuid.UUID, **details: object
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="coverage",
        resource_id=patient_id,
        patient_id=patient_id,
        details=details or None,
    )
