"""What the billing tests share: billing staff, a doctor with an encounter to charge for, the
API document's charge and claim requests bound to real records, and the error envelope."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import bearer, login, make_patient, make_user
from tests.seed_examples import request_body

CHARGES = "/api/v1/billing/charges"
CLAIMS = "/api/v1/billing/claims"
PAYMENTS = "/api/v1/billing/payments"
ENCOUNTERS = "/api/v1/clinical/encounters"


@dataclass(frozen=True)
class Desk:
    """A billing clerk, a doctor (with its provider record), a patient and its encounter."""

    billing: dict[str, str]
    doctor: dict[str, str]
    provider_id: str
    patient: dict[str, Any]
    encounter_id: str


async def staff(client: httpx.AsyncClient, runtime: Runtime, role: Role | str) -> dict[str, str]:
    user = await make_user(runtime, role=role)
    return bearer(await login(client, user["username"]))


async def portal(client: httpx.AsyncClient, runtime: Runtime, number: str) -> dict[str, str]:
    user = await make_user(runtime, role=Role.PATIENT, patient=number)
    return bearer(await login(client, user["username"]))


async def encounter_for(
    client: httpx.AsyncClient, doctor: dict[str, str], patient_id: str
) -> dict[str, Any]:
    body = copy.deepcopy(request_body("POST /api/v1/clinical/encounters"))
    body["patient_id"] = patient_id
    response = await client.post(ENCOUNTERS, json=body, headers=doctor)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def desk(client: httpx.AsyncClient, runtime: Runtime) -> Desk:
    doctor_user = await make_user(runtime, role=Role.DOCTOR)
    doctor = bearer(await login(client, doctor_user["username"]))
    patient = await make_patient(client, doctor)
    encounter = await encounter_for(client, doctor, patient["id"])
    return Desk(
        billing=await staff(client, runtime, Role.BILLING),
        doctor=doctor,
        provider_id=doctor_user["provider_id"],
        patient=patient,
        encounter_id=encounter["id"],
    )


def seed_charge(d: Desk, **overrides: Any) -> dict[str, Any]:
    """The API document's charge request with real ids."""
    body = copy.deepcopy(request_body("POST /api/v1/billing/charges"))
    body.update(
        patient_id=d.patient["id"], encounter_id=d.encounter_id, billing_provider_id=d.provider_id
    )
    body.update(overrides)
    return body


def seed_claim(d: Desk, charge_ids: list[str], **overrides: Any) -> dict[str, Any]:
    body = copy.deepcopy(request_body("POST /api/v1/billing/claims"))
    body.update(patient_id=d.patient["id"], charges=charge_ids)
    body.update(overrides)
    return body


def line(d: Desk, unit_price: str, quantity: int = 1, **amounts: Any) -> dict[str, Any]:
    """A charge without the document's fixed amounts: only what is given."""
    body = seed_charge(d, quantity=quantity, unit_price=unit_price, **amounts)
    for name in ("total_amount", "insurance_amount", "patient_amount"):
        if name not in amounts:
            body.pop(name)
    return body


async def charge(
    client: httpx.AsyncClient, d: Desk, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post(CHARGES, json=body or seed_charge(d), headers=d.billing)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def claim(
    client: httpx.AsyncClient, d: Desk, charge_ids: list[str], **overrides: Any
) -> dict[str, Any]:
    body = {"patient_id": d.patient["id"], "charges": charge_ids, **overrides}
    response = await client.post(CLAIMS, json=body, headers=d.billing)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def insure(client: httpx.AsyncClient, d: Desk, **fields: Any) -> dict[str, Any]:
    body = {
        "coverage_type": "private",
        "payer": "Blue Cross Blue Shield",
        "policy_number": "BCBS123456789",
        "group_number": "GRP987654",
        **fields,
    }
    response = await client.put(
        f"/api/v1/patients/{d.patient['id']}/coverage", json=body, headers=d.billing
    )
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert error["request_id"] == response.headers["X-Request-ID"]
    return dict(error)


def invalid_field(response: httpx.Response) -> str:
    details = error_of(response, 422, "VALIDATION_ERROR")["details"]
    assert {"field": details["field"], "error": details["error"]} in details["errors"]
    return str(details["field"])


async def audit_entries(
    client: httpx.AsyncClient, admin: dict[str, str], **filters: str
) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/audit", params={"limit": 100, **filters}, headers=admin)
    assert response.status_code == 200, response.text
    return list(response.json()["entries"])
