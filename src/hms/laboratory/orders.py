"""Laboratory orders: place, read, list, collect specimens and cancel. Every step checks the
permission map and audits with the patient's id.

An order's status follows its tests: `completed` when every test is, `in_progress` once any test
has results, `collected` once any specimen is taken, else `ordered`; `cancelled` is final.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from hms.access import scoping
from hms.audit import service as audit
from hms.auth.permissions import Actor, Permission
from hms.db import utcnow
from hms.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from hms.laboratory import catalogue
from hms.laboratory.models import LabOrder
from hms.laboratory.schemas import CollectRequest, LabOrderCreate
from hms.numbering import next_number
from hms.patients.service import load_patient
from hms.periods import DateCriterion, all_of
from hms.providers.models import Provider

NUMBER_PATTERN = re.compile(r"^LAB\d{8,}$")
FINISHED = ("completed", "cancelled")


def order_scope(actor: Actor) -> ColumnElement[bool]:
    return scoping.patient_condition(actor, LabOrder.patient_id)


def _reference(ref: str) -> ColumnElement[bool]:
    return scoping.reference(
        ref,
        LabOrder.id,
        not_found="Laboratory order not found",
        number_column=LabOrder.order_number,
        number_pattern=NUMBER_PATTERN,
    )


async def load_order(
    session: AsyncSession, *, actor: Actor, ref: str, lock: bool = False
) -> LabOrder:
    """An order this actor may reach (by UUID or LAB number), without auditing."""
    query = select(LabOrder).where(_reference(ref), order_scope(actor))
    if lock:
        query = query.with_for_update()
    order = (await session.execute(query)).scalar_one_or_none()
    if order is None:
        raise NotFound("Laboratory order not found")
    return order


def derived_status(order: LabOrder) -> str:
    if order.status == "cancelled":
        return "cancelled"
    statuses = {t["status"] for t in order.tests}
    if statuses == {"completed"}:
        return "completed"
    if statuses & {"in_progress", "completed"}:
        return "in_progress"
    if "collected" in statuses:
        return "collected"
    return "ordered"


def editable_tests(order: LabOrder) -> list[dict[str, Any]]:
    """Copies of the order's tests: the JSON column sees a change only when it is given new
    objects, never when the loaded ones are edited in place."""
    return [dict(t) for t in order.tests]


async def save(
    session: AsyncSession, order: LabOrder, tests: list[dict[str, Any]], now: datetime
) -> None:
    """Store the changed tests and the order's status that follows from them."""
    order.tests = tests
    order.status = derived_status(order)
    if order.status != "completed":
        order.completed_at = None
    elif order.completed_at is None:
        order.completed_at = now
    order.updated_at = now
    try:
        await session.flush()
    except StaleDataError:
        raise PreconditionFailed("The order was changed by another request; retry") from None


