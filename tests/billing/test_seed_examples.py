"""The API document's charge and claim requests, sent as written with real ids, succeed and
answer with every documented field; amounts come back as the document prints them."""

from __future__ import annotations

import httpx

from hms.runtime import Runtime
from tests.billing.support import CHARGES, CLAIMS, desk, seed_charge, seed_claim
from tests.seed_examples import request_body, response_body

BASE = "http://testserver/api/v1"


async def test_seed_charge_is_created_with_every_documented_field(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    sent = seed_charge(d)
    response = await client.post(CHARGES, json=sent, headers=d.billing)
    assert response.status_code == 201, response.text
    created = response.json()

    documented = response_body("#### Create Billing Charge")
    assert set(documented) <= set(created)
    assert set(documented["_links"]) <= set(created["_links"])
    for name, value in sent.items():
        assert created[name] == value, name
    assert created["status"] == "pending"
    assert created["charge_number"].startswith("CHG") and len(created["charge_number"]) == 11
    # Exactly as the document prints them: two decimals, as JSON numbers.
    for name in ("unit_price", "total_amount"):
        assert f'"{name}":100.00' in response.text
    assert '"insurance_amount":80.00' in response.text
    assert '"patient_amount":20.00' in response.text
    assert '"quantity":1,' in response.text

    assert created["_links"]["self"]["href"] == f"{BASE}/billing/charges/{created['id']}"
    assert created["_links"]["patient"]["href"] == f"{BASE}/patients/{d.patient['id']}"
    assert created["_links"]["encounter"]["href"] == f"{BASE}/clinical/encounters/{d.encounter_id}"
    assert response.headers["Location"] == created["_links"]["self"]["href"]
    assert response.headers["ETag"] == '"1"'

    for ref in (created["id"], created["charge_number"]):
        fetched = await client.get(f"{CHARGES}/{ref}", headers=d.billing)
        assert fetched.status_code == 200
        assert fetched.json() == created


async def test_seed_claim_is_submitted_for_the_created_charge(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    created = (await client.post(CHARGES, json=seed_charge(d), headers=d.billing)).json()
    sent = seed_claim(d, [created["id"]])
    assert set(sent) == set(request_body("POST /api/v1/billing/claims"))
    response = await client.post(CLAIMS, json=sent, headers=d.billing)
    assert response.status_code == 201, response.text
    claim = response.json()
    for name, value in sent.items():
        assert claim[name] == value, name
    assert claim["status"] == "submitted"
    assert claim["claim_number"].startswith("CLM")
    assert claim["submitted_at"].endswith("Z")
    assert '"total_amount":100.00' in response.text
    assert '"patient_responsibility":20.00' in response.text
    assert claim["_links"]["self"]["href"] == f"{BASE}/billing/claims/{claim['id']}"
    assert claim["_links"]["charges"] == [{"href": f"{BASE}/billing/charges/{created['id']}"}]
    assert response.headers["Location"] == claim["_links"]["self"]["href"]

    billed = await client.get(f"{CHARGES}/{created['id']}", headers=d.billing)
    assert billed.json()["status"] == "billed"
    fetched = await client.get(f"{CLAIMS}/{claim['claim_number']}", headers=d.billing)
    assert fetched.status_code == 200 and fetched.json() == claim
