"""The API document's laboratory examples, sent as written, answer in its shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import make_patient
from tests.laboratory.support import ORDERS, seed_order, seed_results, staff
from tests.seed_examples import response_body


async def test_seed_order_returns_every_documented_field(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await make_patient(client, doctor.headers)
    sent = seed_order(patient["id"], doctor.provider_id)
    before = datetime.now(UTC)
    response = await client.post(ORDERS, json=sent, headers=doctor.headers)
    assert response.status_code == 201, response.text
    created = response.json()

    documented = response_body("#### Create Laboratory Order")
    assert set(documented) <= set(created)
    assert set(documented["_links"]) <= set(created["_links"])
    assert created["order_number"].startswith(f"LAB{datetime.now(UTC).year}")
    assert len(created["order_number"]) == 11
    for name in (
        "patient_id",
        "provider_id",
        "ordering_location",
        "priority",
        "clinical_information",
        "diagnoses",
        "notes",
        "collection_date",
    ):
        assert created[name] == sent[name], name
    for given, got, shown in zip(sent["tests"], created["tests"], documented["tests"], strict=True):
        assert {k: got[k] for k in shown} == given | {"status": "ordered"}
    assert created["status"] == "ordered"
    ordered_at = datetime.fromisoformat(created["ordered_at"])
    assert before - timedelta(seconds=5) <= ordered_at <= datetime.now(UTC)

    base = "http://testserver/api/v1"
    url = f"{base}/laboratory/orders/{created['id']}"
    assert created["_links"]["self"]["href"] == url
    assert created["_links"]["patient"]["href"] == f"{base}/patients/{patient['id']}"
    assert created["_links"]["provider"]["href"] == f"{base}/providers/{doctor.provider_id}"
    assert created["_links"]["results"]["href"] == f"{url}/results"
    assert response.headers["Location"] == url
    for link in ("self", "patient", "provider", "results"):
        followed = await client.get(created["_links"][link]["href"], headers=doctor.headers)
        assert followed.status_code == 200, link

    fetched = await client.get(f"{ORDERS}/{created['order_number']}", headers=doctor.headers)
    assert fetched.json() == created


async def test_seed_results_come_back_in_the_documented_shape_with_computed_flags(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    tech = await staff(client, runtime, Role.LAB_TECHNICIAN)
    patient = await make_patient(client, doctor.headers)
    order = (
        await client.post(ORDERS, json=seed_order(patient["id"], None), headers=doctor.headers)
    ).json()
    assert order["provider_id"] == doctor.provider_id

    body = seed_results() | {
        "pathologist_id": doctor.provider_id,
        "notes": "All results within normal limits",
    }
    url = f"{ORDERS}/{order['id']}/results"
    entered = await client.post(url, json=body, headers=tech.headers)
    assert entered.status_code == 200, entered.text
    got = entered.json()
    assert (await client.get(url, headers=doctor.headers)).json() == got

    documented = response_body("#### Get Laboratory Results")
    assert set(documented) <= set(got)
    assert got["order_id"] == order["id"] and got["patient_id"] == patient["id"]
    assert got["pathologist_id"] == doctor.provider_id
    assert got["notes"] == documented["notes"]
    assert [r["test_code"] for r in got["results"]] == ["CMP", "CBC"]
    for shown, result in zip(documented["results"], got["results"], strict=True):
        assert set(shown) <= set(result)
        assert result["test_name"] == shown["test_name"]
        assert result["status"] == "completed"
        assert result["resulted_at"].endswith("Z")
        for want, have in zip(shown["components"], result["components"], strict=True):
            assert {k: have[k] for k in want} == want
    # LIP has no results yet, so the order is in progress, not completed.
    assert got["status"] == "in_progress" and got["completed_at"] is None

    # The same values made abnormal get flags the request never carried.
    body["results"][0]["components"][0]["result"] = "35"
    body["results"][1]["components"][2]["result"] = "12.0"
    again = (await client.post(url, json=body, headers=tech.headers)).json()
    flags = {c["component"]: c["flag"] for r in again["results"] for c in r["components"]}
    assert flags == {
        "Glucose": "LL",
        "BUN": None,
        "Creatinine": None,
        "WBC": None,
        "RBC": None,
        "Hemoglobin": "L",
    }
