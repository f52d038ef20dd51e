"""Who does what: clinicians order, laboratory staff collect and result, readers read, a patient
sees its own final results only. Every touch is audited with the patient; every resulted test
is announced, marked critical on LL/HH."""

from __future__ import annotations

import asyncio

import httpx

from hms.auth.permissions import Role
from hms.events import DomainEvent
from hms.runtime import Runtime
from tests.laboratory.support import (
    ORDERS,
    enter,
    error_of,
    lab,
    one,
    place,
    portal,
    seed_order,
    staff,
)


async def test_roles(client: httpx.AsyncClient, runtime: Runtime) -> None:
    setup = await lab(client, runtime)
    order = await place(client, setup, ["CBC"])
    url = f"{ORDERS}/{order['id']}"
    body = seed_order(setup.patient["id"], setup.doctor.provider_id)

    # A technician results but does not order.
    error_of(await client.post(ORDERS, json=body, headers=setup.tech.headers), 403, "FORBIDDEN")
    for role in (Role.RECEPTIONIST, Role.BILLING):
        outsider = (await staff(client, runtime, role)).headers
        for response in (
            await client.get(ORDERS, headers=outsider),
            await client.get(url, headers=outsider),
            await client.get(f"{url}/results", headers=outsider),
            await client.post(ORDERS, json=body, headers=outsider),
            await client.post(f"{url}/collect", headers=outsider),
            await client.post(f"{url}/results", json=one("CBC", ("WBC", "5")), headers=outsider),
            await client.post(f"{url}/cancel", headers=outsider),
        ):
            assert error_of(response, 403, "FORBIDDEN")["details"]["permission"].startswith("lab:")
    # Clinicians, pharmacists and administrators read but do not enter results.
    for role in (Role.DOCTOR, Role.NURSE, Role.PHARMACIST, Role.ADMIN):
        reader = (await staff(client, runtime, role)).headers
        assert (await client.get(f"{url}/results", headers=reader)).status_code == 200
        refused = await client.post(f"{url}/results", json=one("CBC", ("WBC", "5")), headers=reader)
        assert error_of(refused, 403, "FORBIDDEN")["details"]["permission"] == "lab:results:enter"
    nurse = await staff(client, runtime, Role.NURSE)
    ordered = await client.post(ORDERS, json=body, headers=nurse.headers)
    assert ordered.status_code == 201 and ordered.json()["provider_id"] == setup.doctor.provider_id
    assert (await client.get(url)).status_code == 401


async def test_a_patient_sees_its_own_final_results_only(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    setup = await lab(client, runtime)
    order = await place(client, setup, ["CBC", "TSH", "HBA1C"])
    await enter(client, setup, order, one("CBC", ("WBC", "7.5")))
    await enter(client, setup, order, one("TSH", ("TSH", "9.9"), status="preliminary"))
    other_patient = await lab(client, runtime)
    theirs = await place(client, other_patient, ["CBC"])
    me = await portal(client, runtime, setup.patient["patient_id"])

    mine = await client.get(f"{ORDERS}/{order['id']}/results", headers=me)
    assert mine.status_code == 200
    assert [r["test_code"] for r in mine.json()["results"]] == ["CBC"]
    assert "9.9" not in [c["result"] for r in mine.json()["results"] for c in r["components"]]
    listed = await client.get(ORDERS, headers=me)
    assert [o["id"] for o in listed.json()["orders"]] == [order["id"]]
    for url in (f"{ORDERS}/{theirs['id']}", f"{ORDERS}/{theirs['id']}/results"):
        error_of(await client.get(url, headers=me), 404, "NOT_FOUND")
    error_of(
        await client.post(ORDERS, json=seed_order(setup.patient["id"], None), headers=me),
        403,
        "FORBIDDEN",
    )
    await enter(client, setup, order, one("TSH", ("TSH", "9.8")))
    released = (await client.get(f"{ORDERS}/{order['id']}/results", headers=me)).json()
    assert [r["test_code"] for r in released["results"]] == ["CBC", "TSH"]


async def test_every_touch_is_audited_with_the_patient(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    setup = await lab(client, runtime)
    admin = (await staff(client, runtime, Role.ADMIN)).headers
    order = await place(client, setup, ["CBC"])
    url = f"{ORDERS}/{order['id']}"
    await client.get(url, headers=setup.tech.headers)
    await client.get(ORDERS, params={"patient_id": setup.patient["id"]}, headers=setup.tech.headers)
    await client.post(f"{url}/collect", headers=setup.tech.headers)
    await enter(client, setup, order, one("CBC", ("Hemoglobin", "6.1")))
    response = await client.get(
        "/api/v1/audit", params={"limit": 100, "resource_type": "lab_order"}, headers=admin
    )
    entries = response.json()["entries"]
    assert sorted(e["action"] for e in entries) == [
        "lab_order.collect",
        "lab_order.create",
        "lab_order.list",
        "lab_order.read",
        "lab_results.enter",
        "lab_results.read",  # the results request answers with the results
    ]
    for entry in entries:
        assert entry["patient_id"] == setup.patient["id"]
        assert entry["resource_id"] == order["id"]
    enter_entry = next(e for e in entries if e["action"] == "lab_results.enter")
    assert enter_entry["details"] == {"tests": ["CBC"], "flags": ["LL"]}
    # The value itself is never recorded (timestamps may contain "6.1" by chance, so look at
    # what the entries say, not at their clocks).
    assert all("6.1" not in str(e["details"]) for e in entries)
    assert all(value != "6.1" for e in entries for value in e.values())


async def test_each_resulted_test_is_announced_critical_when_it_is(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    setup = await lab(client, runtime)
    order = await place(client, setup, ["CBC", "BMP"])
    received: list[DomainEvent] = []
    ready = asyncio.Event()

    async def listen() -> None:
        stream = runtime.broker.subscribe()
        next_event = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0)
        ready.set()
        while True:
            event = await next_event
            if event.type == "lab_result_available":
                received.append(event)
                if len(received) == 2:
                    return
            next_event = asyncio.ensure_future(anext(stream))

    listener = asyncio.create_task(listen())
    await ready.wait()
    refused = await client.post(
        f"{ORDERS}/{order['id']}/results", json=one("TSH", ("TSH", "1")), headers=setup.tech.headers
    )
    assert refused.status_code == 422
    body = one("CBC", ("WBC", "7.5"))
    body["results"] += one("BMP", ("Potassium", "6.9"), ("Sodium", "140"))["results"]
    await enter(client, setup, order, body)
    await asyncio.wait_for(listener, timeout=5)

    by_test = {e.data["result"]["test_code"]: e for e in received}
    assert set(by_test) == {"CBC", "BMP"}
    assert by_test["CBC"].data["result"]["critical"] is False
    assert by_test["BMP"].data["result"]["critical"] is True
    for event in received:
        result = event.data["result"]
        assert event.patient_id == result["patient_id"] == setup.patient["id"]
        assert event.resource_id == result["order_id"] == order["id"]
        assert result["order_number"] == order["order_number"]
    potassium = by_test["BMP"].data["result"]["components"][0]
    assert (potassium["component"], potassium["result"], potassium["flag"]) == (
        "Potassium",
        "6.9",
        "HH",
    )
