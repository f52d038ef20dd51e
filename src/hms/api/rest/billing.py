"""Billing: charges, insurance claims and their lifecycle, patients' coverage, balance and
payments. Amounts are exact and answered as JSON numbers with two decimals (`100.00`)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from hms.api.deps import ActorDep, Page, PageDep, SessionDep
from hms.api.idempotency import IdempotencyDep
from hms.api.openapi import error_responses
from hms.api.responses import etag, expected_version, href, list_body
from hms.billing import accounts, charges, claims, coverage
from hms.billing.models import Charge, Claim, Coverage, Payment
from hms.billing.money import json_bytes
from hms.billing.records import charge_summary, claim_summary
from hms.billing.schemas import (
    BalanceRead,
    ChargeCreate,
    ChargeRead,
    ChargeStatus,
    ChargeUpdate,
    ClaimCreate,
    ClaimPayment,
    ClaimRead,
    ClaimStatus,
    CoverageRead,
    CoverageUpdate,
    PaymentCreate,
    PaymentRead,
    RejectRequest,
    VoidRequest,
)
from hms.schemas import ListLinks

router = APIRouter(tags=["billing"])

CHARGES = "/billing/charges"
CLAIMS = "/billing/claims"
PatientQuery = Annotated[
    str | None, Query(max_length=64, description="The patient's UUID or number (P20240001)")
]
# Status moves honour If-Match like PUT does; a patient named in a body may be out of reach.
MOVE_ERRORS = error_responses(412)
CREATE_ERRORS = error_responses(404)


class ChargeList(BaseModel):
    charges: list[ChargeRead]
    total: int
    limit: int
    offset: int
    links: ListLinks = Field(serialization_alias="_links")


class ClaimList(BaseModel):
    claims: list[ClaimRead]
    total: int
    limit: int
    offset: int
    links: ListLinks = Field(serialization_alias="_links")


def _response(
    body: BaseModel | dict[str, Any],
    *,
    status: int = 200,
    version: int | None = None,
    location: str | None = None,
) -> Response:
    headers = {}
    if version is not None:
        headers["ETag"] = etag(version)
    if location is not None:
        headers["Location"] = location
    return Response(
        json_bytes(body), status_code=status, media_type="application/json", headers=headers
    )


def charge_read(request: Request, charge: Charge) -> ChargeRead:
    links: dict[str, Any] = {
        "self_": href(request, f"{CHARGES}/{charge.id}"),
        "patient": href(request, f"/patients/{charge.patient_id}"),
        "billing_provider": href(request, f"/providers/{charge.billing_provider_id}"),
    }
    if charge.encounter_id:
        links["encounter"] = href(request, f"/clinical/encounters/{charge.encounter_id}")
    return ChargeRead.model_validate({**charge_summary(charge).model_dump(), "links": links})


def claim_read(request: Request, claim: Claim) -> ClaimRead:
    links: dict[str, Any] = {
        "self_": href(request, f"{CLAIMS}/{claim.id}"),
        "patient": href(request, f"/patients/{claim.patient_id}"),
        "charges": [href(request, f"{CHARGES}/{i}") for i in claim.charge_ids],
    }
    if claim.resubmission_of:
        links["resubmission_of"] = href(request, f"{CLAIMS}/{claim.resubmission_of}")
    return ClaimRead.model_validate({**claim_summary(claim).model_dump(), "links": links})


def _charge(request: Request, charge: Charge, status: int = 200) -> Response:
    body = charge_read(request, charge)
    location = body.links.self_.href if status == 201 else None
    return _response(body, status=status, version=charge.version, location=location)


def _claim(request: Request, claim: Claim, status: int = 200) -> Response:
    body = claim_read(request, claim)
    location = body.links.self_.href if status == 201 else None
    return _response(body, status=status, version=claim.version, location=location)


def _list(
    request: Request, plural: str, items: list[BaseModel], total: int, page: Page
) -> Response:
    dumped = [item.model_dump(by_alias=True) for item in items]
    return _response(
        list_body(request, plural, dumped, total=total, limit=page.limit, offset=page.offset)
    )


@router.post(CHARGES, status_code=201, response_model=ChargeRead, responses=CREATE_ERRORS)
async def create_charge(
    request: Request,
    body: ChargeCreate,
    session: SessionDep,
    actor: ActorDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Record a charge (billing staff). Amounts are numbers or strings with at most two
    decimals; `total_amount` must be `quantity` x `unit_price` and `insurance_amount` +
    `patient_amount` the total (422 otherwise; absent ones are derived). `charge_code` is a CPT
    or HCPCS Level II code, `diagnosis_codes` ICD-10-CM. `billing_provider_id` defaults to the
    encounter's provider. Send `Idempotency-Key` to make retries safe."""
    if replay := await idempotency.replay():
        return replay
    charge = await charges.create_charge(session, actor=actor, data=body)
    response = _charge(request, charge, status=201)
    await idempotency.save(response)
    return response


