"""What a prescription accepts: NDC formats, refills, statuses and their moves, a signed
prescription's fixed content, and the interaction and allergy alerts raised when it is written."""

from __future__ import annotations

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.pharmacy.support import (
    PRESCRIPTIONS,
    audit_entries,
    drug,
    error_of,
    new_patient,
    prescribe,
    refused_field,
    seed_prescription,
    staff,
)

VALID_NDCS = ["12345-678-90", "1234-5678-90", "12345-6789-0", "12345678901", "12345-6789-01"]
INVALID_NDCS = ["1234567890", "123-45678-90", "12345-678-9", "ABCDE-678-90", "12345_678_90", ""]


async def test_ndc_format(client: httpx.AsyncClient, runtime: Runtime) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor.headers)
    for ndc in VALID_NDCS + INVALID_NDCS:
        medication = drug("Lisinopril", ndc=ndc)
        body = seed_prescription(patient["id"], doctor.provider_id, medication=medication)
        response = await client.post(PRESCRIPTIONS, json=body, headers=doctor.headers)
        if ndc in VALID_NDCS:
            assert response.status_code == 201, response.text
            assert response.json()["medication"]["ndc"] == ndc
        else:
            assert refused_field(response) == "medication.ndc", ndc


async def test_request_problems_are_422_naming_the_field(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor.headers)
    cases = {
        "refills.remaining": {"refills": {"authorized": 3, "remaining": 1}},
        "refills.authorized": {"refills": {"authorized": -1}},
        "diagnosis_codes.0": {"diagnosis_codes": ["X99.999"]},
        "pharmacy.ncpdp": {"pharmacy": {"name": "Main Street Pharmacy", "ncpdp": "12"}},
        "status": {"status": "completed"},
        "patient_id": {},
    }
    for field, overrides in cases.items():
        body = seed_prescription(patient["id"], doctor.provider_id, **overrides)
        if field == "patient_id":
            body["patient_id"] = "P19990001"
        response = await client.post(PRESCRIPTIONS, json=body, headers=doctor.headers)
        assert refused_field(response) == field, field


async def test_status_moves(client: httpx.AsyncClient, runtime: Runtime) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    pharmacist = await staff(client, runtime, Role.PHARMACIST)
    patient = await new_patient(client, doctor.headers)
    rx = await prescribe(client, doctor, patient["id"])
    url = f"{PRESCRIPTIONS}/{rx['id']}"

    async def move(status: str, who: dict[str, str] = doctor.headers) -> httpx.Response:
        return await client.put(url, json={"status": status}, headers=who)

    held = await move("on_hold", pharmacist.headers)
    assert held.status_code == 200 and held.json()["status"] == "on_hold"
    assert held.headers["ETag"] == '"2"'
    assert (await move("active")).json()["status"] == "active"
    # Only a prescriber cancels.
    error_of(await move("cancelled", pharmacist.headers), 403, "FORBIDDEN")
    stale = await client.put(
        url, json={"status": "on_hold"}, headers=doctor.headers | {"If-Match": '"1"'}
    )
    error_of(stale, 412, "PRECONDITION_FAILED")
    cancelled = await client.put(
        url,
        json={"status": "cancelled", "status_reason": "Switched to losartan"},
        headers=doctor.headers,
    )
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["status_reason"] == "Switched to losartan"
    for target in ("active", "on_hold", "completed"):
        error_of(await move(target), 409, "CONFLICT")
    moves = await audit_entries(runtime, "prescription.update")
    assert [(e.details.get("from"), e.details.get("to")) for e in moves] == [
        ("active", "on_hold"),
        ("on_hold", "active"),
        ("active", "cancelled"),
    ]


async def test_a_signed_prescription_cannot_be_edited(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(client, doctor.headers)
    rx = await prescribe(client, doctor, patient["id"])
    url = f"{PRESCRIPTIONS}/{rx['id']}"
    for change in (
        {"dosage": {"amount": 2, "unit": "tablet", "frequency": "twice daily"}},
        {"medication": drug("Losartan")},
        {"refills": {"authorized": 5, "remaining": 5}},
        {"notes": "changed"},
        {"controlled_substance": True},
    ):
        response = await client.put(url, json=change, headers=doctor.headers)
        assert error_of(response, 409, "CONFLICT")["details"]["fields"] == list(change), change
    # Sending the content unchanged with a status move is fine.
    same = {"medication": rx["medication"], "notes": rx["notes"], "status": "on_hold"}
    response = await client.put(url, json=same, headers=doctor.headers)
    assert response.status_code == 200, response.text
    fetched = (await client.get(url, headers=doctor.headers)).json()
    assert fetched["dosage"] == rx["dosage"] and fetched["status"] == "on_hold"


async def test_alerts_come_with_the_prescription_and_contraindications_need_a_reason(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR)
    patient = await new_patient(
        client,
        doctor.headers,
        allergies=[{"substance": "Penicillin", "severity": "severe", "reaction": "Anaphylaxis"}],
        current_medications=[{"name": "Lisinopril", "dosage": "10mg"}, {"name": "Phenelzine"}],
    )
    ibuprofen = await prescribe(client, doctor, patient["id"], medication=drug("Advil"))
    (alert,) = ibuprofen["alerts"]["interactions"]
    assert alert["severity"] == "moderate"
    assert alert["description"] == "Advil and Lisinopril may increase the risk of kidney damage"
    # The active ibuprofen prescription now takes part in later checks.
    warfarin = await prescribe(client, doctor, patient["id"], medication=drug("Coumadin"))
    assert [a["id"] for a in warfarin["alerts"]["interactions"]] == ["warfarin-nsaid"]
    cephalexin = await prescribe(client, doctor, patient["id"], medication=drug("Keflex"))
    (allergy,) = cephalexin["alerts"]["allergies"]
    assert allergy["conflicts_with"][0]["match"] == "cross_reactivity"

    for name in ("Sertraline", "Amoxicillin"):
        body = seed_prescription(patient["id"], doctor.provider_id, medication=drug(name))
        refused = await client.post(PRESCRIPTIONS, json=body, headers=doctor.headers)
        assert refused_field(refused) == "override_reason", name
        assert refused.json()["error"]["details"]["alerts"]
        body["override_reason"] = "Benefit outweighs the risk; discussed with the patient"
        accepted = await client.post(PRESCRIPTIONS, json=body, headers=doctor.headers)
        assert accepted.status_code == 201, accepted.text
        assert accepted.json()["override_reason"] == body["override_reason"]
    overrides = await audit_entries(runtime, "prescription.alert_override")
    assert [e.details["alerts"] for e in overrides] == [
        ["maoi-serotonergic"],
        ["allergy:Penicillin:Amoxicillin"],
    ]
    unknown = await prescribe(client, doctor, patient["id"], medication=drug("Zorblaxin"))
    assert unknown["alerts"]["unchecked"] == ["Zorblaxin"]
