"""The table of served resource types and the CapabilityStatement written from it."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from hms import __version__
from hms.api.fhir import systems as s
from hms.api.fhir.billing import CHARGE_ITEM_TYPE, CLAIM_TYPE
from hms.api.fhir.clinical import CONDITION_TYPE, ENCOUNTER_TYPE
from hms.api.fhir.interactions import ResourceType
from hms.api.fhir.observations import OBSERVATION_TYPE
from hms.api.fhir.orders import (
    DIAGNOSTIC_REPORT_TYPE,
    MEDICATION_REQUEST_TYPE,
    SERVICE_REQUEST_TYPE,
)
from hms.api.fhir.patients import ALLERGY_TYPE, PATIENT_TYPE, PRACTITIONER_TYPE
from hms.api.fhir.scheduling import APPOINTMENT_TYPE, SLOT_TYPE
from hms.api.fhir.search import RESULT_PARAMETERS, fhir_base

RESOURCE_TYPES: dict[str, ResourceType] = {
    kind.name: kind
    for kind in (
        PATIENT_TYPE,
        PRACTITIONER_TYPE,
        ENCOUNTER_TYPE,
        CONDITION_TYPE,
        OBSERVATION_TYPE,
        ALLERGY_TYPE,
        MEDICATION_REQUEST_TYPE,
        SERVICE_REQUEST_TYPE,
        DIAGNOSTIC_REPORT_TYPE,
        APPOINTMENT_TYPE,
        SLOT_TYPE,
        CHARGE_ITEM_TYPE,
        CLAIM_TYPE,
    )
}
# Written once when the module loads: the statement changes only with the code.
RELEASED = "2026-11-25"


def capability_statement(request: Request) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": RELEASED,
        "publisher": "HMS",
        "kind": "instance",
        "software": {"name": "HMS", "version": __version__},
        "implementation": {
            "description": "HMS FHIR R4 read and search facade",
            "url": fhir_base(request),
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Read and search only. Sign in at /auth/token and send the access token as "
                    "'Authorization: Bearer'. Paging: _count (at most 100) and _offset; every "
                    "search also takes " + ", ".join(sorted(RESULT_PARAMETERS)) + ". Other "
                    "parameters are refused with 400 unless 'Prefer: handling=lenient' is sent."
                ),
                "security": {
                    "service": [
                        {
                            "coding": [
                                s.coding(
                                    "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "OAuth",
                                    "OAuth",
                                )
                            ]
                        }
                    ],
                    "description": "Bearer tokens from POST /auth/token; a patient account "
                    "reaches its own record only.",
                },
                "resource": [_resource(kind) for kind in RESOURCE_TYPES.values()],
                "operation": [
                    {
                        "name": "everything",
                        "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                    }
                ],
            }
        ],
    }


def _resource(kind: ResourceType) -> dict[str, Any]:
    found: dict[str, Any] = {
        "type": kind.name,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [
            {"name": p.name, "type": p.type, "documentation": p.documentation} for p in kind.params
        ],
    }
    if kind.profile:
        found["supportedProfile"] = [f"{s.US_CORE}/{kind.profile}"]
    if kind.documentation:
        found["documentation"] = kind.documentation
    if kind.name == "Patient":
        found["operation"] = [
            {
                "name": "everything",
                "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
            }
        ]
    return found
