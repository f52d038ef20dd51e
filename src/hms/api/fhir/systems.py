"""The code systems and identifier systems the FHIR door writes, and the small shapes every
mapper shares (references, codings, instants)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
NDC = "http://hl7.org/fhir/sid/ndc"
NPI = "http://hl7.org/fhir/sid/us-npi"
# The DEA registration number's OID (HL7's identifier registry).
DEA = "urn:oid:2.16.840.1.113883.4.814"
CPT = "http://www.ama-assn.org/go/cpt"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
DIAGNOSTIC_SERVICE = "http://terminology.hl7.org/CodeSystem/v2-0074"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
RESTFUL_SECURITY = "http://terminology.hl7.org/CodeSystem/restful-security-service"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"

# HMS's own numbers. They are URNs rather than URLs of a server, so that an identifier stays
# the same whichever host name a client reached the server by.
PATIENT_NUMBER = "urn:hms:patient-number"
PRESCRIPTION_NUMBER = "urn:hms:prescription-number"
LAB_ORDER_NUMBER = "urn:hms:lab-order-number"
APPOINTMENT_NUMBER = "urn:hms:appointment-number"
CHARGE_NUMBER = "urn:hms:charge-number"
CLAIM_NUMBER = "urn:hms:claim-number"

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition"


def reference(resource_type: str, id_: uuid.UUID | str | None) -> dict[str, str] | None:
    return None if id_ is None else {"reference": f"{resource_type}/{id_}"}


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    found = {"system": system, "code": code}
    if display:
        found["display"] = display
    return found


def concept(*codings: dict[str, str], text: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if codings:
        found["coding"] = list(codings)
    if text:
        found["text"] = text
    return found


def instant(value: datetime | None) -> str | None:
    """An RFC 3339 UTC timestamp, as `dateTime` and `instant` are written."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def meta(updated: datetime | None, profile: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if updated is not None:
        found["lastUpdated"] = instant(updated)
    if profile:
        found["profile"] = [f"{US_CORE}/{profile}"]
    return found


def pruned(value: Any) -> Any:
    """Without the empty members FHIR forbids (null, "", [] and {})."""
    if isinstance(value, dict):
        out = {k: pruned(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        out_list = [pruned(v) for v in value]
        return [v for v in out_list if v not in (None, "", [], {})]
    return value
