"""A small populated hospital for the access-control tests, built through the API.

Two patients, each with an encounter, an appointment, a prescription, a lab order with results,
a charge, a claim and coverage, all by one doctor (their carer). The second patient is then made
restricted (confidential) by an administrator. Every role has a signed-in user, plus a second,
unrelated doctor with no care relationship to anyone.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.factories import bearer, login, make_patient, make_user
from tests.seed_examples import request_body

API = "/api/v1"
ROLES = list(Role)


@dataclass
class Records:
    """One patient's record and everything hanging off it."""

    patient: dict[str, Any]
    encounter: str = ""
    appointment: str = ""
    prescription: str = ""
    lab_order: str = ""
    charge: str = ""
    claim: str = ""

    @property
    def id(self) -> str:
        return str(self.patient["id"])

    @property
    def number(self) -> str:
        return str(self.patient["patient_id"])


@dataclass
class World:
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # by role name
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    provider_id: str = ""  # the carer's (the role "doctor" user)
    other_provider_id: str = ""  # a provider record with no user: safe to edit
    ordinary: Records | None = None
    restricted: Records | None = None
    stranger: dict[str, str] = field(default_factory=dict)  # the unrelated doctor
    stranger_user: dict[str, Any] = field(default_factory=dict)

    def of(self, role: Role | str) -> dict[str, str]:
        return self.headers[str(role)]

    @property
    def o(self) -> Records:
        assert self.ordinary
        return self.ordinary

    @property
    def r(self) -> Records:
        assert self.restricted
        return self.restricted


async def _ok(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200, 201)), response.text
    return dict(response.json()) if response.content else {}


async def _records(client: httpx.AsyncClient, w: World, hour: int) -> Records:
    """A patient with one of everything, the carer's orders among them (written while the
    record is still ordinary: `build` restricts it afterwards)."""
    admin, doctor = w.of(Role.ADMIN), w.of(Role.DOCTOR)
    rec = Records(await make_patient(client, admin))
    encounter = copy.deepcopy(request_body("POST /api/v1/clinical/encounters"))
    encounter.update(patient_id=rec.id, provider_id=w.provider_id)
    rec.encounter = (
        await _ok(await client.post(f"{API}/clinical/encounters", json=encounter, headers=admin))
    )["id"]
    day = "2024-01-20"
    booking = {
        "patient_id": rec.id,
        "provider_id": w.provider_id,
        "appointment_type": "office_visit",
        "start_datetime": f"{day}T{hour:02d}:00:00Z",
        "end_datetime": f"{day}T{hour:02d}:30:00Z",
    }
    rec.appointment = (
        await _ok(await client.post(f"{API}/appointments", json=booking, headers=admin))
    )["id"]
    prescription = copy.deepcopy(request_body("POST /api/v1/pharmacy/prescriptions"))
    prescription.update(patient_id=rec.id, provider_id=w.provider_id)
    rec.prescription = (
        await _ok(
            await client.post(f"{API}/pharmacy/prescriptions", json=prescription, headers=doctor)
        )
    )["id"]
    order = copy.deepcopy(request_body("POST /api/v1/laboratory/orders"))
    order.update(patient_id=rec.id, provider_id=w.provider_id)
    rec.lab_order = (
        await _ok(await client.post(f"{API}/laboratory/orders", json=order, headers=doctor))
    )["id"]
    charge = copy.deepcopy(request_body("POST /api/v1/billing/charges"))
    charge.update(patient_id=rec.id, encounter_id=rec.encounter, billing_provider_id=w.provider_id)
    rec.charge = (
        await _ok(await client.post(f"{API}/billing/charges", json=charge, headers=admin))
    )["id"]
    coverage = {
        "coverage_type": "private",
        "payer": "Blue Cross Blue Shield",
        "policy_number": "BCBS123456789",
    }
    await _ok(
        await client.put(f"{API}/patients/{rec.id}/coverage", json=coverage, headers=admin),
        200,
        201,
    )
    claim = {"patient_id": rec.id, "charges": [rec.charge]}
    rec.claim = (await _ok(await client.post(f"{API}/billing/claims", json=claim, headers=admin)))[
        "id"
    ]
    return rec


async def build(client: httpx.AsyncClient, runtime: Runtime) -> World:
    w = World()
    for role in ROLES:
        if role == Role.PATIENT:
            continue
        user = await make_user(runtime, role=role)
        w.users[role] = user
        w.headers[role] = bearer(await login(client, user["username"]))
    w.provider_id = w.users[Role.DOCTOR]["provider_id"]
    w.stranger_user = await make_user(runtime, role=Role.DOCTOR)
    w.stranger = bearer(await login(client, w.stranger_user["username"]))
    admin = w.of(Role.ADMIN)
    provider = await _ok(
        await client.post(
            f"{API}/providers",
            json={
                "first_name": "Una",
                "last_name": "Linked",
                "specialty": "Family Medicine",
            },
            headers=admin,
        )
    )
    w.other_provider_id = provider["id"]
    w.ordinary = await _records(client, w, 9)
    w.restricted = await _records(client, w, 11)
    await _ok(
        await client.put(f"{API}/patients/{w.r.id}", json={"restricted": True}, headers=admin)
    )
    patient_user = await make_user(runtime, role=Role.PATIENT, patient=w.o.number)
    w.users[Role.PATIENT] = patient_user
    w.headers[Role.PATIENT] = bearer(await login(client, patient_user["username"]))
    return w


async def portal_of(client: httpx.AsyncClient, runtime: Runtime, rec: Records) -> dict[str, str]:
    user = await make_user(runtime, role=Role.PATIENT, patient=rec.number)
    return bearer(await login(client, user["username"]))
