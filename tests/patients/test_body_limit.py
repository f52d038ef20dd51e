"""Request bodies over the configured limit get the 413 envelope and store nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson

from hms.app import create_app
from hms.auth.permissions import Role
from hms.config import Settings
from hms.runtime import Runtime
from tests.factories import make_patient, patient_body
from tests.patients.support import PATIENTS, error_of, staff, stored_patients

SMALL_LIMIT = 4096


def _padded_body(size: int) -> bytes:
    """A valid patient body padded with allowed text until it is `size` bytes or larger."""
    conditions = ["x" * 200] * (size // 200 + 1)
    return orjson.dumps(patient_body(medical_conditions=conditions[:100]))


async def test_a_body_over_the_default_mebibyte_is_413(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    headers = await staff(client, runtime, Role.RECEPTIONIST)
    huge = orjson.dumps(patient_body(address={"street": "x" * (1024 * 1024 + 10)}))
    response = await client.post(
        PATIENTS, content=huge, headers=headers | {"Content-Type": "application/json"}
    )
    error = error_of(response, 413, "PAYLOAD_TOO_LARGE")
    assert error["details"]["max_bytes"] == 1024 * 1024
    assert await stored_patients(runtime) == 0


async def test_a_configured_limit_holds_by_content_length_and_while_streaming(
    settings: Settings, runtime: Runtime
) -> None:
    small = settings.model_copy(update={"max_body_bytes": SMALL_LIMIT})
    app = create_app(small, runtime)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        headers = await staff(client, runtime, Role.RECEPTIONIST)
        json_headers = headers | {"Content-Type": "application/json"}
        body = _padded_body(SMALL_LIMIT + 1)
        assert len(body) > SMALL_LIMIT

        sized = await client.post(PATIENTS, content=body, headers=json_headers)
        error_of(sized, 413, "PAYLOAD_TOO_LARGE")

        async def chunks() -> AsyncIterator[bytes]:
            # No Content-Length: the limit must also hold while the body streams in.
            for start in range(0, len(body), 1024):
                yield body[start : start + 1024]

        streamed = await client.post(PATIENTS, content=chunks(), headers=json_headers)
        error_of(streamed, 413, "PAYLOAD_TOO_LARGE")
        assert await stored_patients(runtime) == 0

        created = await make_patient(client, headers)
        too_big_update = await client.put(
            f"{PATIENTS}/{created['id']}", content=body, headers=json_headers
        )
        error_of(too_big_update, 413, "PAYLOAD_TOO_LARGE")
        after = await client.get(f"{PATIENTS}/{created['id']}", headers=headers)
        assert after.json() == created
        assert await stored_patients(runtime) == 1
