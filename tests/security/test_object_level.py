"""Broken object-level authorization (OWASP API1:2023): a patient user cannot reach another
patient's records, and staff without a care relationship cannot reach a restricted patient's,
through REST, GraphQL or WebSocket; a clinician who breaks the glass can, until the grant ends.

Refusals are "not found" (404), so a record's existence is not revealed; a role that lacks the
permission altogether gets its usual 403. Lists simply leave the records out. Every attempt is
counted, and a success among them is an unauthorized read.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import update

from hms.access.models import EmergencyAccessGrant
from hms.auth.permissions import Role
from hms.db import commit, utcnow
from hms.runtime import Runtime
from tests.graphql.support import gql
from tests.security.tally import count
from tests.security.world import API, Records, World, build, portal_of

UNRELATED_STAFF = [
    Role.NURSE,
    Role.PHARMACIST,
    Role.LAB_TECHNICIAN,
    Role.RECEPTIONIST,
    Role.BILLING,
]


def record_reads(rec: Records) -> list[str]:
    """Every REST read of one patient's record and what hangs off it."""
    return [
        f"/patients/{rec.id}",
        f"/patients/{rec.number}",
        f"/patients/{rec.id}/encounters",
        f"/patients/{rec.id}/appointments",
        f"/patients/{rec.id}/coverage",
        f"/billing/patients/{rec.id}/balance",
        f"/clinical/encounters/{rec.encounter}",
        f"/clinical/encounters/{rec.encounter}/history",
        f"/appointments/{rec.appointment}",
        f"/pharmacy/prescriptions/{rec.prescription}",
        f"/pharmacy/prescriptions/{rec.prescription}/fills",
        f"/laboratory/orders/{rec.lab_order}",
        f"/laboratory/orders/{rec.lab_order}/results",
        f"/billing/charges/{rec.charge}",
        f"/billing/claims/{rec.claim}",
    ]


def record_writes(w: World, rec: Records) -> list[tuple[str, str, dict[str, Any] | None]]:
    """Writes that name the patient or one of its records."""
    return [
        ("PUT", f"/patients/{rec.id}", {"contact_number": "+1234567800"}),
        ("PUT", f"/patients/{rec.id}/coverage", {"group_number": "G2"}),
        ("POST", "/clinical/encounters", {"patient_id": rec.id, "encounter_type": "office_visit"}),
        ("PUT", f"/clinical/encounters/{rec.encounter}", {"location": "Room 9"}),
        ("POST", f"/appointments/{rec.appointment}/cancel", {"reason": "Peeking"}),
        (
            "POST",
            "/appointments",
            {
                "patient_id": rec.id,
                "provider_id": w.provider_id,
                "start_datetime": "2024-01-22T10:00:00Z",
            },
        ),
        ("POST", f"/pharmacy/prescriptions/{rec.prescription}/dispense", {}),
        ("POST", f"/laboratory/orders/{rec.lab_order}/collect", {}),
        ("POST", f"/laboratory/orders/{rec.lab_order}/cancel", {"reason": "Peeking"}),
        ("POST", f"/billing/charges/{rec.charge}/void", {"reason": "Peeking"}),
        ("POST", f"/billing/claims/{rec.claim}/accept", None),
        ("POST", "/billing/payments", {"patient_id": rec.id, "amount": "1.00"}),
        ("POST", "/billing/claims", {"patient_id": rec.id, "charges": [rec.charge]}),
    ]


LISTS = [
    "/patients?limit=100",
    "/patients?limit=100&is_active=false",
    "/clinical/encounters?limit=100",
    "/appointments?limit=100",
    "/pharmacy/prescriptions?limit=100",
    "/laboratory/orders?limit=100",
    "/billing/charges?limit=100",
    "/billing/claims?limit=100",
]


def ids_of(rec: Records) -> set[str]:
    return {
        rec.id,
        rec.number,
        rec.encounter,
        rec.appointment,
        rec.prescription,
        rec.lab_order,
        rec.charge,
        rec.claim,
    }


def values(body: Any) -> Iterator[Any]:
    if isinstance(body, dict):
        for value in body.values():
            yield from values(value)
    elif isinstance(body, list):
        for item in body:
            yield from values(item)
    else:
        yield body


def leaked(body: Any, rec: Records) -> set[str]:
    """The target's identifiers found as values anywhere in a response body."""
    secret = ids_of(rec)
    return {v for v in values(body) if isinstance(v, str) and v in secret}


