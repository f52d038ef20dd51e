"""MedicationRequest (prescriptions), ServiceRequest and DiagnosticReport (one of each per
laboratory order)."""

from __future__ import annotations

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
from hms.api.fhir.search import Search
from hms.clinical import coding
from hms.laboratory import catalogue, orders, results
from hms.laboratory.models import LabOrder, LabResult
from hms.pharmacy import records as prescriptions_records
from hms.pharmacy import service as prescriptions
from hms.pharmacy.models import Prescription

MEDICATION_STATUSES = {
    "active": "active",
    "on_hold": "on-hold",
    "cancelled": "cancelled",
    "completed": "completed",
    "expired": "stopped",
}
SERVICE_STATUSES = {
    "ordered": "active",
    "collected": "active",
    "in_progress": "active",
    "completed": "completed",
    "cancelled": "revoked",
}
REPORT_STATUSES = {
    "ordered": "registered",
    "collected": "registered",
    "in_progress": "partial",
    "completed": "final",
    "cancelled": "cancelled",
}
LABORATORY_PROCEDURE = s.coding("http://snomed.info/sct", "108252007", "Laboratory procedure")


def _statuses(search: Search, mapping: dict[str, str]) -> list[str] | None:
    asked = search.strings("status")
    if asked is None:
        return None
    return [ours for ours, theirs in mapping.items() if theirs in asked]


def _diagnoses(codes: list[str]) -> list[dict[str, Any]]:
    return [s.concept(s.coding(s.ICD10CM, code, coding.describe(code))) for code in codes]


def medication_request(rx: Prescription) -> Resource:
    medication = rx.medication
    dosage = rx.dosage
    label = " ".join(
        str(medication.get(k)) for k in ("name", "strength", "form") if medication.get(k)
    )
    ndc = medication.get("ndc")
    amount = dosage.get("amount")
    return s.pruned(
        {
            "resourceType": "MedicationRequest",
            "id": str(rx.id),
            "meta": s.meta(rx.updated_at, "us-core-medicationrequest"),
            "identifier": [{"system": s.PRESCRIPTION_NUMBER, "value": rx.prescription_number}],
            "status": MEDICATION_STATUSES[prescriptions_records.current_status(rx)],
            "intent": "order",
            "medicationCodeableConcept": s.concept(
                *([s.coding(s.NDC, ndc, medication.get("name"))] if ndc else []), text=label
            ),
            "subject": s.reference("Patient", rx.patient_id),
            "authoredOn": s.instant(rx.date_written),
            "requester": s.reference("Practitioner", rx.provider_id),
            "reasonCode": _diagnoses(rx.diagnosis_codes),
            "dosageInstruction": [
                {
                    "text": dosage.get("instructions")
                    or " ".join(
                        str(dosage.get(k)) for k in ("amount", "unit", "frequency") if dosage.get(k)
                    ),
                    "timing": {"code": s.concept(text=dosage.get("frequency"))},
                    "doseAndRate": [{"doseQuantity": {"value": amount, "unit": dosage.get("unit")}}]
                    if amount is not None
                    else [],
                }
            ],
            "dispenseRequest": {
                "numberOfRepeatsAllowed": rx.refills_authorized,
                "validityPeriod": {
                    "start": s.instant(rx.date_written),
                    "end": s.instant(rx.expires_at),
                },
            },
            "substitution": {"allowedBoolean": rx.substitutions == "allowed"},
            "note": [{"text": rx.notes}] if rx.notes else [],
        }
    )


def _test_coding(test: dict[str, Any]) -> dict[str, Any]:
    known = catalogue.find(test["test_code"])
    if known is not None and known.loinc:
        return s.concept(s.coding(s.LOINC, known.loinc, known.name), text=test["test_name"])
    return s.concept(text=test["test_name"])


def service_request(order: LabOrder) -> Resource:
    return s.pruned(
        {
            "resourceType": "ServiceRequest",
            "id": str(order.id),
            "meta": s.meta(order.updated_at, "us-core-servicerequest"),
            "identifier": [{"system": s.LAB_ORDER_NUMBER, "value": order.order_number}],
            "status": SERVICE_STATUSES[order.status],
            "intent": "order",
            "category": [s.concept(LABORATORY_PROCEDURE)],
            "priority": order.priority,
            "code": s.concept(text=", ".join(t["test_name"] for t in order.tests)),
            "orderDetail": [_test_coding(t) for t in order.tests],
            "subject": s.reference("Patient", order.patient_id),
            "occurrenceDateTime": s.instant(order.collection_date),
            "authoredOn": s.instant(order.ordered_at),
            "requester": s.reference("Practitioner", order.provider_id),
            "reasonCode": _diagnoses(order.diagnoses),
            "note": [{"text": text} for text in (order.clinical_information, order.notes) if text],
        }
    )


