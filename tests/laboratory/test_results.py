"""Order status follows its tests; results refused for cancelled orders and foreign tests;
corrections keep the earlier value; results are stored a row per component for queries."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from hms.laboratory.models import LabResult
from hms.runtime import Runtime
from tests.laboratory.support import (
    ORDERS,
    components,
    enter,
    error_of,
    lab,
    one,
    place,
    refused_field,
)


async def test_status_follows_the_tests(client: httpx.AsyncClient, runtime: Runtime) -> None:
    setup = await lab(client, runtime)
    order = await place(client, setup, ["HBA1C", "TSH"])
    url = f"{ORDERS}/{order['id']}"
    tech = setup.tech.headers

    collected = await client.post(f"{url}/collect", json={"test_codes": ["tsh"]}, headers=tech)
    assert collected.status_code == 200, collected.text
    tests = {t["test_code"]: t for t in collected.json()["tests"]}
    assert collected.json()["status"] == "collected"
    assert tests["TSH"]["status"] == "collected" and tests["TSH"]["collected_at"]
    assert tests["HBA1C"]["status"] == "ordered"

    await enter(client, setup, order, one("TSH", ("TSH", "2.1"), status="preliminary"))
    current = (await client.get(url, headers=tech)).json()
    assert current["status"] == "in_progress"
    assert {t["test_code"]: t["status"] for t in current["tests"]} == {
        "HBA1C": "ordered",
        "TSH": "in_progress",
    }
    await enter(client, setup, order, one("TSH", ("TSH", "2.2")))
    got = await enter(client, setup, order, one("HBA1C", ("Hemoglobin A1c", "6.1")))
    assert got["status"] == "completed" and got["completed_at"]
    final = (await client.get(url, headers=tech)).json()
    assert final["status"] == "completed"
    assert {t["status"] for t in final["tests"]} == {"completed"}
    # The result entered without a collection step implies the specimen was taken.
    assert all(t["collected_at"] for t in final["tests"])

    listed = await client.get(
        ORDERS,
        params={"patient_id": setup.patient["patient_id"], "status": "completed"},
        headers=tech,
    )
    assert [o["id"] for o in listed.json()["orders"]] == [order["id"]]
    assert listed.json()["total"] == 1

    refused = await client.post(f"{url}/cancel", json={"reason": "too late"}, headers=tech)
    error_of(refused, 409, "CONFLICT")


async def test_no_results_for_a_cancelled_order_or_a_foreign_test(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    setup = await lab(client, runtime)
    order = await place(client, setup, ["CBC"])
    url = f"{ORDERS}/{order['id']}"
    tech = setup.tech.headers

    unknown = await client.post(f"{url}/results", json=one("XYZ", ("A", "1")), headers=tech)
    assert refused_field(unknown) == "results.0.test_code"
    assert "XYZ" in unknown.json()["error"]["details"]["error"]
    elsewhere = await client.post(f"{url}/results", json=one("TSH", ("TSH", "1")), headers=tech)
    assert refused_field(elsewhere) == "results.0.test_code"
    assert "not on this order" in elsewhere.json()["error"]["details"]["error"]
    collect = await client.post(f"{url}/collect", json={"test_codes": ["UA"]}, headers=tech)
    assert refused_field(collect) == "test_codes.0"

    cancelled = await client.post(
        f"{url}/cancel", json={"reason": "Patient left"}, headers=setup.doctor.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "Patient left"
    assert {t["status"] for t in cancelled.json()["tests"]} == {"cancelled"}
    again = await client.post(f"{url}/cancel", headers=setup.doctor.headers)
    assert again.status_code == 200 and again.json() == cancelled.json()

    refused = await client.post(f"{url}/results", json=one("CBC", ("WBC", "5")), headers=tech)
    assert "cancelled" in error_of(refused, 409, "CONFLICT")["message"]
    error_of(await client.post(f"{url}/collect", headers=tech), 409, "CONFLICT")
    results = await client.get(f"{url}/results", headers=tech)
    assert results.json()["results"] == [] and results.json()["status"] == "cancelled"


async def test_unknown_orders_and_test_codes(client: httpx.AsyncClient, runtime: Runtime) -> None:
    setup = await lab(client, runtime)
    for ref in (str(uuid.uuid4()), "LAB20990001", "nonsense"):
        response = await client.get(f"{ORDERS}/{ref}/results", headers=setup.tech.headers)
        error_of(response, 404, "NOT_FOUND")
    body = {
        "patient_id": setup.patient["id"],
        "tests": [{"test_code": "CBC"}, {"test_code": "NOPE"}],
    }
    response = await client.post(ORDERS, json=body, headers=setup.doctor.headers)
    assert refused_field(response) == "tests.1.test_code"
    body["tests"] = [{"test_code": "CBC"}]
    body["diagnoses"] = ["Z99.999"]
    response = await client.post(ORDERS, json=body, headers=setup.doctor.headers)
    assert refused_field(response) == "diagnoses.0"
    body["diagnoses"], body["priority"] = [], "whenever"
    assert refused_field(await client.post(ORDERS, json=body, headers=setup.doctor.headers)) == (
        "priority"
    )


async def test_a_correction_keeps_the_earlier_value(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    setup = await lab(client, runtime)
    order = await place(client, setup, ["BMP"])
    first = components(await enter(client, setup, order, one("BMP", ("Potassium", "6.5"))), "BMP")
    assert (first["Potassium"]["status"], first["Potassium"]["flag"]) == ("final", "HH")
    assert first["Potassium"]["previous"] == []

    corrected = await enter(client, setup, order, one("BMP", ("Potassium", "4.4")))
    potassium = components(corrected, "BMP")["Potassium"]
    assert potassium["status"] == "corrected"
    assert (potassium["result"], potassium["flag"]) == ("4.4", None)
    assert potassium["resulted_by"] == setup.tech.user["username"]
    [earlier] = potassium["previous"]
    assert (earlier["result"], earlier["flag"], earlier["status"]) == ("6.5", "HH", "final")
    assert earlier["resulted_by"] == setup.tech.user["username"]
    assert earlier["resulted_at"] <= potassium["resulted_at"]

    async with runtime.sessionmaker() as session:
        rows = list(
            (
                await session.execute(
                    select(LabResult).where(LabResult.patient_id == uuid.UUID(setup.patient["id"]))
                )
            ).scalars()
        )
    assert len(rows) == 1
    row = rows[0]
    assert (row.test_code, row.component, row.loinc_code) == ("BMP", "Potassium", "2823-3")
    assert (row.value_numeric, row.unit, row.flag, row.status) == (4.4, "mmol/L", None, "corrected")


async def test_results_are_stored_for_queries(client: httpx.AsyncClient, runtime: Runtime) -> None:
    setup = await lab(client, runtime)
    order = await place(client, setup, ["HBA1C", "UA"])
    body = one("HBA1C", ("HbA1c", "7.2"))
    body["results"] += one("UA", ("Protein", "positive"), ("pH", "<4.5"))["results"]
    await enter(client, setup, order, body)
    async with runtime.sessionmaker() as session:
        rows = {
            r.component: r
            for r in (
                await session.execute(
                    select(LabResult).where(LabResult.order_id == uuid.UUID(order["id"]))
                )
            ).scalars()
        }
    a1c = rows["Hemoglobin A1c"]
    assert (a1c.loinc_code, a1c.value_numeric, a1c.unit, a1c.flag) == ("4548-4", 7.2, "%", "H")
    assert str(a1c.patient_id) == setup.patient["id"] and a1c.resulted_at is not None
    assert (rows["Protein"].value_numeric, rows["Protein"].flag) == (None, "A")
    assert (rows["pH"].result, rows["pH"].value_numeric, rows["pH"].flag) == ("<4.5", None, "L")
