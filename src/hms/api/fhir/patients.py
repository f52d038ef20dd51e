"""Patient, Practitioner and AllergyIntolerance: the patient record, the provider directory and
the allergies recorded on the patient."""

from __future__ import annotations

from typing import Any

from hms.api.fhir import systems as s
from hms.api.fhir.interactions import (
    ID,
    PATIENT,
    Context,
    Resource,
    ResourceType,
    SearchParam,
)
from hms.api.fhir.search import Search, as_uuid
from hms.errors import BadRequest, NotFound
from hms.patients import service as patients
from hms.patients.models import Patient
from hms.providers import service as providers
from hms.providers.models import Provider

GENDERS = {"M": "male", "F": "female", "O": "other", "U": "unknown"}
SEVERITIES = {"mild": "mild", "moderate": "moderate", "severe": "severe"}


def patient_resource(patient: Patient) -> Resource:
    address = patient.address or {}
    contact = patient.emergency_contact or {}
    return s.pruned(
        {
            "resourceType": "Patient",
            "id": str(patient.id),
            "meta": s.meta(patient.updated_at, "us-core-patient"),
            "identifier": [
                {
                    "use": "usual",
                    "type": s.concept(
                        s.coding(s.V2_IDENTIFIER_TYPE, "MR", "Medical record number")
                    ),
                    "system": s.PATIENT_NUMBER,
                    "value": patient.patient_number,
                }
            ],
            "active": patient.is_active,
            "name": [
                {"use": "official", "family": patient.last_name, "given": [patient.first_name]}
            ],
            "telecom": [
                {"system": "phone", "value": patient.contact_number, "use": "home"}
                if patient.contact_number
                else None,
                {"system": "email", "value": patient.email} if patient.email else None,
            ],
            "gender": GENDERS.get(patient.gender, "unknown"),
            "birthDate": patient.date_of_birth.isoformat(),
            "address": [
                {
                    "line": [address.get("street")],
                    "city": address.get("city"),
                    "state": address.get("state"),
                    "postalCode": address.get("zip_code"),
                    "country": address.get("country"),
                }
            ],
            "contact": [
                {
                    "relationship": [s.concept(text=contact.get("relationship"))],
                    "name": {"text": contact.get("name")},
                    "telecom": [{"system": "phone", "value": contact.get("phone")}]
                    if contact.get("phone")
                    else [],
                }
            ],
        }
    )


def practitioner_resource(provider: Provider) -> Resource:
    return s.pruned(
        {
            "resourceType": "Practitioner",
            "id": str(provider.id),
            "meta": s.meta(provider.updated_at, "us-core-practitioner"),
            "identifier": [
                {"system": s.NPI, "value": provider.npi} if provider.npi else None,
                {
                    "type": s.concept(
                        s.coding(
                            s.V2_IDENTIFIER_TYPE,
                            "DEA",
                            "Drug Enforcement Administration registration number",
                        )
                    ),
                    "system": s.DEA,
                    "value": provider.dea_number,
                }
                if provider.dea_number
                else None,
            ],
            "active": provider.is_active,
            "name": [{"family": provider.last_name, "given": [provider.first_name], "prefix": []}],
            "telecom": [
                {"system": "phone", "value": provider.phone, "use": "work"}
                if provider.phone
                else None,
                {"system": "email", "value": provider.email, "use": "work"}
                if provider.email
                else None,
            ],
            "qualification": [{"code": s.concept(text=provider.specialty)}]
            if provider.specialty
            else [],
        }
    )


def allergy_resources(patient: Patient) -> list[Resource]:
    """Each allergy recorded on the patient (a plain substance, or with severity and reaction).
    Its id is the patient's and its place in the list."""
    out = []
    for index, entry in enumerate(patient.allergies or []):
        item: dict[str, Any] = entry if isinstance(entry, dict) else {"substance": entry}
        severity = SEVERITIES.get(item.get("severity") or "")
        reaction = {
            "manifestation": [s.concept(text=item.get("reaction") or "Not recorded")],
            "severity": severity,
        }
        out.append(
            s.pruned(
                {
                    "resourceType": "AllergyIntolerance",
                    "id": f"{patient.id}-{index}",
                    "meta": s.meta(patient.updated_at, "us-core-allergyintolerance"),
                    "clinicalStatus": s.concept(s.coding(s.ALLERGY_CLINICAL, "active", "Active")),
                    "verificationStatus": s.concept(
                        s.coding(s.ALLERGY_VERIFICATION, "unconfirmed", "Unconfirmed")
                    ),
                    "code": s.concept(text=item["substance"]),
                    "patient": s.reference("Patient", patient.id),
                    "reaction": [reaction] if item.get("reaction") or severity else [],
                }
            )
        )
    return out