def diagnostic_report(order: LabOrder, rows: list[LabResult]) -> Resource:
    single = order.tests[0] if len(order.tests) == 1 else None
    return s.pruned(
        {
            "resourceType": "DiagnosticReport",
            "id": str(order.id),
            "meta": s.meta(order.updated_at, "us-core-diagnosticreport-lab"),
            "identifier": [{"system": s.LAB_ORDER_NUMBER, "value": order.order_number}],
            "basedOn": [s.reference("ServiceRequest", order.id)],
            "status": REPORT_STATUSES[order.status],
            "category": [s.concept(s.coding(s.DIAGNOSTIC_SERVICE, "LAB", "Laboratory"))],
            "code": _test_coding(single)
            if single
            else s.concept(text=", ".join(t["test_name"] for t in order.tests)),
            "subject": s.reference("Patient", order.patient_id),
            "effectiveDateTime": s.instant(order.ordered_at),
            "issued": s.instant(order.completed_at or order.updated_at),
            "resultsInterpreter": [s.reference("Practitioner", order.pathologist_id)]
            if order.pathologist_id
            else [],
            "result": [s.reference("Observation", row.id) for row in rows],
            "conclusion": order.result_notes,
        }
    )


async def read_medication_request(ctx: Context, id_: str) -> Resource:
    found = await prescriptions.get_prescription(ctx.session, actor=ctx.actor, ref=id_)
    return medication_request(found)


async def search_medication_requests(ctx: Context, search: Search) -> tuple[list[Resource], int]:
    found, total = await prescriptions.list_prescriptions(
        ctx.session,
        actor=ctx.actor,
        limit=search.count,
        offset=search.offset,
        ids=search.uuids("_id"),
        patient_ids=patient_ids(search),
        statuses=_statuses(search, MEDICATION_STATUSES),
        dates=search.dates("authoredon"),
    )
    return [medication_request(rx) for rx in found], total


async def _orders(ctx: Context, search: Search, mapping: dict[str, str], date: str) -> Any:
    return await orders.list_orders(
        ctx.session,
        actor=ctx.actor,
        limit=search.count,
        offset=search.offset,
        ids=search.uuids("_id"),
        patient_ids=patient_ids(search),
        statuses=_statuses(search, mapping),
        dates=search.dates(date),
    )


async def read_service_request(ctx: Context, id_: str) -> Resource:
    return service_request(await orders.get_order(ctx.session, actor=ctx.actor, ref=id_))


async def search_service_requests(ctx: Context, search: Search) -> tuple[list[Resource], int]:
    found, total = await _orders(ctx, search, SERVICE_STATUSES, "authored")
    return [service_request(o) for o in found], total


async def diagnostic_reports(ctx: Context, found: list[LabOrder]) -> list[Resource]:
    rows = await results.results_of_orders(
        ctx.session, actor=ctx.actor, order_ids=[o.id for o in found]
    )
    return [diagnostic_report(o, rows[o.id]) for o in found]


async def read_diagnostic_report(ctx: Context, id_: str) -> Resource:
    order = await orders.get_order(ctx.session, actor=ctx.actor, ref=id_)
    return (await diagnostic_reports(ctx, [order]))[0]


async def search_diagnostic_reports(ctx: Context, search: Search) -> tuple[list[Resource], int]:
    found, total = await _orders(ctx, search, REPORT_STATUSES, "date")
    return await diagnostic_reports(ctx, found), total


def _status_param(values: dict[str, str]) -> SearchParam:
    return SearchParam("status", "token", ", ".join(sorted(set(values.values()))))


MEDICATION_REQUEST_TYPE = ResourceType(
    "MedicationRequest",
    read_medication_request,
    search_medication_requests,
    (
        ID,
        PATIENT,
        SUBJECT,
        _status_param(MEDICATION_STATUSES),
        SearchParam("authoredon", "date", "When it was written, with prefixes"),
    ),
    "us-core-medicationrequest",
    "Prescriptions; the medication coded by NDC where the prescriber gave one",
)
SERVICE_REQUEST_TYPE = ResourceType(
    "ServiceRequest",
    read_service_request,
    search_service_requests,
    (
        ID,
        PATIENT,
        SUBJECT,
        _status_param(SERVICE_STATUSES),
        SearchParam("authored", "date", "When it was ordered, with prefixes"),
    ),
    "us-core-servicerequest",
    "Laboratory orders, one ServiceRequest each (its tests in orderDetail, LOINC coded)",
)
DIAGNOSTIC_REPORT_TYPE = ResourceType(
    "DiagnosticReport",
    read_diagnostic_report,
    search_diagnostic_reports,
    (
        ID,
        PATIENT,
        SUBJECT,
        _status_param(REPORT_STATUSES),
        SearchParam("date", "date", "When it was ordered, with prefixes"),
    ),
    "us-core-diagnosticreport-lab",
    "Laboratory orders, one report each, their results as Observations",
)
