"""What the fuzz run found, pinned down: each of these was a 500 or an undocumented answer."""

from __future__ import annotations

import logging

import httpx
import pytest

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import make_patient, signed_in
from tests.fuzz.support import DOCUMENT

ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}


def _assert_envelope(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["request_id"] == response.headers["X-Request-ID"]


async def test_a_nul_character_in_the_url_is_a_bad_request(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    # PostgreSQL cannot compare text holding NUL: these were 500s there.
    headers = await signed_in(client, runtime, role=Role.DOCTOR)
    for url in (
        "/api/v1/patients/search?query=Doe%00",
        "/api/v1/patients/P2026%000001",
        "/api/v1/providers?specialty=%00",
    ):
        _assert_envelope(await client.get(url, headers=headers), 400, "BAD_REQUEST")
    found = await client.get("/api/v1/patients/search?query=Doe", headers=headers)
    assert found.status_code == 200


async def test_null_for_a_list_on_update_empties_it(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    # Was a 500: the null was stored, and the answer could not be built from it.
    headers = await signed_in(client, runtime, role=Role.DOCTOR)
    patient = await make_patient(
        client, headers, allergies=["Penicillin"], medical_conditions=["Asthma"]
    )
    response = await client.put(
        f"/api/v1/patients/{patient['id']}",
        json={"allergies": None, "medicalConditions": None, "current_medications": None},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    fetched = (await client.get(f"/api/v1/patients/{patient['id']}", headers=headers)).json()
    for name in ("allergies", "medical_conditions", "current_medications"):
        assert response.json()[name] == [] and fetched[name] == [], name


def test_every_error_answer_is_documented_with_the_envelope() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["ErrorDetail"]["required"]) == {
        "code",
        "message",
        "details",
        "timestamp",
        "request_id",
    }
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            errors = {int(s) for s in responses if int(s) >= 400}
            if operation.get("security"):
                assert {401, 403} <= errors, (method, path)
                assert "WWW-Authenticate" in responses["401"]["headers"], (method, path)
            if "requestBody" in operation:
                assert {400, 413, 422} <= errors, (method, path)
            if not path.startswith("/health/"):
                assert "Retry-After" in responses["429"]["headers"], (method, path)
            for status in errors:
                body = responses[str(status)]["content"]["application/json"]["schema"]
                assert body == ENVELOPE, (method, path, status)


async def test_the_log_names_the_full_route_template(
    client: httpx.AsyncClient, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    # Included routers' prefixes were missing: "/patients/{patient_id}".
    headers = await signed_in(client, runtime, role=Role.DOCTOR)
    patient = await make_patient(client, headers)
    with caplog.at_level(logging.INFO, logger="hms.access"):
        await client.get(f"/api/v1/patients/{patient['patient_id']}", headers=headers)
    routes = [getattr(r, "route", None) for r in caplog.records if r.name == "hms.access"]
    assert routes == ["/api/v1/patients/{patient_id}"]


async def test_a_405_names_every_method_of_the_resource(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    # Was `Allow: GET` alone: the path's GET and PUT are separate routes.
    headers = await signed_in(client, runtime, role=Role.ADMIN)
    refused = await client.request("PATCH", "/api/v1/patients/P20260001/coverage", headers=headers)
    _assert_envelope(refused, 405, "METHOD_NOT_ALLOWED")
    assert set(refused.headers["Allow"].split(", ")) == {"GET", "PUT"}
    literal = await client.request("PATCH", "/api/v1/patients/search", headers=headers)
    _assert_envelope(literal, 405, "METHOD_NOT_ALLOWED")
    assert literal.headers["Allow"] == "GET"


async def test_null_refills_on_a_signed_prescription_is_a_conflict(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    # Was a 500: null for `refills` was compared as if it were refills.
    from tests.pharmacy.support import prescribe, prescriber

    doctor = await prescriber(client, runtime)
    patient = await make_patient(client, doctor.headers)
    rx = await prescribe(client, doctor, patient["id"])
    response = await client.put(
        f"/api/v1/pharmacy/prescriptions/{rx['id']}", json={"refills": None}, headers=doctor.headers
    )
    _assert_envelope(response, 409, "CONFLICT")
    assert response.json()["error"]["details"]["fields"] == ["refills"]