async def create_order(session: AsyncSession, *, actor: Actor, data: LabOrderCreate) -> LabOrder:
    actor.require(Permission.LAB_ORDER)
    try:
        patient = await load_patient(session, actor=actor, ref=data.patient_id)
    except NotFound:
        raise ValidationFailed("patient_id", "No such patient") from None
    if not patient.is_active:
        raise Conflict("The patient is deactivated; no order can be placed")
    tests: list[dict[str, Any]] = []
    for index, item in enumerate(data.tests):
        test = catalogue.find(item.test_code)
        field = f"tests.{index}.test_code"
        if test is None:
            raise ValidationFailed(field, f"Unknown test code '{item.test_code}'")
        if any(t["test_code"] == test.code for t in tests):
            raise ValidationFailed(field, f"Test '{test.code}' is ordered twice")
        tests.append(
            {
                "test_code": test.code,
                "test_name": item.test_name or test.name,
                "specimen_type": item.specimen_type or test.specimen_type,
                "collection_instructions": item.collection_instructions,
                "status": "ordered",
                "collected_at": None,
                "resulted_at": None,
            }
        )
    now = utcnow()
    order = LabOrder(
        id=uuid.uuid4(),
        order_number=await next_number(session, "LAB"),
        patient_id=patient.id,
        provider_id=await provider_ref(session, actor, data.provider_id, "provider_id"),
        ordering_location=data.ordering_location,
        priority=data.priority,
        clinical_information=data.clinical_information,
        tests=tests,
        diagnoses=list(dict.fromkeys(data.diagnoses)),
        notes=data.notes,
        status="ordered",
        ordered_at=now,
        collection_date=data.collection_date,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    await session.flush()
    audit_order(session, actor, "lab_order.create", order, tests=[t["test_code"] for t in tests])
    return order


async def get_order(session: AsyncSession, *, actor: Actor, ref: str) -> LabOrder:
    actor.require(Permission.LAB_RESULTS_READ)
    order = await load_order(session, actor=actor, ref=ref)
    audit_order(session, actor, "lab_order.read", order)
    return order


async def list_orders(
    session: AsyncSession,
    *,
    actor: Actor,
    limit: int | None,
    offset: int,
    patient_ref: str | None = None,
    status: str | None = None,
    ids: Sequence[uuid.UUID] | None = None,
    patient_ids: Sequence[uuid.UUID] | None = None,
    statuses: Sequence[str] | None = None,
    dates: tuple[DateCriterion, ...] = (),
) -> tuple[list[LabOrder], int]:
    """Newest first; of one patient (UUID or number) when asked, or narrowed to some ids,
    patients, statuses or order dates."""
    actor.require(Permission.LAB_RESULTS_READ)
    where = order_scope(actor) & all_of(LabOrder.ordered_at, dates)
    for column, values in (
        (LabOrder.id, ids),
        (LabOrder.patient_id, patient_ids),
        (LabOrder.status, statuses),
    ):
        if values is not None:
            where = where & column.in_(values)
    if patient_ref is not None:
        patient = await load_patient(session, actor=actor, ref=patient_ref)
        where = where & (LabOrder.patient_id == patient.id)
    if status is not None:
        where = where & (LabOrder.status == status)
    total = (
        await session.execute(select(func.count()).select_from(LabOrder).where(where))
    ).scalar_one()
    rows = await session.execute(
        select(LabOrder)
        .where(where)
        .order_by(LabOrder.ordered_at.desc(), LabOrder.id)
        .limit(limit)
        .offset(offset)
    )
    orders = list(rows.scalars())
    for order in orders:
        audit_order(session, actor, "lab_order.list", order)
    return orders, total


async def orders_for_patients(
    session: AsyncSession, *, actor: Actor, patient_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[LabOrder]]:
    """Several patients' orders in one query (newest first), for batched readers such as
    GraphQL; the same scope and per-order audit as `list_orders`."""
    actor.require(Permission.LAB_RESULTS_READ)
    found: dict[uuid.UUID, list[LabOrder]] = {pid: [] for pid in patient_ids}
    if not patient_ids:
        return found
    rows = await session.execute(
        select(LabOrder)
        .where(order_scope(actor), LabOrder.patient_id.in_(patient_ids))
        .order_by(LabOrder.ordered_at.desc(), LabOrder.id)
    )
    for order in rows.scalars():
        found[order.patient_id].append(order)
        audit_order(session, actor, "lab_order.list", order)
    return found


async def collect(
    session: AsyncSession, *, actor: Actor, ref: str, data: CollectRequest
) -> LabOrder:
    """Mark specimens taken: the tests named, or every test still waiting for one."""
    actor.require(Permission.LAB_RESULTS_ENTER)
    order = await load_order(session, actor=actor, ref=ref, lock=True)
    if order.status in FINISHED:
        raise Conflict(f"The order is {order.status}; no specimen can be collected for it")
    tests = editable_tests(order)
    on_order = {t["test_code"]: t for t in tests}
    if data.test_codes is None:
        chosen = [t for t in tests if t["status"] == "ordered"]
    else:
        chosen = []
        for index, code in enumerate(data.test_codes):
            known = catalogue.find(code)
            if known is None or known.code not in on_order:
                raise ValidationFailed(f"test_codes.{index}", f"'{code}' is not on this order")
            chosen.append(on_order[known.code])
    now = utcnow()
    at = (data.collected_at or now).isoformat().replace("+00:00", "Z")
    collected = []
    for state in chosen:
        if state["status"] == "ordered":
            state.update(status="collected", collected_at=at)
            collected.append(state["test_code"])
    if collected:
        await save(session, order, tests, now)
    audit_order(session, actor, "lab_order.collect", order, tests=collected)
    return order


async def cancel(session: AsyncSession, *, actor: Actor, ref: str, reason: str | None) -> LabOrder:
    if not (actor.can(Permission.LAB_ORDER) or actor.can(Permission.LAB_RESULTS_ENTER)):
        raise Forbidden(
            f"Role '{actor.role}' may not do this ({Permission.LAB_ORDER})",
            details={"permission": str(Permission.LAB_ORDER)},
        )
    order = await load_order(session, actor=actor, ref=ref, lock=True)
    if order.status == "cancelled":
        return order
    if order.status == "completed":
        raise Conflict("A completed order cannot be cancelled")
    now = utcnow()
    tests = editable_tests(order)
    for test in tests:
        if test["status"] != "completed":
            test["status"] = "cancelled"
    order.status = "cancelled"
    order.cancelled_at = now
    order.cancel_reason = reason
    order.tests = tests
    order.updated_at = now
    await session.flush()
    audit_order(session, actor, "lab_order.cancel", order)
    return order


async def provider_ref(
    session: AsyncSession, actor: Actor, provider_id: uuid.UUID | None, field: str
) -> uuid.UUID:
    """The provider named, or the signed-in clinician's own record."""
    if provider_id is None:
        if actor.provider_id is None:
            raise ValidationFailed(
                field, "Name the provider: the signed-in user has no provider record"
            )
        provider_id = actor.provider_id
    provider = await session.get(Provider, provider_id)
    if provider is None:
        raise ValidationFailed(field, "No such provider")
    if not provider.is_active:
        raise ValidationFailed(field, "This provider is deactivated")
    return provider.id


def audit_order(
    session: AsyncSession, actor: Actor, action: str, order: LabOrder, **details: Any
) -> None:
    # Test codes and statuses only: result values stay out of the audit trail.
    audit.record(
        session,
        actor=actor,
        action=action,
        resource_type="lab_order",
        resource_id=order.id,
        patient_id=order.patient_id,
        details=details or None,
    )
