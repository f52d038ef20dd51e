"""Encounter and Condition: the clinical notes and their coded diagnoses."""

from __future__ import annotations

import uuid

from hms.api.fhir import systems as s
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
from hms.clinical import coding, diagnoses
from hms.clinical import service as encounters
from hms.clinical.diagnoses import CodedDiagnosis, DiagnosisKey
from hms.clinical.models import Encounter
from hms.errors import NotFound

ENCOUNTER_STATUSES = {
    "in_progress": "in-progress",
    "completed": "finished",
    "amended": "finished",
    "entered_in_error": "entered-in-error",
}
# Encounter.class from the note's type (v3 ActCode); an office visit and the like is ambulatory.
CLASSES = {
    "inpatient": ("IMP", "inpatient encounter"),
    "admission": ("IMP", "inpatient encounter"),
    "emergency": ("EMER", "emergency"),
    "telehealth": ("VR", "virtual"),
    "home_visit": ("HH", "home health"),
}
AMBULATORY = ("AMB", "ambulatory")


def encounter_resource(encounter: Encounter) -> Resource:
    code, display = CLASSES.get(encounter.encounter_type, AMBULATORY)
    return s.pruned(
        {
            "resourceType": "Encounter",
            "id": str(encounter.id),
            "meta": s.meta(encounter.updated_at, "us-core-encounter"),
            "status": ENCOUNTER_STATUSES[encounter.status],
            "class": s.coding(s.ACT_CODE, code, display),
            "type": [s.concept(text=encounter.encounter_type.replace("_", " "))],
            "subject": s.reference("Patient", encounter.patient_id),
            "participant": [{"individual": s.reference("Practitioner", encounter.provider_id)}],
            "period": {"start": s.instant(encounter.encounter_date)},
            "reasonCode": [s.concept(text=encounter.chief_complaint)],
            "diagnosis": [
                {"condition": s.reference("Condition", f"{encounter.id}-{i}"), "rank": i + 1}
                for i, _ in enumerate(encounter.diagnoses)
            ],
            "location": [{"location": {"display": encounter.location}}]
            if encounter.location
            else [],
        }
    )


def condition_resource(item: CodedDiagnosis) -> Resource:
    row = item.row
    verification = "confirmed" if row.confirmed else "provisional"
    return s.pruned(
        {
            "resourceType": "Condition",
            "id": f"{row.encounter_id}-{row.position}",
            "meta": s.meta(None, "us-core-condition-encounter-diagnosis"),
            "verificationStatus": s.concept(s.coding(s.CONDITION_VERIFICATION, verification)),
            "category": [
                s.concept(
                    s.coding(s.CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")
                )
            ],
            "code": s.concept(
                s.coding(s.ICD10CM, row.code, coding.describe(row.code)), text=row.description
            ),
            "subject": s.reference("Patient", row.patient_id),
            "encounter": s.reference("Encounter", row.encounter_id),
            "recordedDate": s.instant(row.encounter_date),
            "recorder": s.reference("Practitioner", item.provider_id),
            "note": [{"text": f"{row.type} diagnosis"}] if row.type else [],
        }
    )


def encounter_statuses(search: Search) -> list[str] | None:
    asked = search.codes("status", "http://hl7.org/fhir/encounter-status")
    if asked is None:
        return None
    return [ours for ours, theirs in ENCOUNTER_STATUSES.items() if theirs in asked]


def patient_ids(search: Search) -> list[uuid.UUID] | None:
    """`patient` and `subject` both name the patient; given together, both must match."""
    by_patient = search.references("patient", "Patient")
    by_subject = search.references("subject", "Patient")
    if by_patient is None or by_subject is None:
        return by_patient if by_subject is None else by_subject
    return [p for p in by_patient if p in by_subject]


async def read_encounter(ctx: Context, id_: str) -> Resource:
    found = await encounters.get_encounter(ctx.session, actor=ctx.actor, ref=id_)
    return encounter_resource(found)


async def search_encounters(ctx: Context, search: Search) -> tuple[list[Resource], int]:
    found, total = await encounters.list_encounters(
        ctx.session,
        actor=ctx.actor,
        limit=search.count,
        offset=search.offset,
        ids=search.uuids("_id"),
        patient_ids=patient_ids(search),
        statuses=encounter_statuses(search),
        dates=search.dates("date"),
    )
    return [encounter_resource(e) for e in found], total


def diagnosis_key(id_: str) -> DiagnosisKey | None:
    encounter_id, _, position = id_.rpartition("-")
    found = as_uuid(encounter_id)
    if found is None or not position.isdigit():
        return None
    return found, int(position)


async def read_condition(ctx: Context, id_: str) -> Resource:
    key = diagnosis_key(id_)
    if key is None:
        raise NotFound("Condition not found")
    return condition_resource(await diagnoses.get_diagnosis(ctx.session, actor=ctx.actor, key=key))


async def search_conditions(ctx: Context, search: Search) -> tuple[list[Resource], int]:
    ids = search.ids()
    found, total = await diagnoses.list_diagnoses(
        ctx.session,
        actor=ctx.actor,
        limit=search.count,
        offset=search.offset,
        keys=None if ids is None else [k for i in ids if (k := diagnosis_key(i)) is not None],
        patient_ids=patient_ids(search),
        codes=search.codes("code", s.ICD10CM),
        dates=search.dates("recorded-date"),
    )
    return [condition_resource(d) for d in found], total


ENCOUNTER_TYPE = ResourceType(
    "Encounter",
    read_encounter,
    search_encounters,
    (
        ID,
        PATIENT,
        SUBJECT,
        SearchParam("date", "date", "When the encounter took place, with prefixes"),
        SearchParam("status", "token", "in-progress, finished or entered-in-error"),
    ),
    "us-core-encounter",
)
CONDITION_TYPE = ResourceType(
    "Condition",
    read_condition,
    search_conditions,
    (
        ID,
        PATIENT,
        SUBJECT,
        SearchParam("code", "token", f"An ICD-10-CM code: {s.ICD10CM}|E11.9"),
        SearchParam("recorded-date", "date", "The date of the encounter that recorded it"),
    ),
    "us-core-condition-encounter-diagnosis",
    "The coded diagnoses of the encounters",
)
