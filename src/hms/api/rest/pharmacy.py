"""Pharmacy: prescriptions (write, read, list, status), dispensing, and the drug-interaction
and allergy check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from hms.api.deps import ActorDep, Page, PageDep, SessionDep
from hms.api.idempotency import IdempotencyDep
from hms.api.openapi import error_responses
from hms.api.responses import etag, expected_version, href, json_response, list_body
from hms.db import utcnow
from hms.pharmacy import checking, dispensing, records, service
from hms.pharmacy.models import Prescription, PrescriptionFill
from hms.pharmacy.schemas import (
    DispenseRequest,
    FillRead,
    InteractionCheckRead,
    InteractionCheckRequest,
    PrescriptionCreate,
    PrescriptionRead,
    PrescriptionStatus,
    PrescriptionUpdate,
)
from hms.schemas import ListLinks

router = APIRouter(tags=["pharmacy"])

PRESCRIPTIONS = "/pharmacy/prescriptions"
PatientQuery = Annotated[
    str | None, Query(max_length=64, description="The patient's UUID or number (P20240001)")
]
StatusQuery = Annotated[
    PrescriptionStatus | None, Query(description="Only prescriptions in this status")
]


class PrescriptionList(BaseModel):
    prescriptions: list[PrescriptionRead]
    total: int
    limit: int
    offset: int
    links: ListLinks = Field(serialization_alias="_links")


class FillList(BaseModel):
    fills: list[FillRead]
    total: int
    limit: int
    offset: int
    links: ListLinks = Field(serialization_alias="_links")


class DispenseRead(FillRead):
    prescription: PrescriptionRead


def prescription_read(request: Request, rx: Prescription) -> PrescriptionRead:
    path = f"{PRESCRIPTIONS}/{rx.id}"
    names = set(PrescriptionRead.model_fields) - {"refills", "status", "links"}
    return PrescriptionRead.model_validate(
        {
            **{name: getattr(rx, name) for name in names},
            "status": records.current_status(rx),
            "refills": {"authorized": rx.refills_authorized, "remaining": rx.refills_remaining},
            "links": {
                "self_": href(request, path),
                "patient": href(request, f"/patients/{rx.patient_id}"),
                "provider": href(request, f"/providers/{rx.provider_id}"),
                "fills": href(request, f"{path}/fills"),
            },
        }
    )


def fill_fields(fill: PrescriptionFill) -> dict[str, Any]:
    names = set(FillRead.model_fields) - {"dispensed_by"}
    return {
        **{name: getattr(fill, name) for name in names},
        "dispensed_by": {
            "user_id": fill.dispensed_by_user_id,
            "username": fill.dispensed_by_username,
        },
    }


def _resource(request: Request, rx: Prescription, status: int = 200) -> Response:
    headers = {"ETag": etag(rx.version)}
    if status == 201:
        headers["Location"] = href(request, f"{PRESCRIPTIONS}/{rx.id}")["href"]
    return json_response(prescription_read(request, rx), status=status, headers=headers)


def _list(request: Request, found: list[Prescription], total: int, page: Page) -> Response:
    items = [prescription_read(request, rx).model_dump(mode="json", by_alias=True) for rx in found]
    return json_response(
        list_body(
            request, "prescriptions", items, total=total, limit=page.limit, offset=page.offset
        )
    )


@router.post(
    PRESCRIPTIONS, status_code=201, response_model=PrescriptionRead, responses=error_responses(404)
)
async def create_prescription(
    request: Request,
    body: PrescriptionCreate,
    session: SessionDep,
    actor: ActorDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Write and sign a prescription (doctors). `provider_id` defaults to the signed-in doctor,
    who is the prescriber. The medication is checked against the patient's current medications,
    active prescriptions and allergies; the findings come back in `alerts`, and a contraindicated
    combination or an allergy to the drug or its class is a 422 unless `override_reason` says
    why (audited). A controlled substance (`controlled_substance: true`) needs the prescriber's
    DEA number on record, a `schedule` (II-V; Schedule II has no refills) and `mfa_code`, a
    current code from the prescriber's authenticator. Send `Idempotency-Key` to make retries
    safe."""
    if replay := await idempotency.replay():
        return replay
    rx = await service.create_prescription(session, actor=actor, data=body)
    response = _resource(request, rx, status=201)
    await idempotency.save(response)
    return response


