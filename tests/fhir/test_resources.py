"""Every resource type served: searched by patient, read back by id, found in
`Patient/$everything`, and each one valid against the FHIR R4 models."""

from __future__ import annotations

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.appointments.support import SEED_DAY
from tests.fhir.support import FHIR, fhir_get, full_record, ids, matches, outcome_of, staff


async def test_every_type_searched_read_and_in_everything(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    made, expected = await full_record(client, runtime)
    admin = (await staff(client, runtime, Role.ADMIN)).headers
    pid = made.patient["id"]
    for kind, id_ in expected.items():
        bundle = await fhir_get(client, kind, admin, patient=pid)
        assert ids(bundle) == [id_], kind
        assert await fhir_get(client, f"{kind}/{id_}", admin) == matches(bundle)[0], kind

    rx = await fhir_get(client, f"MedicationRequest/{expected['MedicationRequest']}", admin)
    assert rx["status"] == "active" and rx["intent"] == "order"
    assert rx["medicationCodeableConcept"]["coding"][0]["system"] == "http://hl7.org/fhir/sid/ndc"
    assert (await fhir_get(client, "MedicationRequest", admin, patient=pid, status="completed"))[
        "total"
    ] == 0

    report = await fhir_get(client, f"DiagnosticReport/{made.order['id']}", admin)
    assert report["status"] == "final" and len(report["result"]) == 3
    for reference in report["result"]:
        await fhir_get(client, reference["reference"], admin)

    allergies = matches(await fhir_get(client, "AllergyIntolerance", admin, patient=pid))
    assert [a["code"]["text"] for a in allergies] == ["Latex", "Peanuts"]
    assert allergies[1]["reaction"][0]["severity"] == "severe"
    await fhir_get(client, f"AllergyIntolerance/{allergies[1]['id']}", admin)

    everything = await fhir_get(client, f"Patient/{pid}/$everything", admin)
    kinds = {r["resourceType"] for r in matches(everything)}
    assert kinds == set(expected) | {
        "Patient",
        "AllergyIntolerance",
        "Encounter",
        "Condition",
        "Observation",
    }
    assert everything["total"] == len(everything["entry"])


async def test_free_slots_of_a_schedule(client: httpx.AsyncClient, runtime: Runtime) -> None:
    made, _ = await full_record(client, runtime)
    headers = made.doctor.headers
    schedule = f"Schedule/{made.doctor.provider_id}"
    params = {"schedule": schedule, "start": [f"ge{SEED_DAY}", f"le{SEED_DAY}"], "_count": 100}
    response = await client.get(f"{FHIR}/Slot", params=params, headers=headers)
    assert response.status_code == 200, response.text
    slots = matches(response.json())
    starts = [s["start"] for s in slots]
    # 08:00-17:00 in 30-minute slots, but for the 14:00 booking.
    assert len(slots) == 17 and f"{SEED_DAY}T14:00:00Z" not in starts
    assert starts[0] == f"{SEED_DAY}T08:00:00Z"
    assert await fhir_get(client, f"Slot/{slots[0]['id']}", headers) == slots[0]
    taken = f"{made.doctor.provider_id}-{SEED_DAY.replace('-', '')}1400-30"
    outcome_of(await client.get(f"{FHIR}/Slot/{taken}", headers=headers), 404)
    outcome_of(await client.get(f"{FHIR}/Slot", headers=headers), 400)


async def test_search_parameters_of_orders_visits_and_billing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    made, made_ids = await full_record(client, runtime)
    admin = (await staff(client, runtime, Role.ADMIN)).headers
    pid = made.patient["id"]
    today = made.order["ordered_at"][:10]
    # (type, parameters that find the record, parameters that do not)
    cases = [
        ("MedicationRequest", {"status": "active", "authoredon": today}, {"status": "stopped"}),
        (
            "ServiceRequest",
            {"status": "completed", "authored": f"ge{today}"},
            {"status": "revoked"},
        ),
        ("DiagnosticReport", {"status": "final", "date": f"le{today}"}, {"date": f"gt{today}"}),
        (
            "Appointment",
            {
                "status": "booked",
                "date": SEED_DAY,
                "practitioner": f"Practitioner/{made.doctor.provider_id}",
            },
            {"date": f"lt{SEED_DAY}"},
        ),
        ("ChargeItem", {"occurrence": "ge2000"}, {"occurrence": "lt2000"}),
        ("Claim", {"created": today[:7]}, {"created": "2000"}),
    ]
    for kind, found, missed in cases:
        bundle = await fhir_get(client, kind, admin, patient=pid, **found)
        assert ids(bundle) == [made_ids[kind]], (kind, found)
        assert (await fhir_get(client, kind, admin, patient=pid, **missed))["total"] == 0, kind
        by_id = await fhir_get(client, kind, admin, _id=made_ids[kind])
        assert ids(by_id) == [made_ids[kind]], kind