@router.get(CHARGES, response_model=ChargeList)
async def list_charges(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    patient_id: PatientQuery = None,
    encounter_id: uuid.UUID | None = None,
    status: ChargeStatus | None = None,
) -> Response:
    """Charges, newest first, filtered by patient, encounter and status. A patient user sees
    only its own."""
    filters = charges.ChargeFilter(patient=patient_id, encounter_id=encounter_id, status=status)
    found, total = await charges.list_charges(
        session, actor=actor, filters=filters, limit=page.limit, offset=page.offset
    )
    return _list(request, "charges", [charge_read(request, c) for c in found], total, page)


@router.get(f"{CHARGES}/{{charge_id}}", response_model=ChargeRead)
async def get_charge(
    request: Request, charge_id: str, session: SessionDep, actor: ActorDep
) -> Response:
    """One charge, by UUID or number (CHG20240001)."""
    return _charge(request, await charges.get_charge(session, actor=actor, ref=charge_id))


@router.put(f"{CHARGES}/{{charge_id}}", response_model=ChargeRead)
async def update_charge(
    request: Request, charge_id: str, body: ChargeUpdate, session: SessionDep, actor: ActorDep
) -> Response:
    """Correct a pending charge (409 once billed, paid or voided); only the fields sent change.
    Changing `quantity` or `unit_price` alone recomputes the total and the patient's part. With
    `If-Match`, a stale ETag gets 412."""
    charge = await charges.update_charge(
        session, actor=actor, ref=charge_id, data=body, expected_version=expected_version(request)
    )
    return _charge(request, charge)


@router.post(f"{CHARGES}/{{charge_id}}/void", response_model=ChargeRead, responses=MOVE_ERRORS)
async def void_charge(
    request: Request,
    charge_id: str,
    session: SessionDep,
    actor: ActorDep,
    body: VoidRequest | None = None,
) -> Response:
    """Void a pending charge (charges are never erased), with an optional `reason`."""
    charge = await charges.void_charge(
        session,
        actor=actor,
        ref=charge_id,
        reason=body.reason if body else None,
        expected_version=expected_version(request),
    )
    return _charge(request, charge)


