"""What the FHIR tests share: every resource checked against the FHIR R4 models of
`fhir.resources` (R4B), a clinical record built through the REST API, and reading bundles."""

from __future__ import annotations

import copy
from typing import Any

import httpx
from fhir.resources.R4B import get_fhir_model_class

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.appointments.support import book, slot
from tests.clinical.support import Staff, document, portal, staff
from tests.factories import make_patient
from tests.laboratory.support import ORDERS, one
from tests.pharmacy.support import prescribe
from tests.seed_examples import request_body

FHIR = "/fhir/R4"
MEDIA_TYPE = "application/fhir+json"

__all__ = ["Staff", "portal", "staff"]


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource, once the FHIR R4 model of its type accepts it (a Bundle's entries too)."""
    model = get_fhir_model_class(resource["resourceType"])
    model.model_validate(resource)
    if resource["resourceType"] == "Bundle":
        for entry in resource.get("entry", []):
            valid(entry["resource"])
    return resource


async def fhir_get(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    """GET under /fhir/R4: the body, validated, of a successful response."""
    response = await client.get(f"{FHIR}/{path}", headers=headers, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(MEDIA_TYPE)
    return valid(response.json())


def matches(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    return [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "match"]


def ids(bundle: dict[str, Any]) -> list[str]:
    return [r["id"] for r in matches(bundle)]


def link(bundle: dict[str, Any], relation: str) -> str | None:
    return next((x["url"] for x in bundle["link"] if x["relation"] == relation), None)


def outcome_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(MEDIA_TYPE)
    body = valid(response.json())
    assert body["resourceType"] == "OperationOutcome"
    return body


class Record:
    """A doctor, and a patient with one signed encounter (vital signs, two ICD-10-CM codes)
    and a resulted laboratory order."""

    def __init__(self, doctor: Staff, patient: dict[str, Any], encounter: dict[str, Any]) -> None:
        self.doctor, self.patient, self.encounter = doctor, patient, encounter
        self.order: dict[str, Any] = {}


async def record(
    client: httpx.AsyncClient, runtime: Runtime, *, lab: bool = True, **patient: Any
) -> Record:
    doctor = await staff(client, runtime, Role.DOCTOR)
    found = await make_patient(client, doctor.headers, **patient)
    encounter = await document(
        client,
        doctor,
        found["id"],
        encounter_date="2024-03-05T10:00:00Z",
        diagnoses=[
            {"code": "E11.9", "type": "primary"},
            {"code": "I10", "type": "secondary", "confirmed": False},
        ],
    )
    made = Record(doctor, found, encounter)
    if lab:
        tech = await staff(client, runtime, Role.LAB_TECHNICIAN)
        body = {"patient_id": found["id"], "tests": [{"test_code": "CMP"}]}
        response = await client.post(ORDERS, json=body, headers=doctor.headers)
        assert response.status_code == 201, response.text
        made.order = response.json()
        response = await client.post(
            f"{ORDERS}/{made.order['id']}/results",
            json=one("CMP", ("Glucose", "250"), ("Sodium", "140"), ("Potassium", "<2.5")),
            headers=tech.headers,
        )
        assert response.status_code == 200, response.text
    return made


ALLERGIES = ["Latex", {"substance": "Peanuts", "severity": "severe", "reaction": "Anaphylaxis"}]


async def full_record(client: httpx.AsyncClient, runtime: Runtime) -> tuple[Record, dict[str, Any]]:
    """A record with something of every kind, and the ids of what was made."""
    made = await record(client, runtime, allergies=ALLERGIES)
    doctor, pid = made.doctor, made.patient["id"]
    rx = await prescribe(client, doctor, pid)
    visit = await book(client, doctor.headers, slot(pid, str(doctor.provider_id)))
    billing = (await staff(client, runtime, Role.BILLING)).headers
    body = copy.deepcopy(request_body("POST /api/v1/billing/charges"))
    body.update(
        patient_id=pid, encounter_id=made.encounter["id"], billing_provider_id=doctor.provider_id
    )
    response = await client.post("/api/v1/billing/charges", json=body, headers=billing)
    assert response.status_code == 201, response.text
    charge = response.json()
    response = await client.post(
        "/api/v1/billing/claims",
        json={
            "patient_id": pid,
            "charges": [charge["id"]],
            "insurance_provider": "Blue Cross Blue Shield",
            "policy_number": "BCBS123456789",
        },
        headers=billing,
    )
    assert response.status_code == 201, response.text
    return made, {
        "MedicationRequest": rx["id"],
        "ServiceRequest": made.order["id"],
        "DiagnosticReport": made.order["id"],
        "Appointment": visit["id"],
        "ChargeItem": charge["id"],
        "Claim": response.json()["id"],
    }
