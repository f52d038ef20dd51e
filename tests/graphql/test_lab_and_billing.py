"""Laboratory orders and results, charges and claims over GraphQL: the same records, scope and
permissions as REST, money as exact decimals, and nested lists loaded in batches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from hms.app import create_app
from hms.auth.permissions import Role
from hms.config import Settings
from hms.runtime import Runtime
from tests.billing.support import Desk, charge, claim, desk, insure, portal, staff
from tests.graphql.support import codes, gql, statements
from tests.laboratory.support import ORDERS, one, seed_order

LAB = """
query Lab($id: ID!, $patient: ID!) {
  labOrder(id: $id) { id orderNumber status tests { testCode status } provider { lastName } }
  labOrders(patientId: $patient) { total orders { id } }
  labResults(orderId: $id) {
    orderNumber
    results { testCode status components { component result unit referenceRange flag status } }
  }
}
"""
RESULTS = """
query R($id: ID!) { labResults(orderId: $id) { results { testCode components { result } } } }
"""
BILLING = """
query Billing($charge: ID!, $claim: ID!, $patient: ID!) {
  charge(id: $charge) { chargeNumber unitPrice totalAmount insuranceAmount patientAmount status }
  charges(patientId: $patient, status: "billed") { total charges { id } }
  claim(id: $claim) { claimNumber charges totalAmount patientResponsibility status }
  claims(patientId: $patient) { total claims { id } }
}
"""
NESTED = """
query Nested($id: ID!) {
  patient(id: $id) {
    labOrders { id orderNumber provider { lastName } }
    charges { id totalAmount }
    claims { id totalAmount }
  }
}
"""
MINE = "query { charges { total charges { patientId } } labOrders { total orders { patientId } } }"


async def _order(client: httpx.AsyncClient, d: Desk, tests: list[str]) -> dict[str, Any]:
    body = seed_order(d.patient["id"], None, tests=[{"test_code": code} for code in tests])
    response = await client.post(ORDERS, json=body, headers=d.doctor)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _enter(
    client: httpx.AsyncClient, headers: dict[str, str], order: dict[str, Any], body: Any
) -> None:
    response = await client.post(f"{ORDERS}/{order['id']}/results", json=body, headers=headers)
    assert response.status_code == 200, response.text


async def test_lab_orders_and_results_read_as_over_rest(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    tech = await staff(client, runtime, Role.LAB_TECHNICIAN)
    order = await _order(client, d, ["CBC", "TSH"])
    await _enter(client, tech, order, one("CBC", ("WBC", "7.5"), ("Hemoglobin", "6.1")))

    body = await gql(client, LAB, {"id": order["id"], "patient": d.patient["id"]}, d.doctor)
    assert "errors" not in body, body
    data = body["data"]
    rest = (await client.get(f"{ORDERS}/{order['id']}/results", headers=d.doctor)).json()
    assert data["labOrder"]["orderNumber"] == order["order_number"]
    assert data["labOrder"]["status"] == "in_progress"
    assert data["labOrder"]["provider"]["lastName"]
    assert data["labOrders"] == {"total": 1, "orders": [{"id": order["id"]}]}
    assert data["labResults"]["orderNumber"] == order["order_number"]
    keys = ("component", "result", "unit", "reference_range", "flag", "status")
    assert data["labResults"]["results"] == [
        {
            "testCode": test["test_code"],
            "status": test["status"],
            "components": [
                {"referenceRange" if k == "reference_range" else k: c[k] for k in keys}
                for c in test["components"]
            ],
        }
        for test in rest["results"]
    ]
    assert {c["flag"] for c in data["labResults"]["results"][0]["components"]} != {None}


async def test_charges_and_claims_read_with_exact_money(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    await insure(client, d)
    billed = await charge(client, d)
    pending = await charge(client, d)
    submitted = await claim(client, d, [billed["id"]])
    variables = {"charge": billed["id"], "claim": submitted["id"], "patient": d.patient["id"]}

    body = await gql(client, BILLING, variables, d.billing)
    assert "errors" not in body, body
    data = body["data"]
    got = data["charge"]
    assert got["chargeNumber"] == billed["charge_number"] and got["status"] == "billed"
    for name, field in (("unit_price", "unitPrice"), ("total_amount", "totalAmount")):
        # A string with the stored cents, so no client ever sees a binary float.
        assert isinstance(got[field], str)
        assert Decimal(got[field]) == Decimal(str(billed[name]))
        assert got[field] == f"{Decimal(str(billed[name])):.2f}"
    assert data["charges"] == {"total": 1, "charges": [{"id": billed["id"]}]}
    assert data["claim"]["claimNumber"] == submitted["claim_number"]
    assert data["claim"]["charges"] == [billed["id"]]
    assert Decimal(data["claim"]["totalAmount"]) == Decimal(str(submitted["total_amount"]))
    assert data["claims"] == {"total": 1, "claims": [{"id": submitted["id"]}]}
    assert pending["id"] not in str(data["charges"])


async def _count(
    client: httpx.AsyncClient, runtime: Runtime, patient: str, headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    with statements(runtime) as seen:
        body = await gql(client, NESTED, {"id": patient}, headers)
    assert "errors" not in body, body
    return len(seen), body["data"]["patient"]


async def test_patient_lab_orders_charges_and_claims_load_in_batches(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    admin = await staff(client, runtime, Role.ADMIN)
    few, many = await desk(client, runtime), await desk(client, runtime)
    for d, items in ((few, 1), (many, 10)):
        await insure(client, d)
        for _ in range(items):
            await _order(client, d, ["CBC"])
            await claim(client, d, [(await charge(client, d))["id"]])

    small, data = await _count(client, runtime, few.patient["id"], admin)
    assert [len(data[k]) for k in ("labOrders", "charges", "claims")] == [1, 1, 1]
    large, data = await _count(client, runtime, many.patient["id"], admin)
    assert [len(data[k]) for k in ("labOrders", "charges", "claims")] == [10, 10, 10]
    assert {o["provider"]["lastName"] for o in data["labOrders"]} != {None}
    assert large == small


async def test_a_receptionist_may_not_read_lab_results(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    order = await _order(client, d, ["CBC"])
    receptionist = await staff(client, runtime, Role.RECEPTIONIST)
    body = await gql(client, RESULTS, {"id": order["id"]}, receptionist)
    assert body["data"] == {"labResults": None}
    assert codes(body) == ["FORBIDDEN"]
    rest = await client.get(f"{ORDERS}/{order['id']}/results", headers=receptionist)
    assert rest.status_code == 403


async def test_a_patient_user_sees_its_own_records_and_final_results_only(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    mine, theirs = await desk(client, runtime), await desk(client, runtime)
    tech = await staff(client, runtime, Role.LAB_TECHNICIAN)
    order = await _order(client, mine, ["CBC", "TSH"])
    await _enter(client, tech, order, one("CBC", ("WBC", "7.5")))
    await _enter(client, tech, order, one("TSH", ("TSH", "9.9"), status="preliminary"))
    other = await _order(client, theirs, ["CBC"])
    await charge(client, mine)
    await charge(client, theirs)
    me = await portal(client, runtime, mine.patient["patient_id"])

    body = await gql(client, MINE, headers=me)
    assert "errors" not in body, body
    own = mine.patient["id"]
    assert [c["patientId"] for c in body["data"]["charges"]["charges"]] == [own]
    assert [o["patientId"] for o in body["data"]["labOrders"]["orders"]] == [own]
    results = await gql(client, RESULTS, {"id": order["id"]}, me)
    assert "errors" not in results, results
    assert [r["testCode"] for r in results["data"]["labResults"]["results"]] == ["CBC"]
    shown = [c["result"] for r in results["data"]["labResults"]["results"] for c in r["components"]]
    assert "9.9" not in shown
    refused = await gql(client, RESULTS, {"id": other["id"]}, me)
    assert codes(refused) == ["NOT_FOUND"]
    nested = await gql(client, NESTED, {"id": theirs.patient["id"]}, me)
    assert codes(nested) == ["NOT_FOUND"]


@pytest.fixture
async def strict(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a shallow depth limit and a small cost budget."""
    strict_settings = settings.model_copy(
        update={"graphql_max_depth": 2, "graphql_max_complexity": 50}
    )
    app = create_app(strict_settings, runtime)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def test_depth_and_cost_limits_cover_the_new_fields(
    strict: httpx.AsyncClient, runtime: Runtime
) -> None:
    billing = await staff(strict, runtime, Role.ADMIN)
    costly = """
    query { patients(limit: 100) { patients { charges { id } claims { id } labOrders { id } } } }
    """
    with statements(runtime) as seen:
        deep = await gql(strict, NESTED, {"id": "P20260001"}, billing)
        expensive = await gql(strict, costly, headers=billing)
    assert codes(deep) == ["BAD_REQUEST"] and deep.get("data") is None
    assert set(codes(expensive)) == {"BAD_REQUEST"} and expensive.get("data") is None
    assert seen == []
