"""Results: entered per test by the laboratory, flagged here from the reference range, kept a
row per component (earlier values of a corrected one in its `previous` list), read back in the
API document's shape, and announced as `lab_result_available`, marked critical on `LL`/`HH`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from hms import events
from hms.access import scoping
from hms.auth.permissions import Actor, Permission
from hms.db import utcnow
from hms.errors import Conflict, ValidationFailed
from hms.laboratory import catalogue, flags
from hms.laboratory.models import LabOrder, LabResult
from hms.laboratory.orders import audit_order, editable_tests, load_order, provider_ref, save
from hms.laboratory.schemas import RELEASED, ComponentEntry, ResultsEntry, TestResultEntry

CRITICAL = ("LL", "HH")


def result_scope(actor: Actor) -> ColumnElement[bool]:
    """The result rows this actor may read: staff those of the patients they reach; a patient
    user its own released (final or corrected) values."""
    reachable = scoping.patient_condition(actor, LabResult.patient_id)
    if actor.patient_scope is None:
        return reachable
    return reachable & LabResult.status.in_(RELEASED)


def _stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def evaluate(test: catalogue.LabTest | None, entry: ComponentEntry) -> dict[str, Any]:
    """The stored form of a component: the catalogue's name, LOINC and range where it knows
    the component in the unit sent, else the range sent; the flag computed from that range."""
    known = test.component(entry.component) if test else None
    unit = entry.unit if entry.unit is not None else (known.unit if known else None)
    if known is not None and known.range is not None and catalogue.same_unit(unit, known.unit):
        reference: flags.Range | None = known.range
    else:
        reference = flags.parse_range(entry.reference_range)
    return {
        "component": known.name if known else entry.component,
        "loinc_code": known.loinc if known else None,
        "result": entry.result,
        "value_numeric": flags.numeric_value(entry.result),
        "unit": unit,
        "reference_range": reference.text if reference else entry.reference_range,
        "flag": flags.flag(entry.result, reference),
    }


async def enter_results(
    session: AsyncSession, *, actor: Actor, ref: str, data: ResultsEntry
) -> tuple[LabOrder, list[LabResult]]:
    actor.require(Permission.LAB_RESULTS_ENTER)
    order = await load_order(session, actor=actor, ref=ref, lock=True)
    if order.status == "cancelled":
        raise Conflict("The order is cancelled; no results can be entered for it")
    tests = editable_tests(order)
    on_order = {t["test_code"]: t for t in tests}
    entries = _checked(data.results, on_order)
    existing = {
        (r.test_code, r.component): r
        for r in (
            await session.execute(select(LabResult).where(LabResult.order_id == order.id))
        ).scalars()
    }
    now = utcnow()
    if data.pathologist_id is not None:
        order.pathologist_id = await provider_ref(
            session, actor, data.pathologist_id, "pathologist_id"
        )
    if data.notes is not None:
        order.result_notes = data.notes
    changed: list[LabResult] = []
    for test, entry in entries:
        state = on_order[test.code]
        state["collected_at"] = state.get("collected_at") or _stamp(now)
        state["status"] = "completed" if entry.status == "final" else "in_progress"
        state["resulted_at"] = _stamp(now)
        rows = []
        for position, component in enumerate(entry.components):
            values = evaluate(test, component)
            row = existing.get((test.code, values["component"]))
            rows.append(_write(session, actor, order, test.code, position, row, values, entry, now))
        changed.extend(rows)
        _announce(session, order, state, rows)
    await save(session, order, tests, now)
    await session.flush()
    audit_order(
        session,
        actor,
        "lab_results.enter",
        order,
        tests=[test.code for test, _ in entries],
        flags=sorted({r.flag for r in changed if r.flag}),
    )
    return order, changed


def _checked(
    sent: list[TestResultEntry], on_order: dict[str, dict[str, Any]]
) -> list[tuple[catalogue.LabTest, TestResultEntry]]:
    out: list[tuple[catalogue.LabTest, TestResultEntry]] = []
    for index, entry in enumerate(sent):
        field = f"results.{index}.test_code"
        test = catalogue.find(entry.test_code)
        if test is None:
            raise ValidationFailed(field, f"Unknown test code '{entry.test_code}'")
        if test.code not in on_order:
            raise ValidationFailed(field, f"Test '{test.code}' is not on this order")
        if any(t.code == test.code for t, _ in out):
            raise ValidationFailed(field, f"Test '{test.code}' is sent twice")
        names = [evaluate(test, c)["component"].casefold() for c in entry.components]
        if len(set(names)) != len(names):
            raise ValidationFailed(f"results.{index}.components", "A component is sent twice")
        out.append((test, entry))
    return out


def _write(
    session: AsyncSession,
    actor: Actor,
    order: LabOrder,
    test_code: str,
    position: int,
    row: LabResult | None,
    values: dict[str, Any],
    entry: TestResultEntry,
    now: datetime,
) -> LabResult:
    status = "preliminary" if entry.status == "preliminary" else "final"
    if row is None:
        row = LabResult(
            order_id=order.id, patient_id=order.patient_id, test_code=test_code, previous=[]
        )
        session.add(row)
    else:
        if row.status in RELEASED and status == "final":
            # A released value changed: a correction; the earlier value stays readable.
            status = "corrected"
        row.previous = [*row.previous, _previous(row)]
    row.position = position
    for name, value in values.items():
        setattr(row, name, value)
    row.status = status
    row.resulted_at = now
    row.resulted_by_user_id = actor.user_id
    row.resulted_by_username = actor.username or None
    return row


def _previous(row: LabResult) -> dict[str, Any]:
    return {
        "result": row.result,
        "unit": row.unit,
        "reference_range": row.reference_range,
        "flag": row.flag,
        "status": row.status,
        "resulted_at": _stamp(row.resulted_at),
        "resulted_by": row.resulted_by_username,
    }


def component_view(row: LabResult) -> dict[str, Any]:
    return {
        "component": row.component,
        "result": row.result,
        "unit": row.unit,
        "reference_range": row.reference_range,
        "flag": row.flag,
        "status": row.status,
        "loinc_code": row.loinc_code,
        "resulted_at": _stamp(row.resulted_at),
        "resulted_by": row.resulted_by_username,
        "previous": row.previous,
    }


def _announce(
    session: AsyncSession, order: LabOrder, state: dict[str, Any], rows: list[LabResult]
) -> None:
    components = [component_view(r) for r in rows]
    critical = any(r.flag in CRITICAL for r in rows)
    events.emit(
        session,
        events.DomainEvent(
            type="lab_result_available",
            resource_type="lab_order",
            resource_id=str(order.id),
            patient_id=str(order.patient_id),
            data={
                "result": {
                    "order_id": str(order.id),
                    "order_number": order.order_number,
                    "patient_id": str(order.patient_id),
                    "test_code": state["test_code"],
                    "test_name": state["test_name"],
                    "status": state["status"],
                    "resulted_at": state["resulted_at"],
                    "critical": critical,
                    "components": components,
                }
            },
        ),
    )


async def results_of_orders(
    session: AsyncSession, *, actor: Actor, order_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[LabResult]]:
    """The result rows of some orders that the actor may read, in each order's sequence, for
    readers that list them beside their order (its own read is audited by the caller)."""
    actor.require(Permission.LAB_RESULTS_READ)
    found: dict[uuid.UUID, list[LabResult]] = {oid: [] for oid in order_ids}
    if not order_ids:
        return found
    rows = await session.execute(
        select(LabResult)
        .where(LabResult.order_id.in_(order_ids), result_scope(actor))
        .order_by(LabResult.test_code, LabResult.position, LabResult.component)
    )
    for row in rows.scalars():
        found[row.order_id].append(row)
    return found


async def read_results(
    session: AsyncSession, *, actor: Actor, ref: str
) -> tuple[LabOrder, list[dict[str, Any]]]:
    """The order's resulted tests. A patient sees only released (final or corrected) values of
    completed tests."""
    actor.require(Permission.LAB_RESULTS_READ)
    order = await load_order(session, actor=actor, ref=ref)
    rows = list(
        (
            await session.execute(
                select(LabResult)
                .where(LabResult.order_id == order.id)
                .order_by(LabResult.position, LabResult.component)
            )
        ).scalars()
    )
    results = []
    for test in order.tests:
        if actor.is_patient and test["status"] != "completed":
            continue
        mine = [r for r in rows if r.test_code == test["test_code"]]
        if actor.is_patient:
            mine = [r for r in mine if r.status in RELEASED]
        if not mine:
            continue
        results.append(
            {
                "test_code": test["test_code"],
                "test_name": test["test_name"],
                "components": [component_view(r) for r in mine],
                "status": test["status"],
                "resulted_at": test.get("resulted_at"),
            }
        )
    audit_order(session, actor, "lab_results.read", order, tests=[r["test_code"] for r in results])
    return order, results
