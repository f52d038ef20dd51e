"""ChargeItem (charges, CPT/HCPCS coded) and Claim (claims of a patient's charges)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hms.api.fhir import systems as s
from hms.api.fhir.clinical import patient_ids
from hms.api.fhir.interactions import (
    ID,
    PATIENT,
    SUBJECT,
    Context,
    Resource,
    ResourceType,
    SearchParam,
)
from hms.api.fhir.search import Search, as_uuid
from hms.billing import charges, claims
from hms.billing.charges import ChargeFilter
from hms.billing.claims import ClaimFilter
from hms.billing.models import Charge, Claim
from hms.clinical import coding

CHARGE_STATUSES = {
    "pending": "billable",
    "billed": "billed",
    "paid": "billed",
    "voided": "aborted",
}
CURRENCY = "USD"


def money(value: Decimal | None) -> dict[str, Any] | None:
    # FHIR writes decimals as JSON numbers; cents survive the float for any amount we store.
    return None if value is None else {"value": float(value), "currency": CURRENCY}


def _diagnoses(codes: list[str]) -> list[dict[str, Any]]:
    return [s.concept(s.coding(s.ICD10CM, code, coding.describe(code))) for code in codes]


def charge_item(charge: Charge) -> Resource:
    return s.pruned(
        {
            "resourceType": "ChargeItem",
            "id": str(charge.id),
            "meta": s.meta(charge.updated_at),
            "identifier": [{"system": s.CHARGE_NUMBER, "value": charge.charge_number}],
            "status": CHARGE_STATUSES[charge.status],
            "code": s.concept(s.coding(s.CPT, charge.charge_code), text=charge.description),
            "subject": s.reference("Patient", charge.patient_id),
            "context": s.reference("Encounter", charge.encounter_id),
            "occurrenceDateTime": s.instant(charge.charge_date),
            "performer": [{"actor": s.reference("Practitioner", charge.billing_provider_id)}],
            "quantity": {"value": charge.quantity},
            "priceOverride": money(charge.total_amount),
            "enteredDate": s.instant(charge.created_at),
            "reason": _diagnoses(charge.diagnosis_codes),
            "note": [{"text": text} for text in (charge.notes, charge.void_reason) if text],
        }
    )


def claim_resource(claim: Claim, items: list[Charge]) -> Resource:
    provider = items[0].billing_provider_id if items else None
    return s.pruned(
        {
            "resourceType": "Claim",
            "id": str(claim.id),
            "meta": s.meta(claim.updated_at),
            "identifier": [{"system": s.CLAIM_NUMBER, "value": claim.claim_number}],
            "status": "active",
            "type": s.concept(s.coding(s.CLAIM_TYPE, "professional", "Professional")),
            "use": "claim",
            "patient": s.reference("Patient", claim.patient_id),
            "created": s.instant(claim.submitted_at),
            "provider": s.reference("Practitioner", provider) or {"display": "HMS"},
            "priority": s.concept(s.coding(s.PROCESS_PRIORITY, "normal", "Normal")),
            "related": [{"claim": s.reference("Claim", claim.resubmission_of)}]
            if claim.resubmission_of
            else [],
            "insurance": [
                {
                    "sequence": 1,
                    "focal": True,
                    "coverage": {"display": claim.insurance_provider},
                    "identifier": {"value": claim.policy_number},
                }
            ],
            "diagnosis": [
                {"sequence": i + 1, "diagnosisCodeableConcept": concept}
                for i, concept in enumerate(_diagnoses(claim.diagnoses))
            ],
            "item": [
                {
                    "sequence": i + 1,
                    "productOrService": s.concept(
                        s.coding(s.CPT, c.charge_code), text=c.description
                    ),
                    "servicedDate": c.charge_date.date().isoformat(),
                    "quantity": {"value": c.quantity},
                    "unitPrice": money(c.unit_price),
                    "net": money(c.total_amount),
                }
                for i, c in enumerate(items)
            ],
            "total": money(claim.total_amount),
        }
    )


async def read_charge_item(ctx: Context, id_: str) -> Resource:
    return charge_item(await charges.get_charge(ctx.session, actor=ctx.actor, ref=id_))


async def search_charge_items(ctx: Context, search: Search) -> tuple[list[Resource], int]:
    filters = ChargeFilter(
        ids=search.uuids("_id"),
        patient_ids=patient_ids(search),
        dates=search.dates("occurrence"),
    )
    found, total = await charges.list_charges(
        ctx.session, actor=ctx.actor, filters=filters, limit=search.count, offset=search.offset
    )
    return [charge_item(c) for c in found], total


async def claim_resources(ctx: Context, found: list[Claim]) -> list[Resource]:
    wanted = [u for claim in found for i in claim.charge_ids if (u := as_uuid(i)) is not None]
    items, _ = await charges.list_charges(
        ctx.session, actor=ctx.actor, filters=ChargeFilter(ids=wanted), limit=None, offset=0
    )
    by_id = {str(c.id): c for c in items}
    return [
        claim_resource(claim, [by_id[i] for i in claim.charge_ids if i in by_id]) for claim in found
    ]


async def read_claim(ctx: Context, id_: str) -> Resource:
    claim = await claims.get_claim(ctx.session, actor=ctx.actor, ref=id_)
    return (await claim_resources(ctx, [claim]))[0]


async def search_claims(ctx: Context, search: Search) -> tuple[list[Resource], int]:
    filters = ClaimFilter(
        ids=search.uuids("_id"),
        patient_ids=patient_ids(search),
        dates=search.dates("created"),
    )
    found, total = await claims.list_claims(
        ctx.session, actor=ctx.actor, filters=filters, limit=search.count, offset=search.offset
    )
    return await claim_resources(ctx, found), total


CHARGE_ITEM_TYPE = ResourceType(
    "ChargeItem",
    read_charge_item,
    search_charge_items,
    (
        ID,
        PATIENT,
        SUBJECT,
        SearchParam("occurrence", "date", "The charge's date, with prefixes"),
    ),
    documentation="Charges, coded by CPT or HCPCS Level II; priceOverride is the total",
)
CLAIM_TYPE = ResourceType(
    "Claim",
    read_claim,
    search_claims,
    (ID, PATIENT, SearchParam("created", "date", "When it was submitted, with prefixes")),
    documentation="Claims to the patient's insurer, with their charges as items",
)
