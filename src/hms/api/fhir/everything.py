"""`Patient/$everything`: the patient and everything recorded about it that the caller may
read, gathered through the same services as each resource's search (and audited by them).
Parts the caller's role may not read are left out rather than refusing the whole record."""

from __future__ import annotations

from hms.api.fhir.clinical import condition_resource, encounter_resource
from hms.api.fhir.interactions import Context, Resource
from hms.api.fhir.observations import observation_resource
from hms.api.fhir.patients import allergy_resources, patient_resource
from hms.api.fhir.search import as_uuid
from hms.clinical import diagnoses, observations
from hms.clinical import service as encounters
from hms.clinical.observations import ObservationFilter
from hms.errors import Forbidden, NotFound
from hms.patients import service as patients


async def patient_everything(ctx: Context, id_: str) -> list[Resource]:
    if as_uuid(id_) is None:
        raise NotFound("Patient not found")
    patient = await patients.get_patient(ctx.session, actor=ctx.actor, ref=id_)
    out = [patient_resource(patient), *allergy_resources(patient)]
    ids = [patient.id]
    session, actor = ctx.session, ctx.actor
    try:
        found, _ = await encounters.list_encounters(
            session, actor=actor, limit=None, offset=0, patient_ids=ids
        )
        out += [encounter_resource(e) for e in found]
        coded, _ = await diagnoses.list_diagnoses(session, actor=actor, limit=None, patient_ids=ids)
        out += [condition_resource(d) for d in coded]
    except Forbidden:
        pass
    try:
        seen, _ = await observations.list_observations(
            session, actor=actor, filters=ObservationFilter(patient_ids=ids), limit=None
        )
        out += [observation_resource(o) for o in seen]
    except Forbidden:
        pass
    return out
