"""Laboratory: orders, specimen collection, results entry and results read back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from hms.api.deps import ActorDep, PageDep, SessionDep
from hms.api.idempotency import IdempotencyDep
from hms.api.openapi import error_responses
from hms.api.responses import etag, href, json_response, list_body
from hms.laboratory import orders, results
from hms.laboratory.models import LabOrder
from hms.laboratory.schemas import (
    CancelRequest,
    CollectRequest,
    LabOrderCreate,
    LabOrderRead,
    OrderStatus,
    ResultsEntry,
    ResultsRead,
)
from hms.schemas import ListLinks

router = APIRouter(tags=["laboratory"])

ORDERS = "/laboratory/orders"
OrderRef = Annotated[str, "The order's UUID or its number (LAB20240001)"]
PatientQuery = Annotated[
    str | None, Query(max_length=64, description="The patient's UUID or number (P20240001)")
]
StatusQuery = Annotated[OrderStatus | None, Query(description="Only orders in this status")]


class LabOrderList(BaseModel):
    orders: list[LabOrderRead]
    total: int
    limit: int
    offset: int
    links: ListLinks = Field(serialization_alias="_links")


def order_read(request: Request, order: LabOrder) -> LabOrderRead:
    path = f"{ORDERS}/{order.id}"
    fields = {name: getattr(order, name) for name in LabOrderRead.model_fields if name != "links"}
    return LabOrderRead.model_validate(
        fields
        | {
            "links": {
                "self_": href(request, path),
                "patient": href(request, f"/patients/{order.patient_id}"),
                "provider": href(request, f"/providers/{order.provider_id}"),
                "results": href(request, f"{path}/results"),
            }
        }
    )


def _resource(request: Request, order: LabOrder, status: int = 200) -> Response:
    headers = {"ETag": etag(order.version)}
    if status == 201:
        headers["Location"] = href(request, f"{ORDERS}/{order.id}")["href"]
    return json_response(order_read(request, order), status=status, headers=headers)


async def _results(request: Request, session: SessionDep, actor: ActorDep, ref: str) -> Response:
    order, found = await results.read_results(session, actor=actor, ref=ref)
    resulted = [c["resulted_at"] for r in found for c in r["components"]]
    body = ResultsRead.model_validate(
        {
            "order_id": order.id,
            "order_number": order.order_number,
            "patient_id": order.patient_id,
            "results": found,
            "status": order.status,
            "completed_at": order.completed_at,
            "pathologist_id": order.pathologist_id,
            "notes": order.result_notes,
            "created_at": min(resulted) if resulted else order.created_at,
            "updated_at": max(resulted) if resulted else order.updated_at,
        }
    )
    return json_response(body, headers={"ETag": etag(order.version)})


@router.post(ORDERS, status_code=201, response_model=LabOrderRead)
async def create_order(
    request: Request,
    body: LabOrderCreate,
    session: SessionDep,
    actor: ActorDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Order laboratory tests (doctors and nurses). `provider_id` defaults to the signed-in
    clinician; test codes come from the catalogue (CMP, BMP, CBC, LIP, HBA1C, TSH, UA, PTINR);
    diagnoses are ICD-10-CM codes. Send `Idempotency-Key` to make retries safe."""
    if replay := await idempotency.replay():
        return replay
    order = await orders.create_order(session, actor=actor, data=body)
    response = _resource(request, order, status=201)
    await idempotency.save(response)
    return response


@router.get(ORDERS, response_model=LabOrderList, responses=error_responses(404))
async def list_orders(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    patient_id: PatientQuery = None,
    status: StatusQuery = None,
) -> Response:
    """Orders, newest first, of one patient when `patient_id` is given. A patient user sees
    only its own."""
    found, total = await orders.list_orders(
        session,
        actor=actor,
        limit=page.limit,
        offset=page.offset,
        patient_ref=patient_id,
        status=status,
    )
    items = [order_read(request, o).model_dump(mode="json", by_alias=True) for o in found]
    return json_response(
        list_body(request, "orders", items, total=total, limit=page.limit, offset=page.offset)
    )


@router.get(f"{ORDERS}/{{order_id}}", response_model=LabOrderRead)
async def get_order(
    request: Request, order_id: OrderRef, session: SessionDep, actor: ActorDep
) -> Response:
    """One order, by UUID or number, with each test's status."""
    order = await orders.get_order(session, actor=actor, ref=order_id)
    return _resource(request, order)


@router.post(
    f"{ORDERS}/{{order_id}}/collect", response_model=LabOrderRead, responses=error_responses(412)
)
async def collect_specimens(
    request: Request,
    order_id: OrderRef,
    session: SessionDep,
    actor: ActorDep,
    body: CollectRequest | None = None,
) -> Response:
    """Record specimen collection (laboratory staff): the `test_codes` named, or every test
    still waiting; `collected_at` defaults to now."""
    order = await orders.collect(session, actor=actor, ref=order_id, data=body or CollectRequest())
    return _resource(request, order)


@router.post(f"{ORDERS}/{{order_id}}/cancel", response_model=LabOrderRead)
async def cancel_order(
    request: Request,
    order_id: OrderRef,
    session: SessionDep,
    actor: ActorDep,
    body: CancelRequest | None = None,
) -> Response:
    """Cancel an order that is not completed, with an optional `reason`. Repeating it changes
    nothing."""
    order = await orders.cancel(
        session, actor=actor, ref=order_id, reason=body.reason if body else None
    )
    return _resource(request, order)


@router.post(
    f"{ORDERS}/{{order_id}}/results", response_model=ResultsRead, responses=error_responses(412)
)
async def enter_results(
    request: Request, order_id: OrderRef, body: ResultsEntry, session: SessionDep, actor: ActorDep
) -> Response:
    """Enter results (laboratory staff), per test `final` (default) or `preliminary`. Flags are
    computed from the catalogue's reference range (or the one sent where the catalogue has
    none): `L`, `H`, `LL`/`HH` beyond critical limits, `A` for an unexpected qualitative
    result. Entering a released value again is a correction: status `corrected`, the earlier
    value kept in `previous`. A cancelled order is a 409; a test not on the order a 422."""
    await results.enter_results(session, actor=actor, ref=order_id, data=body)
    return await _results(request, session, actor, order_id)


@router.get(f"{ORDERS}/{{order_id}}/results", response_model=ResultsRead)
async def get_results(
    request: Request, order_id: OrderRef, session: SessionDep, actor: ActorDep
) -> Response:
    """The order's results in the API document's shape. A patient user sees its own results
    once final (not preliminary ones)."""
    return await _results(request, session, actor, order_id)
