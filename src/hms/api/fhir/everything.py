"""`Patient/$everything`: the patient and everything recorded about it that the caller may
read, gathered through the same services as each resource's search (and audited by them).
Parts the caller's role may not read are left out rather than refusing the whole record."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from hms.api.fhir import billing, orders
from hms.api.fhir.clinical import condition_resource, encounter_resource
from hms.api.fhir.interactions import Context, Resource
from hms.api.fhir.observations import observation_resource
from hms.api.fhir.patients import allergy_resources, patient_resource
from hms.api.fhir.scheduling import appointment_resource
from hms.api.fhir.search import as_uuid
from hms.appointments import queries as appointments
from hms.billing import charges, claims
from hms.clinical import diagnoses, observations
from hms.clinical import service as encounters
from hms.clinical.observations import ObservationFilter
from hms.errors import Forbidden, NotFound
from hms.laboratory import orders as lab_orders
from hms.patients import service as patients
from hms.pharmacy import service as prescriptions

Part = Callable[[Context, list[uuid.UUID]], Awaitable[list[Resource]]]


async def _encounters(ctx: Context, ids: list[uuid.UUID]) -> list[Resource]:
    found, _ = await encounters.list_encounters(
        ctx.session, actor=ctx.actor, limit=None, offset=0, patient_ids=ids
    )
    coded, _ = await diagnoses.list_diagnoses(
        ctx.session, actor=ctx.actor, limit=None, patient_ids=ids
    )
    return [encounter_resource(e) for e in found] + [condition_resource(d) for d in coded]


async def _observations(ctx: Context, ids: list[uuid.UUID]) -> list[Resource]:
    found, _ = await observations.list_observations(
        ctx.session, actor=ctx.actor, filters=ObservationFilter(patient_ids=ids), limit=None
    )
    return [observation_resource(o) for o in found]


async def _prescriptions(ctx: Context, ids: list[uuid.UUID]) -> list[Resource]:
    found, _ = await prescriptions.list_prescriptions(
        ctx.session, actor=ctx.actor, limit=None, offset=0, patient_ids=ids
    )
    return [orders.medication_request(rx) for rx in found]


async def _laboratory(ctx: Context, ids: list[uuid.UUID]) -> list[Resource]:
    found, _ = await lab_orders.list_orders(
        ctx.session, actor=ctx.actor, limit=None, offset=0, patient_ids=ids
    )
    requests = [orders.service_request(o) for o in found]
    return requests + await orders.diagnostic_reports(ctx, found)


async def _appointments(ctx: Context, ids: list[uuid.UUID]) -> list[Resource]:
    found, _ = await appointments.list_appointments(
        ctx.session,
        actor=ctx.actor,
        filters=appointments.AppointmentFilter(patient_ids=ids),
        limit=None,
        offset=0,
    )
    return [appointment_resource(a) for a in found]


async def _billing(ctx: Context, ids: list[uuid.UUID]) -> list[Resource]:
    found, _ = await charges.list_charges(
        ctx.session,
        actor=ctx.actor,
        filters=charges.ChargeFilter(patient_ids=ids),
        limit=None,
        offset=0,
    )
    submitted, _ = await claims.list_claims(
        ctx.session,
        actor=ctx.actor,
        filters=claims.ClaimFilter(patient_ids=ids),
        limit=None,
        offset=0,
    )
    return [billing.charge_item(c) for c in found] + await billing.claim_resources(ctx, submitted)


PARTS: tuple[Part, ...] = (
    _encounters,
    _observations,
    _prescriptions,
    _laboratory,
    _appointments,
    _billing,
)


async def patient_everything(ctx: Context, id_: str) -> list[Resource]:
    if as_uuid(id_) is None:
        raise NotFound("Patient not found")
    patient = await patients.get_patient(ctx.session, actor=ctx.actor, ref=id_)
    out = [patient_resource(patient), *allergy_resources(patient)]
    for part in PARTS:
        try:
            out += await part(ctx, [patient.id])
        except Forbidden:
            continue
    return out