async def refused_everywhere(
    client: httpx.AsyncClient, w: World, headers: dict[str, str], rec: Records, who: str
) -> None:
    problems = []
    for path in record_reads(rec):
        response = await client.get(API + path, headers=headers)
        count("bola_attempts")
        if response.status_code < 400:
            count("bola_unauthorized_reads")
            problems.append(f"GET {path} as {who}: {response.status_code}")
        elif response.status_code not in (403, 404):
            problems.append(f"GET {path} as {who}: {response.status_code} {response.text}")
        elif response.status_code == 404:
            assert response.json()["error"]["code"] == "NOT_FOUND"
    searches = [
        f"/patients/search?query={rec.patient['last_name']}",
        f"/appointments/schedule?provider_id={w.provider_id}&start_date=2024-01-20",
    ]
    for path in [*LISTS, *searches]:
        response = await client.get(API + path, headers=headers)
        count("bola_attempts")
        if response.status_code < 400 and (found := leaked(response.json(), rec)):
            count("bola_unauthorized_reads")
            problems.append(f"GET {path} as {who} lists {sorted(found)}")
    for method, path, body in record_writes(w, rec):
        response = await client.request(method, API + path, json=body, headers=headers)
        count("bola_attempts")
        if response.status_code < 400:
            problems.append(f"{method} {path} as {who}: {response.status_code}")
    assert not problems, "\n".join(problems)


async def reachable(client: httpx.AsyncClient, headers: dict[str, str], rec: Records) -> None:
    for path in (
        f"/patients/{rec.id}",
        f"/clinical/encounters/{rec.encounter}",
        f"/appointments/{rec.appointment}",
        f"/pharmacy/prescriptions/{rec.prescription}",
        f"/laboratory/orders/{rec.lab_order}",
    ):
        response = await client.get(API + path, headers=headers)
        assert response.status_code == 200, (path, response.text)