@router.post(CLAIMS, status_code=201, response_model=ClaimRead, responses=CREATE_ERRORS)
async def submit_claim(
    request: Request,
    body: ClaimCreate,
    session: SessionDep,
    actor: ActorDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Submit a claim for pending charges of one patient; they become `billed`. A charge already
    on a live claim is a 409, also when submissions race. `total_amount` and
    `patient_responsibility` must match the charges (422); payer, policy and group default to
    the patient's coverage, `diagnoses` to the charges' codes."""
    if replay := await idempotency.replay():
        return replay
    claim = await claims.submit_claim(session, actor=actor, data=body)
    response = _claim(request, claim, status=201)
    await idempotency.save(response)
    return response


@router.get(CLAIMS, response_model=ClaimList)
async def list_claims(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    patient_id: PatientQuery = None,
    status: ClaimStatus | None = None,
) -> Response:
    """Claims, newest first, filtered by patient and status. A patient user sees its own."""
    filters = claims.ClaimFilter(patient=patient_id, status=status)
    found, total = await claims.list_claims(
        session, actor=actor, filters=filters, limit=page.limit, offset=page.offset
    )
    return _list(request, "claims", [claim_read(request, c) for c in found], total, page)


@router.get(f"{CLAIMS}/{{claim_id}}", response_model=ClaimRead)
async def get_claim(
    request: Request, claim_id: str, session: SessionDep, actor: ActorDep
) -> Response:
    """One claim, by UUID or number (CLM20240001)."""
    return _claim(request, await claims.get_claim(session, actor=actor, ref=claim_id))


@router.post(f"{CLAIMS}/{{claim_id}}/accept", response_model=ClaimRead, responses=MOVE_ERRORS)
async def accept_claim(
    request: Request, claim_id: str, session: SessionDep, actor: ActorDep
) -> Response:
    """The payer accepted the claim: submitted -> accepted."""
    claim = await claims.accept_claim(
        session, actor=actor, ref=claim_id, expected_version=expected_version(request)
    )
    return _claim(request, claim)


@router.post(f"{CLAIMS}/{{claim_id}}/reject", response_model=ClaimRead, responses=MOVE_ERRORS)
async def reject_claim(
    request: Request, claim_id: str, body: RejectRequest, session: SessionDep, actor: ActorDep
) -> Response:
    """The payer rejected the claim (submitted or accepted -> rejected, with `reason`); its
    charges return to pending, to be corrected and submitted again."""
    claim = await claims.reject_claim(
        session,
        actor=actor,
        ref=claim_id,
        reason=body.reason,
        expected_version=expected_version(request),
    )
    return _claim(request, claim)


@router.post(f"{CLAIMS}/{{claim_id}}/pay", response_model=ClaimRead, responses=MOVE_ERRORS)
async def pay_claim(
    request: Request, claim_id: str, body: ClaimPayment, session: SessionDep, actor: ActorDep
) -> Response:
    """Post the payer's remittance: accepted -> paid, with `insurance_paid`, `patient_paid` and
    `adjustments` (`reason_code` such as CO-45, `amount`); together at most the claim's total.
    Its charges become paid."""
    claim = await claims.pay_claim(
        session, actor=actor, ref=claim_id, data=body, expected_version=expected_version(request)
    )
    return _claim(request, claim)


@router.post(
    f"{CLAIMS}/{{claim_id}}/resubmit",
    status_code=201,
    response_model=ClaimRead,
    responses=MOVE_ERRORS,
)
async def resubmit_claim(
    request: Request, claim_id: str, session: SessionDep, actor: ActorDep
) -> Response:
    """Submit a rejected claim again: a new claim (new number) with the same charges, payer and
    diagnoses, whose `resubmission_of` names the rejected one."""
    claim = await claims.resubmit_claim(
        session, actor=actor, ref=claim_id, expected_version=expected_version(request)
    )
    return _claim(request, claim, status=201)


def coverage_read(request: Request, found: Coverage) -> CoverageRead:
    path = f"/patients/{found.patient_id}"
    fields = {name: getattr(found, name) for name in CoverageRead.model_fields if name != "links"}
    links = {"self_": href(request, f"{path}/coverage"), "patient": href(request, path)}
    return CoverageRead.model_validate({**fields, "links": links})


@router.get("/patients/{patient_id}/coverage", response_model=CoverageRead)
async def get_coverage(
    request: Request, patient_id: str, session: SessionDep, actor: ActorDep
) -> Response:
    """The patient's insurance coverage (`private`, `medicare`, `medicaid` or `self_pay`);
    404 when none is recorded."""
    found = await coverage.get_coverage(session, actor=actor, patient_ref=patient_id)
    return _response(coverage_read(request, found), version=found.version)


@router.put(
    "/patients/{patient_id}/coverage",
    response_model=CoverageRead,
    responses={201: {"model": CoverageRead, "description": "Coverage recorded for the first time"}},
)
async def set_coverage(
    request: Request, patient_id: str, body: CoverageUpdate, session: SessionDep, actor: ActorDep
) -> Response:
    """Record (201) or change (200) the patient's coverage; only the fields sent change.
    Insured coverage needs `payer` and `policy_number`; `self_pay` has neither."""
    found, created = await coverage.set_coverage(
        session,
        actor=actor,
        patient_ref=patient_id,
        data=body,
        expected_version=expected_version(request),
    )
    return _response(
        coverage_read(request, found), status=201 if created else 200, version=found.version
    )


@router.get("/billing/patients/{patient_id}/balance", response_model=BalanceRead)
async def get_balance(
    request: Request, patient_id: str, session: SessionDep, actor: ActorDep
) -> Response:
    """What the patient was charged (voided charges left out), what insurance and the patient
    paid, what was adjusted, and what is outstanding."""
    balance = await accounts.get_balance(session, actor=actor, patient_ref=patient_id)
    path = f"/patients/{balance.patient_id}"
    body = BalanceRead(
        patient_id=balance.patient_id,
        charged=balance.charged,
        insurance_paid=balance.insurance_paid,
        patient_paid=balance.patient_paid,
        adjustments=balance.adjustments,
        outstanding=balance.outstanding,
        links={
            "self_": href(request, f"/billing{path}/balance"),
            "patient": href(request, path),
        },
    )
    return _response(body)


@router.post(
    "/billing/payments", status_code=201, response_model=PaymentRead, responses=CREATE_ERRORS
)
async def record_payment(
    request: Request,
    body: PaymentCreate,
    session: SessionDep,
    actor: ActorDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Record a payment by the patient towards its balance; more than it owes is a 422."""
    if replay := await idempotency.replay():
        return replay
    payment: Payment = await accounts.record_payment(session, actor=actor, data=body)
    path = f"/patients/{payment.patient_id}"
    fields = {name: getattr(payment, name) for name in PaymentRead.model_fields if name != "links"}
    links = {"self_": href(request, f"/billing{path}/balance"), "patient": href(request, path)}
    response = _response(PaymentRead.model_validate({**fields, "links": links}), status=201)
    await idempotency.save(response)
    return response
