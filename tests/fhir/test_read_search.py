"""Read and search over /fhir/R4: every answer validates against the FHIR R4 models, and the
mapping carries our codes (ICD-10-CM, LOINC, NPI, the patient number)."""

from __future__ import annotations

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.fhir.support import FHIR, fhir_get, ids, link, matches, outcome_of, record, staff, valid

SAMPLES = {
    "token": "x",
    "string": "x",
    "date": "ge2024-01-01",
    "reference": "Patient/00000000-0000-0000-0000-000000000001",
}


async def test_metadata_lists_exactly_what_is_served(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    statement = await fhir_get(client, "metadata", {})
    assert statement["fhirVersion"] == "4.0.1"
    served = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(served) == {
        "Patient",
        "Practitioner",
        "Encounter",
        "Condition",
        "Observation",
        "AllergyIntolerance",
        "MedicationRequest",
        "ServiceRequest",
        "DiagnosticReport",
        "Appointment",
        "Slot",
        "ChargeItem",
        "Claim",
    }
    assert {p["name"] for p in served["Patient"]["searchParam"]} == {
        "_id",
        "identifier",
        "name",
        "birthdate",
    }
    admin = (await staff(client, runtime, Role.ADMIN)).headers
    required = {
        "Slot": {"schedule": "Schedule/00000000-0000-0000-0000-000000000001"},
        "AllergyIntolerance": {"patient": SAMPLES["reference"]},
    }
    for name, resource in served.items():
        assert {i["code"] for i in resource["interaction"]} == {"read", "search-type"}
        # Every listed parameter is accepted; one not listed is refused.
        for param in resource["searchParam"]:
            params = {**required.get(name, {}), param["name"]: SAMPLES[param["type"]]}
            if param["name"] == "schedule":
                params[param["name"]] = required["Slot"]["schedule"]
            await fhir_get(client, name, admin, **params)
        response = await client.get(f"{FHIR}/{name}", params={"_bogus": "1"}, headers=admin)
        assert "_bogus" in outcome_of(response, 400)["issue"][0]["diagnostics"]


async def test_patient_read_and_search(client: httpx.AsyncClient, runtime: Runtime) -> None:
    made = await record(client, runtime, lab=False, first_name="Zoë", last_name="Quimby")
    headers = made.doctor.headers
    patient = await fhir_get(client, f"Patient/{made.patient['id']}", headers)
    assert patient["name"][0] == {"use": "official", "family": "Quimby", "given": ["Zoë"]}
    assert patient["gender"] == "male" and patient["birthDate"] == "1990-01-15"
    number = made.patient["patient_id"]
    assert patient["identifier"][0]["system"] == "urn:hms:patient-number"
    assert patient["identifier"][0]["value"] == number
    for params in (
        {"identifier": f"urn:hms:patient-number|{number}"},
        {"identifier": number},
        {"name": "zoe"},
        {"name": "QUIM"},
        {"_id": made.patient["id"]},
        {"birthdate": "1990-01-15", "name": "quimby"},
        {"birthdate": "ge1990-01", "name": "quimby"},
    ):
        bundle = await fhir_get(client, "Patient", headers, **params)
        assert ids(bundle) == [made.patient["id"]], params
        assert bundle["total"] == 1
    for params in (
        {"identifier": f"http://other.example|{number}"},
        {"birthdate": "lt1990-01-15", "name": "quimby"},
        {"birthdate": "gt1990", "name": "quimby"},
        {"name": "uimby"},
    ):
        assert (await fhir_get(client, "Patient", headers, **params))["total"] == 0, params


async def test_practitioner_by_npi(client: httpx.AsyncClient, runtime: Runtime) -> None:
    made = await record(client, runtime, lab=False)
    headers = made.doctor.headers
    response = await client.post(
        "/api/v1/providers",
        json={
            "first_name": "Ada",
            "last_name": "Lovelace",
            "npi": "1234567893",
            "dea_number": "AB1234563",
        },
        headers=(await _admin(client, runtime)),
    )
    assert response.status_code == 201, response.text
    provider = response.json()
    found = await fhir_get(client, f"Practitioner/{provider['id']}", headers)
    assert {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"} in found[
        "identifier"
    ]
    assert any(i["system"] == "urn:oid:2.16.840.1.113883.4.814" for i in found["identifier"])
    bundle = await fhir_get(
        client, "Practitioner", headers, identifier="http://hl7.org/fhir/sid/us-npi|1234567893"
    )
    assert ids(bundle) == [provider["id"]]
    bundle = await fhir_get(client, "Practitioner", headers, name="love")
    assert ids(bundle) == [provider["id"]]


async def _admin(client: httpx.AsyncClient, runtime: Runtime) -> dict[str, str]:
    return (await staff(client, runtime, Role.ADMIN)).headers


async def test_encounter_condition_and_observations(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    made = await record(client, runtime)
    headers = made.doctor.headers
    pid = made.patient["id"]
    encounter = await fhir_get(client, f"Encounter/{made.encounter['id']}", headers)
    assert encounter["status"] == "finished"
    assert encounter["subject"] == {"reference": f"Patient/{pid}"}
    assert encounter["participant"][0]["individual"]["reference"].startswith("Practitioner/")

    for params in ({"patient": pid}, {"subject": f"Patient/{pid}"}, {"date": "ge2024-01-01"}):
        bundle = await fhir_get(client, "Encounter", headers, **params)
        assert made.encounter["id"] in ids(bundle), params
    assert (await fhir_get(client, "Encounter", headers, patient=pid, date="lt2024-03-05"))[
        "total"
    ] == 0
    assert (await fhir_get(client, "Encounter", headers, patient=pid, status="finished"))[
        "total"
    ] == 1

    conditions = matches(await fhir_get(client, "Condition", headers, patient=pid))
    codes = [c["code"]["coding"][0] for c in conditions]
    assert [c["code"] for c in codes] == ["E11.9", "I10"]
    assert {c["system"] for c in codes} == {"http://hl7.org/fhir/sid/icd-10-cm"}
    assert conditions[1]["verificationStatus"]["coding"][0]["code"] == "provisional"
    bundle = await fhir_get(
        client, "Condition", headers, patient=pid, code="http://hl7.org/fhir/sid/icd-10-cm|I10"
    )
    assert ids(bundle) == [conditions[1]["id"]]
    await fhir_get(client, f"Condition/{conditions[0]['id']}", headers)

    vitals = matches(
        await fhir_get(client, "Observation", headers, patient=pid, category="vital-signs")
    )
    by_code = {o["code"]["coding"][0]["code"]: o for o in vitals}
    assert set(by_code) == {"85354-9", "8867-4", "9279-1", "8310-5", "59408-5"}
    bp = {
        c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"]
        for c in by_code["85354-9"]["component"]
    }
    assert bp == {"8480-6": 120, "8462-4": 80}
    assert by_code["8867-4"]["valueQuantity"]["value"] == 72
    assert by_code["8310-5"]["valueQuantity"]["code"] == "Cel"
    assert any(c["code"] == "2708-6" for c in by_code["59408-5"]["code"]["coding"])

    labs = matches(
        await fhir_get(
            client,
            "Observation",
            headers,
            patient=pid,
            category="http://terminology.hl7.org/CodeSystem/observation-category|laboratory",
        )
    )
    by_loinc = {o["code"]["coding"][0]["code"]: o for o in labs}
    glucose = by_loinc["2345-7"]
    assert glucose["valueQuantity"]["value"] == 250
    assert glucose["referenceRange"][0]["low"]["value"] == 70
    assert glucose["interpretation"][0]["coding"][0]["code"] == "H"
    assert by_loinc["2951-2"]["interpretation"][0]["coding"][0]["code"] == "N"
    assert by_loinc["2823-3"]["interpretation"][0]["coding"][0]["code"] == "LL"
    assert by_loinc["2823-3"]["valueQuantity"]["comparator"] == "<"
    bundle = await fhir_get(
        client, "Observation", headers, patient=pid, code="http://loinc.org|8867-4"
    )
    assert ids(bundle) == [by_code["8867-4"]["id"]]
    for observation in (by_code["85354-9"], glucose):
        assert await fhir_get(client, f"Observation/{observation['id']}", headers) == observation


async def test_errors_are_operation_outcomes(client: httpx.AsyncClient, runtime: Runtime) -> None:
    made = await record(client, runtime, lab=False)
    headers = made.doctor.headers
    missing = "00000000-0000-0000-0000-000000000001"
    for path in (
        f"Patient/{missing}",
        "Patient/not-an-id",
        f"Observation/{missing}-hr",
        "Nothing/1",
    ):
        response = await client.get(f"{FHIR}/{path}", headers=headers)
        assert outcome_of(response, 404)["issue"][0]["code"] == "not-found"
    response = await client.get(f"{FHIR}/Patient", params={"family": "x"}, headers=headers)
    assert "family" in outcome_of(response, 400)["issue"][0]["diagnostics"]
    response = await client.get(f"{FHIR}/Patient", params={"birthdate": "soon"}, headers=headers)
    outcome_of(response, 400)
    response = await client.get(f"{FHIR}/Patient")
    assert outcome_of(response, 401)["issue"][0]["code"] == "login"
    response = await client.post(f"{FHIR}/Patient", json={}, headers=headers)
    outcome_of(response, 405)
    lenient = await client.get(
        f"{FHIR}/Patient",
        params={"family": "x", "_id": made.patient["id"]},
        headers={**headers, "Prefer": "handling=lenient"},
    )
    assert lenient.status_code == 200
    bundle = valid(lenient.json())
    assert ids(bundle) == [made.patient["id"]]
    warning = bundle["entry"][-1]
    assert warning["search"]["mode"] == "outcome"
    assert link(bundle, "self")