async def test_a_patient_user_reaches_no_other_patient_by_rest(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    w = await build(client, runtime)
    # The ordinary patient's account, against both the ordinary... and the restricted one.
    await refused_everywhere(client, w, w.of(Role.PATIENT), w.r, "patient of another record")
    restricted_self = await portal_of(client, runtime, w.r)
    await refused_everywhere(client, w, restricted_self, w.o, "restricted patient's own account")
    # Each still reaches its own record.
    response = await client.get(f"{API}/patients/{w.r.id}", headers=restricted_self)
    assert response.status_code == 200


async def test_staff_without_a_care_relationship_cannot_reach_a_restricted_patient(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    w = await build(client, runtime)
    await refused_everywhere(client, w, w.stranger, w.r, "unrelated doctor")
    for role in UNRELATED_STAFF:
        await refused_everywhere(client, w, w.of(role), w.r, str(role))
    # The same staff still reach the ordinary patient, and the carer and admins the restricted.
    for headers in [w.stranger, w.of(Role.NURSE)]:
        await reachable(client, headers, w.o)
    await reachable(client, w.of(Role.DOCTOR), w.r)
    await reachable(client, w.of(Role.ADMIN), w.r)
    listed = (await client.get(f"{API}/patients?limit=100", headers=w.of(Role.DOCTOR))).json()
    assert w.r.id in {p["id"] for p in listed["patients"]}


async def test_graphql_obeys_the_same_rule(client: httpx.AsyncClient, runtime: Runtime) -> None:
    w = await build(client, runtime)
    query = """
      query Peek($patient: ID!, $encounter: ID!, $appointment: ID!, $order: ID!,
                 $charge: ID!, $claim: ID!) {
        patient(id: $patient) { id clinicalEncounters { id } }
        clinicalEncounter(id: $encounter) { id }
        appointment(id: $appointment) { id }
        labOrder(id: $order) { id }
        labResults(orderId: $order) { orderId }
        charge(id: $charge) { id }
        claim(id: $claim) { id }
      }"""
    lists = """
      query Lists($patient: ID!) {
        patients(limit: 100) { patients { id } }
        clinicalEncounters(limit: 100) { encounters { id } }
        appointments(limit: 100) { appointments { id } }
        prescriptions(limit: 100) { prescriptions { id } }
        labOrders(limit: 100) { orders { id } }
        charges(limit: 100) { charges { id } }
        claims(limit: 100) { claims { id } }
        byPatient: clinicalEncounters(patientId: $patient) { encounters { id } }
      }"""

    def variables(rec: Records) -> dict[str, str]:
        return {
            "patient": rec.id,
            "encounter": rec.encounter,
            "appointment": rec.appointment,
            "order": rec.lab_order,
            "charge": rec.charge,
            "claim": rec.claim,
        }

    portal = w.of(Role.PATIENT)
    for headers, rec, who in [
        (w.stranger, w.r, "unrelated doctor"),
        (w.of(Role.BILLING), w.r, "billing"),
        (portal, w.r, "another patient"),
    ]:
        for document, args in [(query, variables(rec)), (lists, {"patient": rec.id})]:
            body = await gql(client, document, args, headers=headers)
            count("bola_attempts")
            found = leaked(body.get("data"), rec)
            if found:
                count("bola_unauthorized_reads")
            assert not found, (who, found)
    # The carer sees all of it, nested encounters included.
    body = await gql(client, query, variables(w.r), headers=w.of(Role.DOCTOR))
    assert body["data"]["patient"]["clinicalEncounters"] == [{"id": w.r.encounter}]


async def test_break_the_glass_opens_the_record_for_its_time_only(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    w = await build(client, runtime)
    path = f"{API}/patients/{w.r.id}/emergency-access"
    # A reason is required; roles outside the pre-authorised group are refused.
    short = await client.post(path, json={"reason": "need"}, headers=w.stranger)
    assert short.status_code == 422
    assert (await client.post(path, json={}, headers=w.stranger)).status_code == 422
    for role in (Role.PHARMACIST, Role.RECEPTIONIST, Role.BILLING, Role.PATIENT, Role.ADMIN):
        refused = await client.post(path, json={"reason": "Curious about it"}, headers=w.of(role))
        assert refused.status_code == 403, role
    assert (await client.get(f"{API}/patients/{w.r.id}", headers=w.stranger)).status_code == 404

    reason = "Unconscious in the emergency room; carer unreachable"
    granted = await client.post(path, json={"reason": reason}, headers=w.stranger)
    assert granted.status_code == 201, granted.text
    grant = granted.json()
    assert grant["patient_id"] == w.r.id and grant["reason"] == reason and grant["active"]
    await reachable(client, w.stranger, w.r)

    # The grant is its own audit event, and every read under it is flagged as such.
    admin = w.of(Role.ADMIN)
    trail = (await client.get(f"{API}/audit?patient_id={w.r.id}&limit=100", headers=admin)).json()[
        "entries"
    ]
    stranger_name = w.stranger_user["username"]
    [event] = [e for e in trail if e["action"] == "emergency_access"]
    assert event["username"] == stranger_name and event["details"]["reason"] == reason
    reads = [e for e in trail if e["username"] == stranger_name and e["action"].endswith(".read")]
    assert reads and all(e["details"].get("emergency_access") is True for e in reads)
    # Administrators review grants, filtered by user, patient and whether still active.
    listed = await client.get(
        f"{API}/emergency-access?patient_id={w.r.id}&active=true", headers=admin
    )
    assert listed.status_code == 200
    assert [g["id"] for g in listed.json()["grants"]] == [grant["id"]]
    assert listed.json()["grants"][0]["username"] == stranger_name
    for role in (Role.DOCTOR, Role.NURSE, Role.PATIENT):
        assert (await client.get(f"{API}/emergency-access", headers=w.of(role))).status_code == 403

    # When the grant's time is up, the record is closed again.
    async with runtime.sessionmaker() as session:
        await session.execute(
            update(EmergencyAccessGrant)
            .where(EmergencyAccessGrant.id == uuid.UUID(grant["id"]))
            .values(expires_at=utcnow())
        )
        await commit(session)
    await refused_everywhere(client, w, w.stranger, w.r, "doctor after the grant expired")
    expired = await client.get(f"{API}/emergency-access?active=false", headers=admin)
    assert [g["active"] for g in expired.json()["grants"]] == [False]


async def test_the_grant_lasts_as_long_as_the_setting_says(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    w = await build(client, runtime)
    granted = await client.post(
        f"{API}/patients/{w.r.number}/emergency-access",
        json={"reason": "Patient collapsed in the waiting room"},
        headers=w.of(Role.NURSE),
    )
    assert granted.status_code == 201
    grant = granted.json()

    lasted = datetime.fromisoformat(grant["expires_at"]) - datetime.fromisoformat(
        grant["granted_at"]
    )
    assert lasted.total_seconds() == runtime.settings.emergency_access_minutes * 60
