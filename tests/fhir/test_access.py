"""The same permissions and audit as REST: a patient account reaches its own compartment only,
roles without the permission get a 403 OperationOutcome, and FHIR reads are audited."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from hms.audit.models import AuditEntry
from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.fhir.support import (
    FHIR,
    fhir_get,
    full_record,
    ids,
    matches,
    outcome_of,
    portal,
    record,
    staff,
)


async def test_patient_account_sees_its_own_compartment(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    mine = await record(client, runtime)
    other = await record(client, runtime)
    headers = await portal(client, runtime, mine.patient["patient_id"])
    assert ids(await fhir_get(client, "Patient", headers)) == [mine.patient["id"]]
    for kind in ("Encounter", "Condition", "Observation"):
        found = matches(await fhir_get(client, kind, headers))
        assert found, kind
        subjects = {(r.get("subject") or r.get("patient"))["reference"] for r in found}
        assert subjects == {f"Patient/{mine.patient['id']}"}, kind
        # Asking for the other patient finds nothing.
        bundle = await fhir_get(client, kind, headers, patient=other.patient["id"])
        assert bundle["total"] == 0, kind
    for path in (
        f"Patient/{other.patient['id']}",
        f"Encounter/{other.encounter['id']}",
        f"Condition/{other.encounter['id']}-0",
        f"Observation/{other.encounter['id']}-hr",
        f"Patient/{other.patient['id']}/$everything",
    ):
        outcome_of(await client.get(f"{FHIR}/{path}", headers=headers), 404)
    everything = await fhir_get(client, f"Patient/{mine.patient['id']}/$everything", headers)
    kinds = {r["resourceType"] for r in matches(everything)}
    assert {"Patient", "Encounter", "Condition", "Observation"} <= kinds


async def test_roles_without_permission_get_403(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    made = await record(client, runtime)
    receptionist = (await staff(client, runtime, Role.RECEPTIONIST)).headers
    for path in ("Encounter", f"Encounter/{made.encounter['id']}", "Condition", "Observation"):
        response = await client.get(f"{FHIR}/{path}", headers=receptionist)
        assert outcome_of(response, 403)["issue"][0]["code"] == "forbidden", path
    # Lab staff read laboratory results but not vital signs.
    tech = (await staff(client, runtime, Role.LAB_TECHNICIAN)).headers
    found = matches(await fhir_get(client, "Observation", tech, patient=made.patient["id"]))
    assert found and {o["category"][0]["coding"][0]["code"] for o in found} == {"laboratory"}
    response = await client.get(
        f"{FHIR}/Observation", params={"category": "vital-signs"}, headers=tech
    )
    outcome_of(response, 403)


async def test_fhir_reads_are_audited(client: httpx.AsyncClient, runtime: Runtime) -> None:
    made = await record(client, runtime)
    headers = made.doctor.headers
    pid = made.patient["id"]
    await fhir_get(client, f"Patient/{pid}", headers)
    await fhir_get(client, "Observation", headers, patient=pid)
    await fhir_get(client, "Condition", headers, patient=pid)
    async with runtime.sessionmaker() as session:
        rows = (
            await session.execute(
                select(AuditEntry.action).where(AuditEntry.patient_id == uuid.UUID(pid))
            )
        ).scalars()
        actions = set(rows)
    assert {"patient.read", "vital_signs.list", "lab_results.list", "diagnosis.list"} <= actions


async def test_patient_account_across_every_type(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    mine, my_ids = await full_record(client, runtime)
    other, other_ids = await full_record(client, runtime)
    headers = await portal(client, runtime, mine.patient["patient_id"])
    for kind, id_ in my_ids.items():
        assert ids(await fhir_get(client, kind, headers)) == [id_], kind
        await fhir_get(client, f"{kind}/{id_}", headers)
        outcome_of(await client.get(f"{FHIR}/{kind}/{other_ids[kind]}", headers=headers), 404)
        bundle = await fhir_get(client, kind, headers, patient=other.patient["id"])
        assert bundle["total"] == 0, kind
    allergies = matches(await fhir_get(client, "AllergyIntolerance", headers))
    assert {a["patient"]["reference"] for a in allergies} == {f"Patient/{mine.patient['id']}"}
    other_allergy = f"AllergyIntolerance/{other.patient['id']}-0"
    outcome_of(await client.get(f"{FHIR}/{other_allergy}", headers=headers), 404)


async def test_roles_reach_what_their_permissions_allow(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    made, made_ids = await full_record(client, runtime)
    pid = made.patient["id"]
    pharmacist = (await staff(client, runtime, Role.PHARMACIST)).headers
    billing = (await staff(client, runtime, Role.BILLING)).headers
    for kind in ("ChargeItem", "Claim", "Encounter", "Appointment"):
        outcome_of(await client.get(f"{FHIR}/{kind}", headers=pharmacist), 403)
    assert ids(await fhir_get(client, "MedicationRequest", pharmacist, patient=pid)) == [
        made_ids["MedicationRequest"]
    ]
    for kind in ("MedicationRequest", "Observation", "DiagnosticReport", "Condition"):
        outcome_of(await client.get(f"{FHIR}/{kind}", headers=billing), 403)
    # $everything holds what the role may read, and only that.
    everything = await fhir_get(client, f"Patient/{pid}/$everything", billing)
    kinds = {r["resourceType"] for r in matches(everything)}
    assert kinds == {"Patient", "AllergyIntolerance", "ChargeItem", "Claim"}
