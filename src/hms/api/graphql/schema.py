"""Queries and mutations. Each resolver calls the same service as its REST endpoint, so the
permission map, validation, audit trail and events are the same whichever door is used."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hms.api.graphql import types as t
from hms.api.graphql.inputs import (
    BookAppointmentInput,
    CreateClinicalEncounterInput,
    CreatePatientInput,
    UpdatePatientInput,
    sent,
)
from hms.appointments import booking, queries, status
from hms.appointments.schemas import AppointmentCreate, CancelRequest
from hms.auth.permissions import Actor
from hms.billing import charges as billing_charges
from hms.billing import claims as billing_claims
from hms.clinical import service as clinical
from hms.clinical.schemas import EncounterCreate
from hms.errors import ValidationFailed
from hms.laboratory import orders as lab_orders
from hms.laboratory import results as lab_results
from hms.patients import service as patients
from hms.patients.schemas import PatientCreate, PatientUpdate
from hms.pharmacy import service as pharmacy
from hms.providers import service as providers

Info = t.Info


@asynccontextmanager
async def work(info: Info) -> AsyncIterator[tuple[AsyncSession, Actor]]:
    actor = await info.context.actor()
    async with info.context.db() as session:
        yield session, actor


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= 100:
        raise ValidationFailed("limit", "Give a page size from 1 to 100")
    if not 0 <= offset <= 10_000_000:
        raise ValidationFailed("offset", "Give an offset from 0 to 10000000")


@strawberry.type
class Query:
    @strawberry.field(description="A patient by UUID or patient number (P20240001)")
    async def patient(self, info: Info, id: strawberry.ID) -> t.Patient | None:
        async with work(info) as (session, actor):
            return t.patient_of(await patients.get_patient(session, actor=actor, ref=id))

    @strawberry.field(description="Patients by name, number, e-mail or phone; all when no search")
    async def patients(
        self,
        info: Info,
        search: str | None = None,
        include_inactive: bool = False,
        limit: int = 10,
        offset: int = 0,
    ) -> t.PatientPage:
        _page(limit, offset)
        async with work(info) as (session, actor):
            if search is None:
                active = None if include_inactive else True
                rows, total = await patients.list_patients(
                    session, actor=actor, limit=limit, offset=offset, is_active=active
                )
            else:
                rows, total = await patients.search_patients(
                    session,
                    actor=actor,
                    query=search,
                    limit=limit,
                    offset=offset,
                    include_inactive=include_inactive,
                )
        items = [t.patient_of(row) for row in rows]
        return t.PatientPage(patients=items, total=total, limit=limit, offset=offset)

    @strawberry.field
    async def clinical_encounter(self, info: Info, id: strawberry.ID) -> t.ClinicalEncounter | None:
        async with work(info) as (session, actor):
            return t.encounter_of(await clinical.get_encounter(session, actor=actor, ref=id))

    @strawberry.field(description="Encounters, newest first; one patient's when patientId is given")
    async def clinical_encounters(
        self,
        info: Info,
        patient_id: strawberry.ID | None = None,
        status: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> t.EncounterPage:
        _page(limit, offset)
        async with work(info) as (session, actor):
            rows, total = await clinical.list_encounters(
                session,
                actor=actor,
                limit=limit,
                offset=offset,
                patient_ref=patient_id,
                status=status,
            )
        items = [t.encounter_of(row) for row in rows]
        return t.EncounterPage(encounters=items, total=total, limit=limit, offset=offset)

    @strawberry.field(description="An appointment by UUID or number (APT20240001)")
    async def appointment(self, info: Info, id: strawberry.ID) -> t.Appointment | None:
        async with work(info) as (session, actor):
            return t.appointment_of(await queries.get_appointment(session, actor=actor, ref=id))

    @strawberry.field(description="Appointments in start order, filtered like the REST list")
    async def appointments(
        self,
        info: Info,
        patient_id: strawberry.ID | None = None,
        provider_id: strawberry.ID | None = None,
        start_date: dt.date | None = None,
        end_date: dt.date | None = None,
        status: list[str] | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> t.AppointmentPage:
        _page(limit, offset)
        try:
            provider = None if provider_id is None else uuid.UUID(provider_id)
        except ValueError:
            raise ValidationFailed("providerId", "Give the provider's UUID") from None
        filters = queries.AppointmentFilter(
            patient=patient_id,
            provider_id=provider,
            start_date=start_date,
            end_date=end_date,
            statuses=tuple(status or ()),
        )
        async with work(info) as (session, actor):
            rows, total = await queries.list_appointments(
                session, actor=actor, filters=filters, limit=limit, offset=offset
            )
        items = [t.appointment_of(row) for row in rows]
        return t.AppointmentPage(appointments=items, total=total, limit=limit, offset=offset)

    @strawberry.field(
        description="Prescriptions, newest first; one patient's when patientId is given"
    )
    async def prescriptions(
        self,
        info: Info,
        patient_id: strawberry.ID | None = None,
        status: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> t.PrescriptionPage:
        _page(limit, offset)
        async with work(info) as (session, actor):
            rows, total = await pharmacy.list_prescriptions(
                session,
                actor=actor,
                limit=limit,
                offset=offset,
                patient_ref=patient_id,
                status=status,
            )
        items = [t.prescription_of(row) for row in rows]
        return t.PrescriptionPage(prescriptions=items, total=total, limit=limit, offset=offset)

    @strawberry.field(description="A laboratory order by UUID or number (LAB20240001)")
    async def lab_order(self, info: Info, id: strawberry.ID) -> t.LabOrder | None:
        async with work(info) as (session, actor):
            return t.lab_order_of(await lab_orders.get_order(session, actor=actor, ref=id))

    @strawberry.field(description="Laboratory orders, newest first; one patient's when given")
    async def lab_orders(
        self,
        info: Info,
        patient_id: strawberry.ID | None = None,
        status: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> t.LabOrderPage:
        _page(limit, offset)
        async with work(info) as (session, actor):
            rows, total = await lab_orders.list_orders(
                session,
                actor=actor,
                limit=limit,
                offset=offset,
                patient_ref=patient_id,
                status=status,
            )
        items = [t.lab_order_of(row) for row in rows]
        return t.LabOrderPage(orders=items, total=total, limit=limit, offset=offset)

    @strawberry.field(description="An order's results; a patient sees released values only")
    async def lab_results(self, info: Info, order_id: strawberry.ID) -> t.LabResults | None:
        async with work(info) as (session, actor):
            order, found = await lab_results.read_results(session, actor=actor, ref=order_id)
            return t.lab_results_of(order, found)

    @strawberry.field(description="A charge by UUID or number (CHG20240001)")
    async def charge(self, info: Info, id: strawberry.ID) -> t.Charge | None:
        async with work(info) as (session, actor):
            return t.charge_of(await billing_charges.get_charge(session, actor=actor, ref=id))

    @strawberry.field(description="Charges, newest first; one patient's when patientId is given")
    async def charges(
        self,
        info: Info,
        patient_id: strawberry.ID | None = None,
        status: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> t.ChargePage:
        _page(limit, offset)
        filters = billing_charges.ChargeFilter(patient=patient_id, status=status)
        async with work(info) as (session, actor):
            rows, total = await billing_charges.list_charges(
                session, actor=actor, filters=filters, limit=limit, offset=offset
            )
        items = [t.charge_of(row) for row in rows]
        return t.ChargePage(charges=items, total=total, limit=limit, offset=offset)

    @strawberry.field(description="A claim by UUID or number (CLM20240001)")
    async def claim(self, info: Info, id: strawberry.ID) -> t.Claim | None:
        async with work(info) as (session, actor):
            return t.claim_of(await billing_claims.get_claim(session, actor=actor, ref=id))

    @strawberry.field(description="Claims, newest first; one patient's when patientId is given")
    async def claims(
        self,
        info: Info,
        patient_id: strawberry.ID | None = None,
        status: str | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> t.ClaimPage:
        _page(limit, offset)
        filters = billing_claims.ClaimFilter(patient=patient_id, status=status)
        async with work(info) as (session, actor):
            rows, total = await billing_claims.list_claims(
                session, actor=actor, filters=filters, limit=limit, offset=offset
            )
        items = [t.claim_of(row) for row in rows]
        return t.ClaimPage(claims=items, total=total, limit=limit, offset=offset)

    @strawberry.field
    async def provider(self, info: Info, id: strawberry.ID) -> t.Provider | None:
        async with work(info) as (session, actor):
            return t.provider_of(await providers.get_provider(session, actor=actor, ref=id))

    @strawberry.field
    async def providers(
        self, info: Info, specialty: str | None = None, limit: int = 10, offset: int = 0
    ) -> t.ProviderPage:
        _page(limit, offset)
        async with work(info) as (session, actor):
            rows, total = await providers.list_providers(
                session, actor=actor, limit=limit, offset=offset, specialty=specialty
            )
        items = [p for row in rows if (p := t.provider_of(row)) is not None]
        return t.ProviderPage(providers=items, total=total, limit=limit, offset=offset)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_patient(self, info: Info, input: CreatePatientInput) -> t.Patient:  # type: ignore[valid-type]
        data = PatientCreate.model_validate(sent(input))
        async with work(info) as (session, actor):
            return t.patient_of(await patients.create_patient(session, actor=actor, data=data))

    @strawberry.mutation(description="Change the fields sent; a patient user its contact details")
    async def update_patient(
        self,
        info: Info,
        id: strawberry.ID,
        input: UpdatePatientInput,  # type: ignore[valid-type]
    ) -> t.Patient:
        data = PatientUpdate.model_validate(sent(input))
        async with work(info) as (session, actor):
            row = await patients.update_patient(session, actor=actor, ref=id, data=data)
            return t.patient_of(row)

    @strawberry.mutation
    async def create_clinical_encounter(
        self,
        info: Info,
        input: CreateClinicalEncounterInput,  # type: ignore[valid-type]
    ) -> t.ClinicalEncounter:
        data = EncounterCreate.model_validate(sent(input))
        async with work(info) as (session, actor):
            row = await clinical.create_encounter(session, actor=actor, data=data)
            return t.encounter_of(row)

    @strawberry.mutation
    async def book_appointment(
        self,
        info: Info,
        input: BookAppointmentInput,  # type: ignore[valid-type]
    ) -> t.Appointment:
        data = AppointmentCreate.model_validate(sent(input))
        async with work(info) as (session, actor):
            row = await booking.book_appointment(session, actor=actor, data=data)
            return t.appointment_of(row)

    @strawberry.mutation(description="Cancel a scheduled or checked-in appointment")
    async def cancel_appointment(
        self, info: Info, id: strawberry.ID, reason: str | None = None
    ) -> t.Appointment:
        body = CancelRequest.model_validate({"reason": reason})
        async with work(info) as (session, actor):
            row = await status.change_status(
                session, actor=actor, ref=id, transition=status.CANCEL, reason=body.reason
            )
            return t.appointment_of(row)
