"""Broken function-level authorization (OWASP API5:2023): every endpoint of the route table is
called by every role, and by nobody. Whether a role may call it comes from the permission map
(`ROLE_PERMISSIONS`) and the permission each endpoint needs, listed below; an endpoint missing
from this list fails the test, so a new endpoint cannot ship without a decision.

An allowed call may still fail for other reasons (a conflict, a record another role changed);
it must not be refused as unauthenticated or forbidden. A denied call must be a 403.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from hms.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from hms.runtime import Runtime
from tests.factories import PASSWORD, login, make_patient, patient_body
from tests.security.tally import count
from tests.security.world import API, World, build
from tests.seed_examples import request_body

P = Permission
PUBLIC = "public"  # no token needed
SIGNED_IN = "signed in"  # any role
# Endpoints whose permission a patient user holds for its own bookings, but which the service
# keeps for the clinic's staff (arrival, completion, no-show are the clinic's to record).
STAFF_ONLY = {
    "POST /api/v1/appointments/{appointment_id}/check-in",
    "POST /api/v1/appointments/{appointment_id}/complete",
    "POST /api/v1/appointments/{appointment_id}/no-show",
}


@dataclass
class Call:
    path: str
    body: dict[str, Any] | None = None


Needs = tuple[Permission, ...] | str
Build = Callable[[World, dict[str, str]], Call]


def seed(key: str, **changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(request_body(key))
    body.update(changes)
    return body


# "METHOD path" -> (what it needs: any one of the permissions, or PUBLIC / SIGNED_IN; the call)
ENDPOINTS: dict[str, tuple[Needs, Build]] = {
    "POST /api/v1/patients": ((P.PATIENTS_CREATE,), lambda w, x: Call("/patients", patient_body())),
    "GET /api/v1/patients": ((P.PATIENTS_READ,), lambda w, x: Call("/patients")),
    "GET /api/v1/patients/search": (
        (P.PATIENTS_READ,),
        lambda w, x: Call("/patients/search?query=Doe"),
    ),
    "GET /api/v1/patients/{patient_id}": (
        (P.PATIENTS_READ,),
        lambda w, x: Call(f"/patients/{w.o.id}"),
    ),
    "PUT /api/v1/patients/{patient_id}": (
        (P.PATIENTS_UPDATE,),
        lambda w, x: Call(f"/patients/{w.o.id}", {"contact_number": "+1234567891"}),
    ),
    "DELETE /api/v1/patients/{patient_id}": (
        (P.PATIENTS_DEACTIVATE,),
        lambda w, x: Call(f"/patients/{x['spare']}"),
    ),
    "POST /api/v1/providers": (
        (P.PROVIDERS_WRITE,),
        lambda w, x: Call("/providers", {"first_name": "Ada", "last_name": "Quill"}),
    ),
    "GET /api/v1/providers": ((P.PROVIDERS_READ,), lambda w, x: Call("/providers")),
    "GET /api/v1/providers/{provider_id}": (
        (P.PROVIDERS_READ,),
        lambda w, x: Call(f"/providers/{w.other_provider_id}"),
    ),
    "PUT /api/v1/providers/{provider_id}": (
        (P.PROVIDERS_WRITE,),
        lambda w, x: Call(f"/providers/{w.other_provider_id}", {"specialty": "Cardiology"}),
    ),
    "DELETE /api/v1/providers/{provider_id}": (
        (P.PROVIDERS_WRITE,),
        lambda w, x: Call(f"/providers/{x['spare_provider']}"),
    ),
    "POST /api/v1/clinical/encounters": (
        (P.ENCOUNTERS_WRITE,),
        lambda w, x: Call(
            "/clinical/encounters",
            seed("POST /api/v1/clinical/encounters", patient_id=w.o.id, provider_id=w.provider_id),
        ),
    ),
    "GET /api/v1/clinical/encounters": (
        (P.ENCOUNTERS_READ,),
        lambda w, x: Call("/clinical/encounters"),
    ),
    "GET /api/v1/clinical/encounters/{encounter_id}": (
        (P.ENCOUNTERS_READ,),
        lambda w, x: Call(f"/clinical/encounters/{w.o.encounter}"),
    ),
    "PUT /api/v1/clinical/encounters/{encounter_id}": (
        (P.ENCOUNTERS_WRITE,),
        lambda w, x: Call(f"/clinical/encounters/{w.o.encounter}", {"location": "Room 2"}),
    ),
    "GET /api/v1/clinical/encounters/{encounter_id}/history": (
        (P.ENCOUNTERS_READ,),
        lambda w, x: Call(f"/clinical/encounters/{w.o.encounter}/history"),
    ),
    "GET /api/v1/patients/{patient_id}/encounters": (
        (P.ENCOUNTERS_READ,),
        lambda w, x: Call(f"/patients/{w.o.id}/encounters"),
    ),
    "GET /api/v1/appointments/schedule": (
        (P.APPOINTMENTS_READ,),
        lambda w, x: Call(
            f"/appointments/schedule?provider_id={w.provider_id}&start_date=2024-01-20"
        ),
    ),
    "GET /api/v1/providers/{provider_id}/working-hours": (
        (P.PROVIDERS_READ,),
        lambda w, x: Call(f"/providers/{w.other_provider_id}/working-hours"),
    ),
    "PUT /api/v1/providers/{provider_id}/working-hours": (
        (P.PROVIDERS_WRITE,),
        lambda w, x: Call(
            f"/providers/{w.other_provider_id}/working-hours", {"time_zone": "Europe/Paris"}
        ),
    ),
    "POST /api/v1/providers/{provider_id}/days-off": (
        (P.PROVIDERS_WRITE,),
        lambda w, x: Call(f"/providers/{w.other_provider_id}/days-off", {"date": "2030-01-02"}),
    ),
    "DELETE /api/v1/providers/{provider_id}/days-off/{day}": (
        (P.PROVIDERS_WRITE,),
        lambda w, x: Call(f"/providers/{w.other_provider_id}/days-off/2030-01-02"),
    ),
    "POST /api/v1/appointments": (
        (P.APPOINTMENTS_WRITE,),
        lambda w, x: Call(
            "/appointments",
            {
                "patient_id": w.o.id,
                "provider_id": w.provider_id,
                "appointment_type": "office_visit",
                "start_datetime": "2024-01-21T10:00:00Z",
                "end_datetime": "2024-01-21T10:30:00Z",
            },
        ),
    ),
    "GET /api/v1/appointments": ((P.APPOINTMENTS_READ,), lambda w, x: Call("/appointments")),
    "GET /api/v1/appointments/{appointment_id}": (
        (P.APPOINTMENTS_READ,),
        lambda w, x: Call(f"/appointments/{w.o.appointment}"),
    ),
    "PUT /api/v1/appointments/{appointment_id}": (
        (P.APPOINTMENTS_WRITE,),
        lambda w, x: Call(f"/appointments/{w.o.appointment}", {"reason": "Follow-up"}),
    ),
    "DELETE /api/v1/appointments/{appointment_id}": (
        (P.APPOINTMENTS_WRITE,),
        lambda w, x: Call(f"/appointments/{w.o.appointment}"),
    ),
    "POST /api/v1/appointments/{appointment_id}/cancel": (
        (P.APPOINTMENTS_WRITE,),
        lambda w, x: Call(f"/appointments/{w.o.appointment}/cancel", {"reason": "Unwell"}),
    ),
    "POST /api/v1/appointments/{appointment_id}/check-in": (
        (P.APPOINTMENTS_WRITE,),
        lambda w, x: Call(f"/appointments/{w.o.appointment}/check-in"),
    ),
    "POST /api/v1/appointments/{appointment_id}/complete": (
        (P.APPOINTMENTS_WRITE,),
        lambda w, x: Call(f"/appointments/{w.o.appointment}/complete"),
    ),
    "POST /api/v1/appointments/{appointment_id}/no-show": (
        (P.APPOINTMENTS_WRITE,),
        lambda w, x: Call(f"/appointments/{w.o.appointment}/no-show"),
    ),
    "GET /api/v1/patients/{patient_id}/appointments": (
        (P.APPOINTMENTS_READ,),
        lambda w, x: Call(f"/patients/{w.o.id}/appointments"),
    ),
    "POST /api/v1/billing/charges": (
        (P.BILLING_WRITE,),
        lambda w, x: Call(
            "/billing/charges",
            seed(
                "POST /api/v1/billing/charges",
                patient_id=w.o.id,
                encounter_id=w.o.encounter,
                billing_provider_id=w.provider_id,
            ),
        ),
    ),
    "GET /api/v1/billing/charges": ((P.BILLING_READ,), lambda w, x: Call("/billing/charges")),
    "GET /api/v1/billing/charges/{charge_id}": (
        (P.BILLING_READ,),
        lambda w, x: Call(f"/billing/charges/{w.o.charge}"),
    ),
    "PUT /api/v1/billing/charges/{charge_id}": (
        (P.BILLING_WRITE,),
        lambda w, x: Call(f"/billing/charges/{w.o.charge}", {"description": "Visit"}),
    ),
    "POST /api/v1/billing/charges/{charge_id}/void": (
        (P.BILLING_WRITE,),
        lambda w, x: Call(f"/billing/charges/{w.o.charge}/void", {"reason": "Duplicate"}),
    ),
    "POST /api/v1/billing/claims": (
        (P.BILLING_WRITE,),
        lambda w, x: Call("/billing/claims", {"patient_id": w.o.id, "charges": [w.o.charge]}),
    ),
    "GET /api/v1/billing/claims": ((P.BILLING_READ,), lambda w, x: Call("/billing/claims")),
    "GET /api/v1/billing/claims/{claim_id}": (
        (P.BILLING_READ,),
        lambda w, x: Call(f"/billing/claims/{w.o.claim}"),
    ),
    "POST /api/v1/billing/claims/{claim_id}/accept": (
        (P.BILLING_WRITE,),
        lambda w, x: Call(f"/billing/claims/{w.o.claim}/accept"),
    ),
    "POST /api/v1/billing/claims/{claim_id}/reject": (
        (P.BILLING_WRITE,),
        lambda w, x: Call(f"/billing/claims/{w.o.claim}/reject", {"reason": "Not covered"}),
    ),
    "POST /api/v1/billing/claims/{claim_id}/pay": (
        (P.BILLING_WRITE,),
        lambda w, x: Call(f"/billing/claims/{w.o.claim}/pay", {"insurance_paid": "10.00"}),
    ),
    "POST /api/v1/billing/claims/{claim_id}/resubmit": (
        (P.BILLING_WRITE,),
        lambda w, x: Call(f"/billing/claims/{w.o.claim}/resubmit"),
    ),
    "GET /api/v1/patients/{patient_id}/coverage": (
        (P.BILLING_READ,),
        lambda w, x: Call(f"/patients/{w.o.id}/coverage"),
    ),
    "PUT /api/v1/patients/{patient_id}/coverage": (
        (P.BILLING_WRITE,),
        lambda w, x: Call(f"/patients/{w.o.id}/coverage", {"group_number": "GRP1"}),
    ),
    "GET /api/v1/billing/patients/{patient_id}/balance": (
        (P.BILLING_READ,),
        lambda w, x: Call(f"/billing/patients/{w.o.id}/balance"),
    ),
    "POST /api/v1/billing/payments": (
        (P.BILLING_WRITE,),
        lambda w, x: Call("/billing/payments", {"patient_id": w.o.id, "amount": "5.00"}),
    ),
    "POST /api/v1/laboratory/orders": (
        (P.LAB_ORDER,),
        lambda w, x: Call(
            "/laboratory/orders",
            seed("POST /api/v1/laboratory/orders", patient_id=w.o.id, provider_id=w.provider_id),
        ),
    ),
    "GET /api/v1/laboratory/orders": (
        (P.LAB_RESULTS_READ,),
        lambda w, x: Call("/laboratory/orders"),
    ),
    "GET /api/v1/laboratory/orders/{order_id}": (
        (P.LAB_RESULTS_READ,),
        lambda w, x: Call(f"/laboratory/orders/{w.o.lab_order}"),
    ),
    "POST /api/v1/laboratory/orders/{order_id}/collect": (
        (P.LAB_RESULTS_ENTER,),
        lambda w, x: Call(f"/laboratory/orders/{w.o.lab_order}/collect", {}),
    ),
    "POST /api/v1/laboratory/orders/{order_id}/cancel": (
        (P.LAB_ORDER, P.LAB_RESULTS_ENTER),
        lambda w, x: Call(f"/laboratory/orders/{w.o.lab_order}/cancel", {"reason": "Wrong"}),
    ),
    "POST /api/v1/laboratory/orders/{order_id}/results": (
        (P.LAB_RESULTS_ENTER,),
        lambda w, x: Call(
            f"/laboratory/orders/{w.o.lab_order}/results",
            {
                "results": [
                    {"test_code": "CBC", "components": [{"component": "WBC", "result": "7"}]}
                ]
            },
        ),
    ),
    "GET /api/v1/laboratory/orders/{order_id}/results": (
        (P.LAB_RESULTS_READ,),
        lambda w, x: Call(f"/laboratory/orders/{w.o.lab_order}/results"),
    ),
    "POST /api/v1/pharmacy/prescriptions": (
        (P.PRESCRIPTIONS_SIGN,),
        lambda w, x: Call(
            "/pharmacy/prescriptions",
            seed(
                "POST /api/v1/pharmacy/prescriptions", patient_id=w.o.id, provider_id=w.provider_id
            ),
        ),
    ),
    "GET /api/v1/pharmacy/prescriptions": (
        (P.PRESCRIPTIONS_READ,),
        lambda w, x: Call("/pharmacy/prescriptions"),
    ),
    "GET /api/v1/pharmacy/prescriptions/{prescription_id}": (
        (P.PRESCRIPTIONS_READ,),
        lambda w, x: Call(f"/pharmacy/prescriptions/{w.o.prescription}"),
    ),
    "PUT /api/v1/pharmacy/prescriptions/{prescription_id}": (
        (P.PRESCRIPTIONS_SIGN, P.PRESCRIPTIONS_DISPENSE),
        lambda w, x: Call(f"/pharmacy/prescriptions/{w.o.prescription}", {"status": "on_hold"}),
    ),
    "POST /api/v1/pharmacy/prescriptions/{prescription_id}/dispense": (
        (P.PRESCRIPTIONS_DISPENSE,),
        lambda w, x: Call(f"/pharmacy/prescriptions/{w.o.prescription}/dispense", {}),
    ),
    "GET /api/v1/pharmacy/prescriptions/{prescription_id}/fills": (
        (P.PRESCRIPTIONS_READ,),
        lambda w, x: Call(f"/pharmacy/prescriptions/{w.o.prescription}/fills"),
    ),
    "POST /api/v1/pharmacy/drug-interactions": (
        (P.PRESCRIPTIONS_READ,),
        lambda w, x: Call(
            "/pharmacy/drug-interactions",
            {"medications": [{"name": "warfarin"}, {"name": "aspirin"}]},
        ),
    ),
    "GET /api/v1/audit": ((P.AUDIT_READ, P.AUDIT_READ_OWN), lambda w, x: Call("/audit")),
    "POST /api/v1/patients/{patient_id}/emergency-access": (
        (P.EMERGENCY_ACCESS,),
        lambda w, x: Call(
            f"/patients/{w.r.id}/emergency-access", {"reason": "Unconscious in the ER, no carer"}
        ),
    ),
    "GET /api/v1/emergency-access": ((P.AUDIT_READ,), lambda w, x: Call("/emergency-access")),
    "GET /api/v1/analytics/patients": (
        (P.ANALYTICS_READ,),
        lambda w, x: Call("/analytics/patients?start_date=2024-01-01&end_date=2024-01-31"),
    ),
    "GET /api/v1/analytics/clinical-quality": (
        (P.ANALYTICS_READ,),
        lambda w, x: Call("/analytics/clinical-quality?start_date=2024-01-01&end_date=2024-01-31"),
    ),
    "POST /auth/token": (
        PUBLIC,
        lambda w, x: Call("/auth/token", {"username": x["username"], "password": PASSWORD}),
    ),
    "POST /auth/refresh": (
        PUBLIC,
        lambda w, x: Call("/auth/refresh", {"refresh_token": x["refresh_token"]}),
    ),
    "GET /auth/me": (SIGNED_IN, lambda w, x: Call("/auth/me")),
    "POST /auth/mfa/setup": (SIGNED_IN, lambda w, x: Call("/auth/mfa/setup")),
    "POST /auth/mfa/verify": (SIGNED_IN, lambda w, x: Call("/auth/mfa/verify", {"code": "000000"})),
    # Last of its kind: it ends the caller's sign-in.
    "POST /auth/logout": (SIGNED_IN, lambda w, x: Call("/auth/logout")),
    "GET /health/live": (PUBLIC, lambda w, x: Call("/health/live")),
    "GET /health/ready": (PUBLIC, lambda w, x: Call("/health/ready")),
}


def route_table(client: httpx.AsyncClient) -> set[str]:
    app = client._transport.app  # type: ignore[attr-defined]
    paths = app.openapi()["paths"]
    return {f"{method.upper()} {path}" for path, ops in paths.items() for method in ops}


def allowed(key: str, role: Role) -> bool:
    needs = ENDPOINTS[key][0]
    if needs in (PUBLIC, SIGNED_IN):
        return True
    if role == Role.PATIENT and key in STAFF_ONLY:
        return False
    return any(p in ROLE_PERMISSIONS[role] for p in needs)


def order(key: str) -> tuple[int, str]:
    """Destructive calls last, sign-out very last: earlier calls need what they remove."""
    method = key.split(" ", 1)[0]
    return (2 if key == "POST /auth/logout" else 1 if method == "DELETE" else 0, key)


async def _call(
    client: httpx.AsyncClient, method: str, call: Call, headers: dict[str, str]
) -> httpx.Response:
    url = call.path if call.path.startswith(("/auth", "/health")) else API + call.path
    return await client.request(method, url, json=call.body, headers=headers)


async def test_every_endpoint_is_in_the_table(client: httpx.AsyncClient) -> None:
    served = route_table(client)
    assert served - ENDPOINTS.keys() == set(), "endpoints without an authorization decision"
    assert ENDPOINTS.keys() - served == set(), "entries for endpoints that no longer exist"


async def test_every_role_may_call_exactly_what_the_permission_map_allows(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    w = await build(client, runtime)
    admin = w.of(Role.ADMIN)
    spare = await make_patient(client, admin)
    spare_provider = (
        await client.post(
            f"{API}/providers", json={"first_name": "Sam", "last_name": "Spare"}, headers=admin
        )
    ).json()
    served = route_table(client)
    count("routes", len(served))
    problems: list[str] = []
    for key in sorted(ENDPOINTS, key=order):
        make = ENDPOINTS[key][1]
        method = key.split(" ", 1)[0]
        # Denied roles first, so that nothing an allowed call changed can mask a refusal.
        for role in sorted(Role, key=lambda r: allowed(key, r)):
            username = w.users[role]["username"]
            extra = {
                "spare": spare["id"],
                "spare_provider": spare_provider["id"],
                "username": username,
                "refresh_token": (await login(client, username))["refresh_token"]
                if key == "POST /auth/refresh"
                else "",
            }
            response = await _call(client, method, make(w, extra), w.of(role))
            count("route_role_checks")
            if allowed(key, role):
                count("route_role_allowed")
                if response.status_code in (401, 403) or response.status_code >= 500:
                    problems.append(f"{key} as {role}: {response.status_code} {response.text}")
            else:
                count("route_role_denied")
                if response.status_code != 403:
                    problems.append(f"{key} as {role}: {response.status_code}, not 403")
    assert not problems, "\n".join(problems)


async def test_without_a_token_only_public_endpoints_answer(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    w = await build(client, runtime)
    extra = {
        "spare": str(uuid.uuid4()),
        "spare_provider": str(uuid.uuid4()),
        "username": "x",
        "refresh_token": "x",
    }
    for key, (needs, make) in ENDPOINTS.items():
        method = key.split(" ", 1)[0]
        response = await _call(client, method, make(w, extra), {})
        count("anonymous_checks")
        if needs == PUBLIC:
            # A wrong password or refresh token is a 401 too, but without a Bearer challenge.
            assert response.status_code != 403, (key, response.text)
            assert "www-authenticate" not in response.headers or key.startswith("POST /auth"), key
        else:
            assert response.status_code == 401, (key, response.status_code, response.text)
            assert response.headers["www-authenticate"].startswith("Bearer"), key
