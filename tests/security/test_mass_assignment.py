"""Mass assignment (OWASP API3:2023, broken object property level authorization): a client
cannot set what the server owns. Every create and update body of the API refuses the server's
fields (422, naming the field) unless the schema documents them; `restricted` is documented but
only administrators may set it; the role a token claims is not trusted over the stored one."""

from __future__ import annotations

from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.auth.test_tokens import resign
from tests.graphql.support import gql
from tests.security.tally import count
from tests.security.test_function_level import ENDPOINTS, route_table
from tests.security.world import API, build

# What the server owns, with a value of a plausible type for each.
SERVER_FIELDS: dict[str, Any] = {
    "id": "00000000-0000-0000-0000-000000000001",
    "patient_number": "P99999999",
    "appointment_number": "APT99999999",
    "prescription_number": "RX99999999",
    "order_number": "LAB99999999",
    "charge_number": "CHG99999999",
    "claim_number": "CLM99999999",
    "status": "completed",
    "created_at": "2020-01-01T00:00:00Z",
    "updated_at": "2020-01-01T00:00:00Z",
    "version": 99,
    "role": "admin",
    "restricted": True,
    "is_active": False,
    "signed_at": "2020-01-01T00:00:00Z",
    "user_id": "00000000-0000-0000-0000-000000000002",
}


def documented_fields(client: httpx.AsyncClient, key: str) -> set[str]:
    """The body fields the OpenAPI document names for this endpoint (snake_case)."""
    method, path = key.split(" ", 1)
    app = client._transport.app  # type: ignore[attr-defined]
    doc = app.openapi()
    operation = doc["paths"][path][method.lower()]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" not in schema:
        schema = next(s for s in schema.get("anyOf", []) if "$ref" in s)
    component = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    camel = set(component.get("properties", {}))
    return camel | {"".join("_" + c.lower() if c.isupper() else c for c in n) for n in camel}


async def test_server_owned_fields_are_refused_by_every_body(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    w = await build(client, runtime)
    admin = w.of(Role.ADMIN)
    extra = {"spare": w.o.id, "spare_provider": w.other_provider_id, "username": "x"}
    extra["refresh_token"] = "x"
    checked = 0
    for key in sorted(route_table(client)):
        method, path = key.split(" ", 1)
        call = ENDPOINTS[key][1](w, extra)
        if method not in ("POST", "PUT") or call.body is None or not path.startswith(API):
            continue
        documented = documented_fields(client, key)
        for name, value in SERVER_FIELDS.items():
            if name in documented:
                continue
            response = await client.request(
                method, API + call.path, json={**call.body, name: value}, headers=admin
            )
            count("mass_assignment_fields")
            checked += 1
            assert response.status_code == 422, (key, name, response.status_code, response.text)
            fields = {e["field"] for e in response.json()["error"]["details"]["errors"]}
            assert name in fields, (key, name, fields)
    assert checked > 300


async def test_only_administrators_make_a_record_restricted(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    w = await build(client, runtime)
    for role in (Role.DOCTOR, Role.NURSE, Role.RECEPTIONIST):
        headers = w.of(role)
        body = {
            "first_name": "Ann",
            "last_name": "Other",
            "date_of_birth": "1980-02-02",
            "gender": "F",
            "restricted": True,
        }
        created = await client.post(f"{API}/patients", json=body, headers=headers)
        assert created.status_code == 403, role
        changed = await client.put(
            f"{API}/patients/{w.o.id}", json={"restricted": True}, headers=headers
        )
        assert changed.status_code == 403, role
        count("mass_assignment_fields", 2)
    # Nor the patient itself, nor through GraphQL.
    portal = await client.put(
        f"{API}/patients/{w.o.id}", json={"restricted": True}, headers=w.of(Role.PATIENT)
    )
    assert portal.status_code == 403
    mutation = """mutation($id: ID!) {
      updatePatient(id: $id, input: {restricted: true}) { id restricted } }"""
    body = await gql(client, mutation, {"id": w.o.id}, headers=w.of(Role.NURSE))
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    record = await client.get(f"{API}/patients/{w.o.id}", headers=w.of(Role.ADMIN))
    assert record.json()["restricted"] is False
    # An administrator may, both ways.
    for value in (True, False):
        done = await client.put(
            f"{API}/patients/{w.o.id}", json={"restricted": value}, headers=w.of(Role.ADMIN)
        )
        assert done.status_code == 200 and done.json()["restricted"] is value


async def test_a_role_claimed_in_the_token_is_not_trusted(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    w = await build(client, runtime)
    token = w.of(Role.PATIENT)["Authorization"].removeprefix("Bearer ")
    promoted = resign(token, runtime.auth, role="admin")
    headers = {"Authorization": f"Bearer {promoted}"}
    trail = (await client.get(f"{API}/audit?limit=100", headers=headers)).json()["entries"]
    assert trail and {e["patient_id"] for e in trail} == {w.o.id}  # its own record's only
    me = await client.get("/auth/me", headers=headers)
    assert me.json()["role"] == "patient"
    assert (await client.get(f"{API}/patients/{w.r.id}", headers=headers)).status_code == 404
    assert (await client.get(f"{API}/emergency-access", headers=headers)).status_code == 403
