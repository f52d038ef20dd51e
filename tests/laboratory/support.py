"""What the laboratory tests share: signed-in staff, the API document's order and results bound
to real records, and quick ways to place an order and enter results."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.clinical.support import Staff, error_of, portal, refused_field, staff
from tests.factories import make_patient
from tests.seed_examples import request_body, response_body

ORDERS = "/api/v1/laboratory/orders"

__all__ = ["Staff", "error_of", "portal", "refused_field", "staff"]


def seed_order(patient_id: str, provider_id: str | None, **overrides: Any) -> dict[str, Any]:
    """The API document's order request, for a real patient and provider."""
    body = copy.deepcopy(request_body("POST /api/v1/laboratory/orders"))
    body["patient_id"] = patient_id
    if provider_id is None:
        del body["provider_id"]
    else:
        body["provider_id"] = provider_id
    body.update(overrides)
    return body


def seed_results() -> dict[str, Any]:
    """The document's results as a results request: its components without flag and status."""
    documented = response_body("#### Get Laboratory Results")
    return {
        "results": [
            {
                "test_code": test["test_code"],
                "components": [
                    {k: c[k] for k in ("component", "result", "unit", "reference_range")}
                    for c in test["components"]
                ],
            }
            for test in documented["results"]
        ]
    }


def one(test_code: str, *components: tuple[str, str], **extra: Any) -> dict[str, Any]:
    """A results request for one test: (component, result) pairs, units from the catalogue."""
    return {
        "results": [
            {
                "test_code": test_code,
                "components": [{"component": c, "result": r} for c, r in components],
                **extra,
            }
        ]
    }


class Lab:
    """A doctor who orders, a technician who results, and a patient."""

    def __init__(self, doctor: Staff, tech: Staff, patient: dict[str, Any]) -> None:
        self.doctor, self.tech, self.patient = doctor, tech, patient


async def lab(client: httpx.AsyncClient, runtime: Runtime) -> Lab:
    doctor = await staff(client, runtime, Role.DOCTOR)
    tech = await staff(client, runtime, Role.LAB_TECHNICIAN)
    patient = await make_patient(client, doctor.headers)
    return Lab(doctor, tech, patient)


async def place(
    client: httpx.AsyncClient, setup: Lab, tests: list[str] | None = None, **overrides: Any
) -> dict[str, Any]:
    body = seed_order(setup.patient["id"], None, **overrides)
    if tests is not None:
        body["tests"] = [{"test_code": code} for code in tests]
    response = await client.post(ORDERS, json=body, headers=setup.doctor.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def enter(
    client: httpx.AsyncClient, setup: Lab, order: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(
        f"{ORDERS}/{order['id']}/results", json=body, headers=setup.tech.headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def components(results: dict[str, Any], test_code: str) -> dict[str, dict[str, Any]]:
    test = next(r for r in results["results"] if r["test_code"] == test_code)
    return {c["component"]: c for c in test["components"]}