@router.get(PRESCRIPTIONS, response_model=PrescriptionList, responses=error_responses(404))
async def list_prescriptions(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    patient_id: PatientQuery = None,
    status: StatusQuery = None,
) -> Response:
    """Prescriptions, newest first, of one patient when `patient_id` is given. A patient user
    sees only its own."""
    found, total = await service.list_prescriptions(
        session,
        actor=actor,
        limit=page.limit,
        offset=page.offset,
        patient_ref=patient_id,
        status=status,
    )
    return _list(request, found, total, page)


@router.get(f"{PRESCRIPTIONS}/{{prescription_id}}", response_model=PrescriptionRead)
async def get_prescription(
    request: Request, prescription_id: str, session: SessionDep, actor: ActorDep
) -> Response:
    """One prescription, by UUID or number (RX20240001). The `ETag` goes into `If-Match`."""
    rx = await service.get_prescription(session, actor=actor, ref=prescription_id)
    return _resource(request, rx)


@router.put(f"{PRESCRIPTIONS}/{{prescription_id}}", response_model=PrescriptionRead)
async def update_prescription(
    request: Request,
    prescription_id: str,
    body: PrescriptionUpdate,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    """Change a prescription's `status`: active <-> on_hold, and to cancelled (prescribers
    only), completed or expired, which are final. A signed prescription's clinical content
    never changes: sending another value is a 409 (cancel it and write a new one). With
    `If-Match`, a stale ETag gets 412."""
    rx = await service.update_prescription(
        session,
        actor=actor,
        ref=prescription_id,
        data=body,
        expected_version=expected_version(request),
    )
    return _resource(request, rx)


@router.post(
    f"{PRESCRIPTIONS}/{{prescription_id}}/dispense", status_code=201, response_model=DispenseRead
)
async def dispense_prescription(
    request: Request,
    prescription_id: str,
    session: SessionDep,
    actor: ActorDep,
    idempotency: IdempotencyDep,
    body: DispenseRequest | None = None,
) -> Response:
    """Record a fill (pharmacists). The first fill uses no refill; each later one uses one, so a
    prescription with 3 refills is filled four times and is then `completed`. A prescription
    that is on hold, cancelled, expired or fully dispensed answers 409, also when pharmacists
    race for the last fill. Send `Idempotency-Key`: a retried request is never a second fill."""
    if replay := await idempotency.replay():
        return replay
    rx, fill = await dispensing.dispense(
        session, actor=actor, ref=prescription_id, data=body or DispenseRequest()
    )
    read = DispenseRead.model_validate(
        {**fill_fields(fill), "prescription": prescription_read(request, rx)}
    )
    response = json_response(read, status=201, headers={"ETag": etag(rx.version)})
    await idempotency.save(response)
    return response


@router.get(f"{PRESCRIPTIONS}/{{prescription_id}}/fills", response_model=FillList)
async def list_fills(
    request: Request, prescription_id: str, session: SessionDep, actor: ActorDep, page: PageDep
) -> Response:
    """The fills of a prescription, first fill first: who dispensed what and when."""
    _, fills, total = await dispensing.list_fills(
        session, actor=actor, ref=prescription_id, limit=page.limit, offset=page.offset
    )
    items = [FillRead.model_validate(fill_fields(f)).model_dump(mode="json") for f in fills]
    return json_response(
        list_body(request, "fills", items, total=total, limit=page.limit, offset=page.offset)
    )


@router.post(
    "/pharmacy/drug-interactions",
    response_model=InteractionCheckRead,
    responses=error_responses(404),
)
async def check_drug_interactions(
    body: InteractionCheckRequest, session: SessionDep, actor: ActorDep
) -> Response:
    """Check medications for interactions and allergy conflicts. With `patient_id`, the
    patient's current medications and active prescriptions join the check and every recorded
    allergy is listed with `conflicts_with`, the medications that hit it (class
    cross-reactivity included). Names are matched as generics, brands and drug classes through
    the knowledge base shipped with HMS (sources cited in each entry's `references`); a name it
    does not know is listed in `unchecked`, never reported as safe."""
    result, covered = await checking.check_interactions(session, actor=actor, data=body)
    read = InteractionCheckRead.model_validate(
        {
            "interactions": result.interactions,
            "allergies": result.allergies,
            "unchecked": result.unchecked,
            "medications": covered,
            "checked_at": utcnow(),
        }
    )
    return json_response(read)
