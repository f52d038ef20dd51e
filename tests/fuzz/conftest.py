from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from schemathesis.python import asgi

from hms.app import create_app
from hms.auth.permissions import Role
from hms.config import Settings
from hms.runtime import Runtime
from tests.factories import bearer, login, make_patient, make_user
from tests.fuzz.support import Caller, Target
from tests.seed_examples import request_body


@pytest.fixture
async def fuzz_admin(runtime: Runtime) -> str:
    return str((await make_user(runtime, role=Role.ADMIN))["username"])


@pytest.fixture
async def fuzz_doctor(runtime: Runtime) -> dict[str, Any]:
    return await make_user(runtime, role=Role.DOCTOR)


@pytest.fixture
def fuzz_admin_caller(settings: Settings, fuzz_admin: str) -> Iterator[Caller]:
    """The app under test, with an admin signed in to it."""
    app = create_app(settings)
    with asgi.get_client(app) as http:  # starts the app's lifespan
        admin = Caller(http, fuzz_admin)
        admin.sign_in()
        yield admin
    # Ends the lifespan, which closes the app's database pool in the loop that opened it.
    asgi.shutdown_lifespans()


async def _created(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, body: dict[str, Any]
) -> str:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _seed(method_and_path: str, **fields: Any) -> dict[str, Any]:
    body = copy.deepcopy(request_body(method_and_path))
    body.update(fields)
    return body


async def _records(
    client: httpx.AsyncClient, headers: dict[str, str], doctor: dict[str, Any]
) -> dict[str, list[str]]:
    """A populated database: a patient with the seed's full record (so that answers carry
    every nested part), a provider, and one record of every other kind for that patient."""
    patient = await make_patient(client, headers, **request_body("POST /api/v1/patients"))
    who = {"patient_id": patient["id"]}
    provider = await _created(
        client,
        headers,
        "/api/v1/providers",
        {"first_name": "Ada", "last_name": "Okafor", "specialty": "Cardiology"},
    )
    by = who | {"provider_id": provider}
    encounter = await _created(
        client,
        headers,
        "/api/v1/clinical/encounters",
        _seed("POST /api/v1/clinical/encounters", **by),
    )
    charge = await _created(
        client,
        headers,
        "/api/v1/billing/charges",
        _seed(
            "POST /api/v1/billing/charges",
            **who,
            encounter_id=encounter,
            billing_provider_id=provider,
        ),
    )
    return {
        "patient_id": [patient["id"], patient["patient_id"]],
        "provider_id": [provider],
        "encounter_id": [encounter],
        "charge_id": [charge],
        "claim_id": [
            await _created(
                client,
                headers,
                "/api/v1/billing/claims",
                _seed("POST /api/v1/billing/claims", **who, charges=[charge]),
            )
        ],
        "prescription_id": [
            await _created(
                client,
                bearer(await login(client, doctor["username"])),
                "/api/v1/pharmacy/prescriptions",
                _seed(
                    "POST /api/v1/pharmacy/prescriptions", **who, provider_id=doctor["provider_id"]
                ),
            )
        ],
        "order_id": [
            await _created(
                client,
                headers,
                "/api/v1/laboratory/orders",
                _seed("POST /api/v1/laboratory/orders", **by),
            )
        ],
        "appointment_id": [
            await _created(
                client,
                headers,
                "/api/v1/appointments",
                _seed("POST /api/v1/appointments", **by),
            )
        ],
    }


@pytest.fixture
async def fuzz_target(
    client: httpx.AsyncClient,
    runtime: Runtime,
    fuzz_admin_caller: Caller,
    fuzz_doctor: dict[str, Any],
) -> Target:
    """The app under test with a populated database, and an admin, a doctor and a patient
    (whose record is the one in `refs`) signed in to it."""
    refs = await _records(client, fuzz_admin_caller.headers, fuzz_doctor)
    patient_user = await make_user(runtime, role=Role.PATIENT, patient=refs["patient_id"][1])
    http = fuzz_admin_caller.http
    others = [
        Caller(http, str(fuzz_doctor["username"]), role="doctor"),
        Caller(http, str(patient_user["username"]), role="patient"),
    ]
    for caller in others:
        caller.sign_in()
    return Target(http=http, admin=fuzz_admin_caller, refs=refs, others=others)
