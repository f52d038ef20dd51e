"""Who may do what: billing staff write, doctors read, a patient reads its own charges, claims,
coverage and balance only; other roles are refused. Every read and write is audited with its
patient; billing staff still cannot read the clinical note behind a charge."""

from __future__ import annotations

import httpx

from hms.auth.permissions import Role
from hms.runtime import Runtime
from tests.billing.support import (
    CHARGES,
    CLAIMS,
    ENCOUNTERS,
    PAYMENTS,
    audit_entries,
    charge,
    claim,
    desk,
    error_of,
    insure,
    portal,
    seed_charge,
    staff,
)
from tests.factories import make_patient


async def test_roles_without_billing_are_refused_and_doctors_only_read(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    created = await charge(client, d)
    for role in (Role.NURSE, Role.RECEPTIONIST, Role.PHARMACIST, Role.LAB_TECHNICIAN):
        headers = await staff(client, runtime, role)
        for response in (
            await client.get(f"{CHARGES}/{created['id']}", headers=headers),
            await client.get(CLAIMS, headers=headers),
            await client.post(CHARGES, json=seed_charge(d), headers=headers),
        ):
            error_of(response, 403, "FORBIDDEN")
    read = await client.get(f"{CHARGES}/{created['id']}", headers=d.doctor)
    assert read.status_code == 200
    for response in (
        await client.post(CHARGES, json=seed_charge(d), headers=d.doctor),
        await client.put(f"{CHARGES}/{created['id']}", json={"notes": "x"}, headers=d.doctor),
        await client.post(f"{CHARGES}/{created['id']}/void", headers=d.doctor),
    ):
        error_of(response, 403, "FORBIDDEN")
    # Billing staff see the diagnosis codes on the charge, never the note behind it.
    assert read.json()["diagnosis_codes"] == ["G44.1"]
    note = await client.get(f"{ENCOUNTERS}/{d.encounter_id}", headers=d.billing)
    error_of(note, 403, "FORBIDDEN")


async def test_a_patient_reads_only_its_own_billing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    await insure(client, d)
    mine = await charge(client, d)
    my_claim = await claim(client, d, [mine["id"]])
    me = await portal(client, runtime, d.patient["patient_id"])
    other = await make_patient(client, d.doctor)
    theirs = await charge(client, d, seed_charge(d, patient_id=other["id"], encounter_id=None))

    assert (await client.get(f"{CHARGES}/{mine['id']}", headers=me)).status_code == 200
    assert (await client.get(f"{CLAIMS}/{my_claim['id']}", headers=me)).status_code == 200
    listed = await client.get(CHARGES, headers=me)
    assert [c["id"] for c in listed.json()["charges"]] == [mine["id"]]
    filtered = await client.get(CHARGES, params={"patient_id": other["id"]}, headers=me)
    assert filtered.json()["total"] == 0
    assert [c["id"] for c in (await client.get(CLAIMS, headers=me)).json()["claims"]] == [
        my_claim["id"]
    ]
    for url in (
        f"{CHARGES}/{theirs['id']}",
        f"{CHARGES}/{theirs['charge_number']}",
        f"/api/v1/patients/{other['id']}/coverage",
        f"/api/v1/billing/patients/{other['id']}/balance",
    ):
        error_of(await client.get(url, headers=me), 404, "NOT_FOUND")
    own = f"/api/v1/billing/patients/{d.patient['patient_id']}/balance"
    assert (await client.get(own, headers=me)).status_code == 200
    coverage = await client.get(f"/api/v1/patients/{d.patient['id']}/coverage", headers=me)
    assert coverage.status_code == 200
    for response in (
        await client.post(CHARGES, json=seed_charge(d), headers=me),
        await client.post(f"{CLAIMS}/{my_claim['id']}/accept", headers=me),
        await client.put(
            f"/api/v1/patients/{d.patient['id']}/coverage",
            json={"coverage_type": "self_pay"},
            headers=me,
        ),
        await client.post(PAYMENTS, json={"patient_id": d.patient["id"], "amount": 5}, headers=me),
    ):
        error_of(response, 403, "FORBIDDEN")


async def test_every_read_and_write_is_audited_with_the_patient(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    d = await desk(client, runtime)
    admin = await staff(client, runtime, Role.ADMIN)
    await insure(client, d)
    created = await charge(client, d)
    await client.get(f"{CHARGES}/{created['id']}", headers=d.billing)
    await client.get(CHARGES, headers=d.billing)
    await client.put(f"{CHARGES}/{created['id']}", json={"notes": "secret text"}, headers=d.billing)
    made = await claim(client, d, [created["id"]])
    await client.get(f"{CLAIMS}/{made['id']}", headers=d.billing)
    await client.post(f"{CLAIMS}/{made['id']}/accept", headers=d.billing)
    await client.get(f"/api/v1/patients/{d.patient['id']}/coverage", headers=d.billing)
    await client.get(f"/api/v1/billing/patients/{d.patient['id']}/balance", headers=d.billing)
    await client.post(
        PAYMENTS, json={"patient_id": d.patient["id"], "amount": 1}, headers=d.billing
    )
    entries = await audit_entries(client, admin, patient_id=d.patient["id"])
    actions = {e["action"] for e in entries}
    assert {
        "charge.create",
        "charge.read",
        "charge.list",
        "charge.update",
        "claim.submit",
        "claim.read",
        "claim.accept",
        "coverage.update",
        "coverage.read",
        "balance.read",
        "payment.create",
    } <= actions
    assert all(e["patient_id"] == d.patient["id"] for e in entries)
    update = next(e for e in entries if e["action"] == "charge.update")
    assert update["details"] == {"fields": ["notes"]}
    assert "secret text" not in str(entries)
