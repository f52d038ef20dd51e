"""Controlled substances: the prescriber's DEA number, the schedule's refill limits, and the
prescriber's second factor that signs the prescription, each code once."""

from __future__ import annotations

from typing import Any

import httpx
import pyotp

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.pharmacy.support import (
    DEA,
    PRESCRIPTIONS,
    Staff,
    audit_entries,
    error_of,
    new_patient,
    prescriber,
    refused_field,
    seed_prescription,
    staff,
)


def oxycodone(patient_id: str, doctor: Staff, **overrides: Any) -> dict[str, Any]:
    body = seed_prescription(
        patient_id,
        doctor.provider_id,
        medication={
            "name": "Oxycodone",
            "strength": "5mg",
            "form": "tablet",
            "ndc": "0406-0552-01",
        },
        refills={"authorized": 0, "remaining": 0},
        controlled_substance=True,
        schedule="II",
        dea_number=DEA,
        diagnosis_codes=["S82.201A"],
    )
    body.update(overrides)
    return body


async def test_a_schedule_ii_prescription_signed_with_a_code_is_recorded_and_audited(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await prescriber(client, runtime)
    pharmacist = await staff(client, runtime, Role.PHARMACIST)
    patient = await new_patient(client, doctor.headers)
    sent = oxycodone(patient["id"], doctor, mfa_code=doctor.next_code())
    response = await client.post(PRESCRIPTIONS, json=sent, headers=doctor.headers)
    assert response.status_code == 201, response.text
    rx = response.json()
    assert (rx["controlled_substance"], rx["schedule"], rx["dea_number"]) == (True, "II", DEA)
    assert "mfa_code" not in rx
    dispensed = await client.post(
        f"{PRESCRIPTIONS}/{rx['id']}/dispense", headers=pharmacist.headers
    )
    assert dispensed.status_code == 201
    again = await client.post(f"{PRESCRIPTIONS}/{rx['id']}/dispense", headers=pharmacist.headers)
    error_of(again, 409, "CONFLICT")
    (fill,) = await audit_entries(runtime, "prescription.dispense")
    assert fill.details["controlled_substance"] is True and fill.details["schedule"] == "II"
    assert str(fill.patient_id) == patient["id"]


async def test_a_used_code_cannot_sign_again(client: httpx.AsyncClient, runtime: Runtime) -> None:
    doctor = await prescriber(client, runtime)
    patient = await new_patient(client, doctor.headers)
    code = doctor.next_code()
    first = await client.post(
        PRESCRIPTIONS, json=oxycodone(patient["id"], doctor, mfa_code=code), headers=doctor.headers
    )
    assert first.status_code == 201, first.text
    replay = await client.post(
        PRESCRIPTIONS, json=oxycodone(patient["id"], doctor, mfa_code=code), headers=doctor.headers
    )
    assert refused_field(replay) == "mfa_code"
    failures = [
        e for e in await audit_entries(runtime, "prescription.sign") if e.outcome == "failure"
    ]
    assert len(failures) == 1
    listed = await client.get(
        PRESCRIPTIONS, params={"patient_id": patient["id"]}, headers=doctor.headers
    )
    assert listed.json()["total"] == 1


async def test_signing_needs_a_valid_current_code(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await prescriber(client, runtime)
    patient = await new_patient(client, doctor.headers)
    for code in (None, "000000", "abc", pyotp.TOTP(pyotp.random_base32()).now()):
        body = oxycodone(patient["id"], doctor, mfa_code=code)
        response = await client.post(PRESCRIPTIONS, json=body, headers=doctor.headers)
        assert refused_field(response) == "mfa_code", code


async def test_a_prescriber_without_mfa_cannot_sign_controlled_drugs(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await staff(client, runtime, Role.DOCTOR, dea=DEA)
    patient = await new_patient(client, doctor.headers)
    body = oxycodone(patient["id"], doctor, mfa_code="123456")
    response = await client.post(PRESCRIPTIONS, json=body, headers=doctor.headers)
    assert error_of(response, 403, "FORBIDDEN")["details"]["mfa_required"] is True


async def test_dea_number_rules(client: httpx.AsyncClient, runtime: Runtime) -> None:
    doctor = await prescriber(client, runtime)
    no_dea = await staff(client, runtime, Role.DOCTOR, mfa=True)
    patient = await new_patient(client, doctor.headers)
    wrong = oxycodone(patient["id"], doctor, dea_number="AB1234572", mfa_code=doctor.next_code())
    assert refused_field(await client.post(PRESCRIPTIONS, json=wrong, headers=doctor.headers)) == (
        "dea_number"
    )
    missing = oxycodone(patient["id"], no_dea, dea_number=None, mfa_code=no_dea.next_code())
    response = await client.post(PRESCRIPTIONS, json=missing, headers=no_dea.headers)
    assert refused_field(response) == "dea_number"
    # A DEA number sent with an ordinary prescription is checked too, and kept.
    plain = seed_prescription(patient["id"], doctor.provider_id, dea_number="AB1234572")
    response = await client.post(PRESCRIPTIONS, json=plain, headers=doctor.headers)
    assert refused_field(response) == "dea_number"
    plain["dea_number"] = DEA.lower()
    response = await client.post(PRESCRIPTIONS, json=plain, headers=doctor.headers)
    assert response.status_code == 201 and response.json()["dea_number"] == DEA
    # Leaving dea_number out uses the one on record.
    implicit = oxycodone(patient["id"], doctor, dea_number=None, mfa_code=doctor.next_code())
    response = await client.post(PRESCRIPTIONS, json=implicit, headers=doctor.headers)
    assert response.status_code == 201, response.text
    assert response.json()["dea_number"] == DEA


async def test_schedule_rules(client: httpx.AsyncClient, runtime: Runtime) -> None:
    doctor = await prescriber(client, runtime)
    patient = await new_patient(client, doctor.headers)
    refills = {"authorized": 2, "remaining": 2}
    cases = [
        (oxycodone(patient["id"], doctor, refills=refills), "refills.authorized"),
        (
            oxycodone(patient["id"], doctor, schedule=None, medication={"name": "Zorblaxin"}),
            "schedule",
        ),
        (oxycodone(patient["id"], doctor, schedule="IV"), "schedule"),
        (
            oxycodone(patient["id"], doctor, controlled_substance=False, schedule=None),
            "controlled_substance",
        ),
        (
            oxycodone(
                patient["id"],
                doctor,
                medication={"name": "Alprazolam", "strength": "0.5mg"},
                schedule="C-IV",
                refills={"authorized": 6, "remaining": 6},
            ),
            "refills.authorized",
        ),
    ]
    for body, field in cases:
        body["mfa_code"] = doctor.next_code()
        response = await client.post(PRESCRIPTIONS, json=body, headers=doctor.headers)
        assert refused_field(response) == field, body
    # A Schedule IV drug may have refills; "C-IV" is read as IV.
    body = oxycodone(
        patient["id"],
        doctor,
        medication={"name": "Alprazolam", "strength": "0.5mg"},
        schedule="C-IV",
        refills={"authorized": 2, "remaining": 2},
        mfa_code=doctor.next_code(),
    )
    response = await client.post(PRESCRIPTIONS, json=body, headers=doctor.headers)
    assert response.status_code == 201, response.text
    assert response.json()["schedule"] == "IV"
