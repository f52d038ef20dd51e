"""The API document's auth and patient examples, sent as written, answer as documented."""

from __future__ import annotations

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import PASSWORD, bearer, make_user
from tests.seed_examples import request_body, response_body


async def test_seed_token_request_returns_the_documented_body(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await make_user(runtime, role=Role.DOCTOR, username="doctor_smith", password="secure_password")
    body = request_body("POST /auth/token")
    response = await client.post("/auth/token", json=body)
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert set(response_body("#### JWT Authentication")) <= set(tokens)
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] > 0
    me = await client.get("/auth/me", headers=bearer(tokens))
    assert me.json()["username"] == "doctor_smith"
    assert PASSWORD not in me.text


async def test_seed_patient_create_returns_every_documented_field(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    user = await make_user(runtime, role=Role.RECEPTIONIST)
    tokens = (
        await client.post("/auth/token", json={"username": user["username"], "password": PASSWORD})
    ).json()
    sent = request_body("POST /api/v1/patients")
    response = await client.post("/api/v1/patients", json=sent, headers=bearer(tokens))
    assert response.status_code == 201, response.text
    created = response.json()
    documented = response_body("#### Create Patient")
    assert set(documented) <= set(created)
    assert set(documented["_links"]) <= set(created["_links"])
    for name, value in sent.items():
        assert created[name] == value, name
    assert created["patient_id"].startswith("P") and len(created["patient_id"]) == 9
    assert created["is_active"] is True
    assert created["created_at"].endswith("Z")
    assert created["_links"]["self"]["href"] == (
        f"http://testserver/api/v1/patients/{created['id']}"
    )
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == created["_links"]["self"]["href"]

    search = await client.get(
        "/api/v1/patients/search?query=John&limit=10&offset=0", headers=bearer(tokens)
    )
    assert search.status_code == 200
    listed = search.json()
    documented_search = response_body("#### Search Patients")
    assert set(documented_search) <= set(listed)
    assert set(documented_search["patients"][0]) <= set(listed["patients"][0])
    assert listed["patients"][0]["id"] == created["id"]
    assert listed["_links"]["next"] is None and listed["_links"]["prev"] is None

    update = request_body("PUT /api/v1/patients/{patient_id}")
    changed = await client.put(
        f"/api/v1/patients/{created['patient_id']}", json=update, headers=bearer(tokens)
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["address"]["street"] == "456 Oak Ave"
    assert changed.json()["allergies"] == sent["allergies"]  # untouched fields stay
    fetched = await client.get(f"/api/v1/patients/{created['id']}", headers=bearer(tokens))
    assert fetched.json()["address"]["street"] == "456 Oak Ave"
    assert fetched.headers["ETag"] == '"2"'