async def read_patient(ctx: Context, id_: str) -> Resource:
    if as_uuid(id_) is None:
        raise NotFound("Patient not found")
    found = await patients.get_patient(ctx.session, actor=ctx.actor, ref=id_)
    return patient_resource(found)


async def search_patients(ctx: Context, search: Search) -> tuple[list[Resource], int]:
    found, total = await patients.list_patients(
        ctx.session,
        actor=ctx.actor,
        limit=search.count,
        offset=search.offset,
        is_active=None,
        ids=search.uuids("_id"),
        numbers=search.codes("identifier", s.PATIENT_NUMBER),
        names=search.strings("name"),
        birth_dates=search.dates("birthdate"),
    )
    return [patient_resource(p) for p in found], total


async def read_practitioner(ctx: Context, id_: str) -> Resource:
    return practitioner_resource(
        await providers.get_provider(ctx.session, actor=ctx.actor, ref=id_)
    )


async def search_practitioners(ctx: Context, search: Search) -> tuple[list[Resource], int]:
    tokens = search.tokens("identifier")
    npis = dea = None
    if tokens is not None:
        # A number given without its system is taken for an NPI.
        npis = [code for system, code in tokens if system in (None, s.NPI)]
        dea = [code for system, code in tokens if system == s.DEA]
        if npis and dea:
            raise BadRequest("Search by NPI or by DEA number, not both at once")
        npis, dea = (None, dea) if dea else (npis, None)
    found, total = await providers.list_providers(
        ctx.session,
        actor=ctx.actor,
        limit=search.count,
        offset=search.offset,
        is_active=None,
        ids=search.uuids("_id"),
        names=search.strings("name"),
        npis=npis,
        dea_numbers=dea,
    )
    return [practitioner_resource(p) for p in found], total


async def read_allergy(ctx: Context, id_: str) -> Resource:
    patient_id, _, index = id_.rpartition("-")
    if as_uuid(patient_id) is None or not index.isdigit():
        raise NotFound("AllergyIntolerance not found")
    patient = await patients.get_patient(ctx.session, actor=ctx.actor, ref=patient_id)
    for resource in allergy_resources(patient):
        if resource["id"] == id_:
            return resource
    raise NotFound("AllergyIntolerance not found")


async def search_allergies(ctx: Context, search: Search) -> tuple[list[Resource], int]:
    patient_ids = search.references("patient", "Patient")
    if patient_ids is None and ctx.actor.patient_scope is None:
        raise BadRequest("Search AllergyIntolerance by patient: give patient=Patient/<id>")
    found, _ = await patients.list_patients(
        ctx.session, actor=ctx.actor, limit=100, offset=0, is_active=None, ids=patient_ids
    )
    every = [a for p in found for a in allergy_resources(p)]
    wanted = search.ids()
    if wanted is not None:
        every = [a for a in every if a["id"] in wanted]
    return every[search.offset : search.offset + search.count], len(every)


PATIENT_TYPE = ResourceType(
    "Patient",
    read_patient,
    search_patients,
    (
        ID,
        SearchParam("identifier", "token", f"The patient number: {s.PATIENT_NUMBER}|P20240001"),
        SearchParam("name", "string", "Any name word starts with it (case and accents ignored)"),
        SearchParam("birthdate", "date", "Date of birth, with prefixes (ge, le, ...)"),
    ),
    "us-core-patient",
)
PRACTITIONER_TYPE = ResourceType(
    "Practitioner",
    read_practitioner,
    search_practitioners,
    (
        ID,
        SearchParam("identifier", "token", f"NPI ({s.NPI}|...) or DEA number ({s.DEA}|...)"),
        SearchParam("name", "string", "The first or last name starts with it"),
    ),
    "us-core-practitioner",
)
ALLERGY_TYPE = ResourceType(
    "AllergyIntolerance",
    read_allergy,
    search_allergies,
    (ID, PATIENT),
    "us-core-allergyintolerance",
    "The allergies recorded on the patient; staff search them per patient",
)
