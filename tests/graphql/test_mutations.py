"""Mutations: the same services, validation and unit of work as REST."""

from __future__ import annotations

import httpx

from hms.runtime import Runtime
from tests.appointments.support import SEED_DAY, clinician
from tests.factories import make_patient
from tests.graphql.support import codes, gql

CREATE = """
mutation New($input: CreatePatientInput!) {
  createPatient(input: $input) { id patientId firstName email address { zipCode } }
}
"""
UPDATE = """
mutation Change($id: ID!, $input: UpdatePatientInput!) {
  updatePatient(id: $id, input: $input) { patientId email contactNumber }
}
"""
BOOK = """
mutation Book($input: BookAppointmentInput!) {
  bookAppointment(input: $input) { id appointmentNumber startDateTime endDateTime status }
}
"""
CANCEL = """
mutation Cancel($id: ID!) { cancelAppointment(id: $id, reason: "Feeling better") {
  status cancellationReason } }
"""
COUNT = "query { patients { total } }"


def new_patient(**extra: object) -> dict[str, object]:
    return {
        "firstName": "Ada",
        "lastName": "Lovelace",
        "dateOfBirth": "1985-12-10",
        "gender": "female",
        "email": "ada@example.org",
        **extra,
    }


async def test_create_and_update_a_patient(client: httpx.AsyncClient, runtime: Runtime) -> None:
    doctor = await clinician(client, runtime)
    address = {"zipCode": "02139", "city": "Cambridge"}
    body = await gql(client, CREATE, {"input": new_patient(address=address)}, doctor.headers)
    assert "errors" not in body, body
    created = body["data"]["createPatient"]
    assert created["patientId"].startswith("P") and created["address"] == {"zipCode": "02139"}

    changes = {"email": "ada@new.example.org", "contactNumber": "+15551234567"}
    body = await gql(client, UPDATE, {"id": created["id"], "input": changes}, doctor.headers)
    assert "errors" not in body, body
    assert body["data"]["updatePatient"]["email"] == "ada@new.example.org"
    rest = await client.get(f"/api/v1/patients/{created['patientId']}", headers=doctor.headers)
    assert rest.json()["contact_number"] == "+15551234567"
    assert rest.json()["gender"] == "F"


async def test_invalid_input_names_the_field_in_graphql_spelling(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await clinician(client, runtime)
    body = await gql(client, CREATE, {"input": new_patient(email="not-an-email")}, doctor.headers)
    assert body["data"] is None
    assert codes(body) == ["VALIDATION_ERROR"]
    assert body["errors"][0]["extensions"]["details"]["field"] == "email"

    too_long = new_patient(address={"zipCode": "9" * 30})
    body = await gql(client, CREATE, {"input": too_long}, doctor.headers)
    assert codes(body) == ["VALIDATION_ERROR"]
    assert body["errors"][0]["extensions"]["details"]["field"] == "address.zipCode"
    assert (await gql(client, COUNT, None, doctor.headers))["data"]["patients"]["total"] == 0


async def test_an_error_rolls_back_the_whole_request(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    doctor = await clinician(client, runtime)
    both = """
    mutation Two($good: CreatePatientInput!, $bad: CreatePatientInput!) {
      first: createPatient(input: $good) { patientId }
      second: createPatient(input: $bad) { patientId }
    }
    """
    variables = {"good": new_patient(), "bad": new_patient(dateOfBirth="2999-01-01")}
    body = await gql(client, both, variables, doctor.headers)
    # The first mutation ran (and flushed) before the second failed; nothing of it remains.
    assert body["data"] is None
    assert codes(body) == ["VALIDATION_ERROR"]
    assert body["errors"][0]["extensions"]["details"]["field"] == "dateOfBirth"
    assert (await gql(client, COUNT, None, doctor.headers))["data"]["patients"]["total"] == 0


async def test_book_and_cancel_an_appointment(client: httpx.AsyncClient, runtime: Runtime) -> None:
    doctor = await clinician(client, runtime)
    patient = await make_patient(client, doctor.headers)
    booking = {
        "patientId": patient["patient_id"],
        "providerId": doctor.provider_id,
        "startDateTime": f"{SEED_DAY}T14:00:00Z",
        "endDateTime": f"{SEED_DAY}T14:30:00Z",
        "reason": "Follow-up",
    }
    body = await gql(client, BOOK, {"input": booking}, doctor.headers)
    assert "errors" not in body, body
    booked = body["data"]["bookAppointment"]
    assert booked["status"] == "scheduled" and booked["endDateTime"] == f"{SEED_DAY}T14:30:00Z"

    clash = await gql(client, BOOK, {"input": booking}, doctor.headers)
    assert codes(clash) == ["CONFLICT"]

    body = await gql(client, CANCEL, {"id": booked["appointmentNumber"]}, doctor.headers)
    assert body["data"]["cancelAppointment"] == {
        "status": "cancelled",
        "cancellationReason": "Feeling better",
    }
    again = await gql(client, CANCEL, {"id": booked["id"]}, doctor.headers)
    assert codes(again) == ["CONFLICT"]
