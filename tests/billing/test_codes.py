"""What a charge refers to is checked: CPT/HCPCS procedure codes and modifiers by shape,
ICD-10-CM diagnosis codes against the code set, the patient, its own encounter, the provider."""

from __future__ import annotations

import uuid

import httpx

from hms.runtime import Runtime
from tests.billing.support import (
    CHARGES,
    charge,
    desk,
    encounter_for,
    error_of,
    invalid_field,
    seed_charge,
)
from tests.factories import make_patient


async def test_cpt_and_hcpcs_codes_are_accepted(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    for code in ("99213", "0001F", "0075T", "0001U", "G0008", "j3490", "A0021"):
        body = seed_charge(d, charge_code=code, modifiers=["25", "lt"])
        created = await charge(client, d, body)
        assert created["charge_code"] == code.upper() and created["modifiers"] == ["25", "LT"]


async def test_malformed_codes_are_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    d = await desk(client, runtime)
    cases = [
        ({"charge_code": "9921"}, "charge_code"),
        ({"charge_code": "992134"}, "charge_code"),
        ({"charge_code": "0001X"}, "charge_code"),
        ({"charge_code": "GG008"}, "charge_code"),
        ({"charge_code": "9921A"}, "charge_code"),
        ({"modifiers": ["2"]}, "modifiers.0"),
        ({"modifiers": ["25", "L-"]}, "modifiers.1"),
        ({"diagnosis_codes": ["G44.1", "Z99.999"]}, "diagnosis_codes.1"),
        ({"diagnosis_codes": ["A00-A09"]}, "diagnosis_codes.0"),
        ({"quantity": 0}, "quantity"),
        ({"charge_date": "2024-01-15T11:00:00"}, "charge_date"),
        ({"unknown_field": 1}, "unknown_field"),
    ]
    for change, field in cases:
        response = await client.post(CHARGES, json=seed_charge(d, **change), headers=d.billing)
        assert invalid_field(response) == field, change


async def test_references_must_exist_and_belong_together(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    other = await make_patient(client, d.doctor)
    their_visit = await encounter_for(client, d.doctor, other["id"])
    cases = [
        ({"patient_id": str(uuid.uuid4())}, "patient_id"),
        ({"encounter_id": their_visit["id"]}, "encounter_id"),
        ({"encounter_id": str(uuid.uuid4())}, "encounter_id"),
        ({"billing_provider_id": str(uuid.uuid4())}, "billing_provider_id"),
        ({"encounter_id": None, "billing_provider_id": None}, "billing_provider_id"),
    ]
    for change, field in cases:
        response = await client.post(CHARGES, json=seed_charge(d, **change), headers=d.billing)
        assert invalid_field(response) == field, change
    # Without a provider, the encounter's own is billed; diagnosis codes are stored dotted.
    body = seed_charge(d, billing_provider_id=None, diagnosis_codes=["g441", "I10"])
    created = await charge(client, d, body)
    assert created["billing_provider_id"] == d.provider_id
    assert created["diagnosis_codes"] == ["G44.1", "I10"]
    by_encounter = await client.get(
        CHARGES, params={"encounter_id": d.encounter_id}, headers=d.billing
    )
    assert [c["id"] for c in by_encounter.json()["charges"]] == [created["id"]]
    missing = await client.get(f"{CHARGES}/CHG20249999", headers=d.billing)
    error_of(missing, 404, "NOT_FOUND")
    error_of(await client.get(f"{CHARGES}/nonsense", headers=d.billing), 404, "NOT_FOUND")
