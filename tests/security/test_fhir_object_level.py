"""Broken object-level authorization through the FHIR door: the same rule as REST, GraphQL and
WebSocket. A patient user, and staff without a care relationship to a restricted patient, find
none of that patient's resources by read, by search or by `$everything`; its carer does."""

from __future__ import annotations

from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.security.tally import count
from tests.security.world import Records, World, build

FHIR = "/fhir/R4"


def reads(rec: Records) -> list[str]:
    return [
        f"Patient/{rec.id}",
        f"Patient/{rec.id}/$everything",
        f"Encounter/{rec.encounter}",
        f"Condition/{rec.encounter}-0",
        f"MedicationRequest/{rec.prescription}",
        f"ServiceRequest/{rec.lab_order}",
        f"DiagnosticReport/{rec.lab_order}",
        f"Appointment/{rec.appointment}",
        f"ChargeItem/{rec.charge}",
        f"Claim/{rec.claim}",
    ]


async def patient_searches(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    """Every resource type whose search takes `patient`, from the server's own statement."""
    statement = (await client.get(f"{FHIR}/metadata", headers=headers)).json()
    return [
        resource["type"]
        for resource in statement["rest"][0]["resource"]
        if any(p["name"] == "patient" for p in resource.get("searchParam", []))
    ]


def mentions(body: Any, rec: Records) -> bool:
    """Whether any returned resource names the record (a bundle's links echo the query)."""
    found = [e["resource"] for e in body.get("entry", [])] if "entry" in body else [body]
    text = httpx.Response(200, json=found).text
    return any(
        key in text
        for key in (rec.id, rec.encounter, rec.prescription, rec.lab_order, rec.charge, rec.claim)
    )


async def refused(
    client: httpx.AsyncClient, headers: dict[str, str], rec: Records, who: str
) -> None:
    problems = []
    for path in reads(rec):
        response = await client.get(f"{FHIR}/{path}", headers=headers)
        count("bola_attempts")
        if response.status_code < 400:
            count("bola_unauthorized_reads")
            problems.append(f"GET {path} as {who}: {response.status_code}")
        else:
            assert response.status_code in (403, 404), (path, response.text)
            assert response.json()["resourceType"] == "OperationOutcome"
    for kind in await patient_searches(client, headers):
        for params in ({"patient": rec.id}, {"_count": "100"}):
            response = await client.get(f"{FHIR}/{kind}", params=params, headers=headers)
            count("bola_attempts")
            if response.status_code >= 400:
                assert response.status_code in (400, 403), (kind, response.text)
                continue
            if mentions(response.json(), rec):
                count("bola_unauthorized_reads")
                problems.append(f"GET {kind}?{params} as {who} finds the record")
    assert not problems, "\n".join(problems)


async def test_fhir_refuses_another_or_a_restricted_patient(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    w: World = await build(client, runtime)
    await refused(client, w.of(Role.PATIENT), w.r, "patient of another record")
    await refused(client, w.stranger, w.r, "unrelated doctor")
    for role in (Role.NURSE, Role.PHARMACIST, Role.LAB_TECHNICIAN, Role.BILLING):
        await refused(client, w.of(role), w.r, str(role))
    # The carer and an administrator still reach the restricted record, and the unrelated
    # doctor the ordinary one.
    for headers in (w.of(Role.DOCTOR), w.of(Role.ADMIN)):
        response = await client.get(f"{FHIR}/Patient/{w.r.id}/$everything", headers=headers)
        assert response.status_code == 200, response.text
        assert mentions(response.json(), w.r)
    response = await client.get(f"{FHIR}/Encounter/{w.o.encounter}", headers=w.stranger)
    assert response.status_code == 200
