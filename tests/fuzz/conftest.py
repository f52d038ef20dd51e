from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from schemathesis.python import asgi

from hms.app import create_app
from hms.auth.permissions import Role
from hms.config import Settings
from hms.runtime import Runtime
from tests.factories import make_patient, make_user
from tests.fuzz.support import Caller, Target
from tests.seed_examples import request_body


@pytest.fixture
async def fuzz_admin(runtime: Runtime) -> str:
    return str((await make_user(runtime, role=Role.ADMIN))["username"])


@pytest.fixture
async def fuzz_doctor(runtime: Runtime) -> str:
    return str((await make_user(runtime, role=Role.DOCTOR))["username"])


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


@pytest.fixture
async def fuzz_target(client: httpx.AsyncClient, fuzz_admin_caller: Caller) -> Target:
    """The app under test, and a patient and a provider that exist in its database."""
    headers = fuzz_admin_caller.headers
    # The seed's full record, so that answers carry every nested part of a patient.
    patient = await make_patient(client, headers, **request_body("POST /api/v1/patients"))
    provider = await client.post(
        "/api/v1/providers",
        json={"first_name": "Ada", "last_name": "Okafor", "specialty": "Cardiology"},
        headers=headers,
    )
    assert provider.status_code == 201, provider.text
    return Target(
        http=fuzz_admin_caller.http,
        admin=fuzz_admin_caller,
        refs={
            "patient_id": [patient["id"], patient["patient_id"]],
            "provider_id": [provider.json()["id"]],
        },
    )


@pytest.fixture
def fuzz_doctor_caller(fuzz_target: Target, fuzz_doctor: str) -> Caller:
    doctor = Caller(fuzz_target.http, fuzz_doctor)
    doctor.sign_in()
    return doctor
