"""What the billing operations share: whose records an actor reaches, loading by id or number,
saving with optimistic locking, and the audit and event trail."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from hms import events
from hms.access import scoping
from hms.audit import service as audit
from hms.auth.permissions import Actor
from hms.billing.models import Charge, Claim
from hms.billing.schemas import ChargeSummary, ClaimSummary
from hms.errors import Conflict, NotFound, PreconditionFailed

Record = TypeVar("Record", Charge, Claim)
NUMBERS = {Charge: re.compile(r"^CHG\d{8,}$"), Claim: re.compile(r"^CLM\d{8,}$")}


def scope(model: type[Charge] | type[Claim], actor: Actor) -> ColumnElement[bool]:
    """The records of the patients this actor reaches (see hms.access.scoping)."""
    return scoping.patient_condition(actor, model.patient_id)


async def load(session: AsyncSession, model: type[Record], *, actor: Actor, ref: str) -> Record:
    """A charge or claim by UUID or number (CHG20240001, CLM20240001), without auditing.
    Another patient's is a 404, as is one that does not exist."""
    kind = model.__name__
    number = Charge.charge_number if model is Charge else Claim.claim_number
    condition = scoping.reference(
        ref,
        model.id,
        not_found=f"{kind} not found",
        number_column=number,
        number_pattern=NUMBERS[model],
    )
    row = await session.execute(select(model).where(condition, scope(model, actor)))
    found = row.scalar_one_or_none()
    if found is None:
        raise NotFound(f"{kind} not found")
    return found


def check_version(record: Charge | Claim, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != record.version:
        raise PreconditionFailed(
            f"The {type(record).__name__.lower()} was changed since you read it; fetch it again",
            details={"current_etag": f'"{record.version}"'},
        )


async def save(session: AsyncSession, conflict: str) -> None:
    """Flush; a concurrent change of the same rows, or a charge already on a live claim, is a
    409 with `conflict` as its message."""
    try:
        await session.flush()
    except (StaleDataError, IntegrityError):
        raise Conflict(conflict) from None


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target: Charge | Claim,
    details: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type=type(target).__name__.lower(),
        resource_id=target.id,
        patient_id=target.patient_id,
        details=details,
    )


def charge_summary(charge: Charge) -> ChargeSummary:
    return ChargeSummary.model_validate(
        {name: getattr(charge, name) for name in ChargeSummary.model_fields}
    )


def claim_summary(claim: Claim) -> ClaimSummary:
    fields = {name: getattr(claim, name) for name in ClaimSummary.model_fields if name != "charges"}
    return ClaimSummary.model_validate({**fields, "charges": claim.charge_ids})


def emit(session: AsyncSession, kind: str, target: Charge | Claim) -> None:
    body: ChargeSummary | ClaimSummary
    if isinstance(target, Charge):
        key, body = "charge", charge_summary(target)
    else:
        key, body = "claim", claim_summary(target)
    # Amounts travel as strings in events ("100.00"): exact, whatever the subscriber parses with.
    events.emit(
        session,
        events.DomainEvent(
            type=kind,
            resource_type=key,
            resource_id=str(target.id),
            patient_id=str(target.patient_id),
            data={key: body.model_dump(mode="json")},
        ),
    )
