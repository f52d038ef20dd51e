"""Each event reaches only users allowed to see it: channels need the permission that reads that
kind of record, and a patient user hears only of its own record, and of clinical work once final.

To show an event was *not* sent, a later event the socket may see is announced after it: events
reach a socket in order, so if the later one comes first, the earlier one was never sent."""

from __future__ import annotations

from hms.auth.permissions import Role
from hms.events import DomainEvent
from hms.runtime import Runtime
from tests.factories import login, make_patient, make_user
from tests.realtime.support import (
    announce,
    headers,
    lab_event,
    receive,
    send,
    serving,
    subscribed,
    token_for,
)


def encounter_event(patient_id: str, status: str) -> DomainEvent:
    return DomainEvent(
        type="encounter_updated",
        resource_type="encounter",
        resource_id="00000000-0000-0000-0000-0000000e0001",
        patient_id=patient_id,
        data={"encounter": {"patient_id": patient_id, "status": status}},
    )


async def test_a_receptionist_may_not_subscribe_to_lab_results(runtime: Runtime) -> None:
    async with serving(runtime) as served:
        receptionist = await token_for(served, runtime, Role.RECEPTIONIST)
        technician = await token_for(served, runtime, Role.LAB_TECHNICIAN)
        async with (
            subscribed(served.ws_url, receptionist, ["patient_updates"]) as front_desk,
            subscribed(served.ws_url, technician, ["lab_results"]) as lab,
        ):
            await send(front_desk, {"type": "subscribe", "channels": ["lab_results"]})
            error = await receive(front_desk)
            assert error["type"] == "error"
            assert error["code"] == "FORBIDDEN"
            assert error["details"] == {"channels": ["lab_results"]}

            await announce(runtime, lab_event("11111111-1111-1111-1111-111111111111"))
            marker = DomainEvent(
                type="patient_updated",
                resource_type="patient",
                resource_id="22222222-2222-2222-2222-222222222222",
                patient_id="22222222-2222-2222-2222-222222222222",
                data={"patient": {"id": "22222222-2222-2222-2222-222222222222"}},
            )
            await announce(runtime, marker)
            heard = await receive(lab)
            assert heard["type"] == "lab_result_available"
            assert heard["result"]["critical"] is True
            # The receptionist's next message is the later patient event: no lab values.
            assert (await receive(front_desk))["type"] == "patient_updated"


async def test_billing_staff_hear_billing_but_not_clinical_channels(runtime: Runtime) -> None:
    async with serving(runtime) as served:
        token = await token_for(served, runtime, Role.BILLING)
        async with subscribed(served.ws_url, token, ["billing"]) as socket:
            for channel in ("encounters", "prescriptions", "lab_results"):
                await send(socket, {"type": "subscribe", "channels": [channel]})
                assert (await receive(socket))["code"] == "FORBIDDEN"
            claim = DomainEvent(
                type="claim_submitted",
                resource_type="claim",
                resource_id="c1",
                patient_id="33333333-3333-3333-3333-333333333333",
                data={"claim": {"status": "submitted"}},
            )
            await announce(runtime, claim)
            heard = await receive(socket)
            assert (heard["type"], heard["channel"]) == ("claim_submitted", "billing")
            assert heard["claim"] == {"status": "submitted"}


async def test_a_patient_hears_only_of_its_own_record_once_final(runtime: Runtime) -> None:
    async with serving(runtime) as served:
        nurse = await make_user(runtime, role=Role.NURSE)
        staff = headers(str((await login(served.http, nurse["username"]))["access_token"]))
        mine = await make_patient(served.http, staff)
        other = await make_patient(served.http, staff)
        token = await token_for(served, runtime, Role.PATIENT, patient=mine["patient_id"])
        channels = ["patient_updates", "encounters", "lab_results", "appointment_changes"]
        async with subscribed(served.ws_url, token, channels) as socket:
            await announce(runtime, lab_event(other["id"]))
            await announce(runtime, lab_event(mine["id"], status="preliminary"))
            await announce(runtime, encounter_event(mine["id"], "in_progress"))
            await announce(runtime, encounter_event(other["id"], "completed"))
            changed = await served.http.put(
                f"/api/v1/patients/{other['id']}", json={"last_name": "Else"}, headers=staff
            )
            assert changed.status_code == 200
            await announce(runtime, encounter_event(mine["id"], "completed"))
            await announce(runtime, lab_event(mine["id"]))

            signed = await receive(socket)
            assert signed["type"] == "encounter_updated"
            assert signed["encounter"] == {"patient_id": mine["id"], "status": "completed"}
            final = await receive(socket)
            assert final["type"] == "lab_result_available"
            assert final["result"]["patient_id"] == mine["id"]
            assert final["result"]["status"] == "final"
