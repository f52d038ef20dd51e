"""Clinical encounters: document, read, list, amend, and read a note's history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from hms.api.deps import ActorDep, Page, PageDep, SessionDep
from hms.api.idempotency import IdempotencyDep
from hms.api.openapi import error_responses
from hms.api.responses import etag, expected_version, href, json_response, list_body
from hms.clinical import coding, service
from hms.clinical.models import Encounter, EncounterVersion
from hms.clinical.schemas import (
    EncounterCreate,
    EncounterData,
    EncounterRead,
    EncounterStatus,
    EncounterUpdate,
    EncounterVersionRead,
)
from hms.schemas import ListLinks

router = APIRouter(tags=["clinical"])

ENCOUNTERS = "/clinical/encounters"
PatientQuery = Annotated[
    str | None, Query(max_length=64, description="The patient's UUID or number (P20240001)")
]
StatusQuery = Annotated[EncounterStatus | None, Query(description="Only encounters in this status")]


class EncounterList(BaseModel):
    encounters: list[EncounterRead]
    total: int
    limit: int
    offset: int
    links: ListLinks = Field(serialization_alias="_links")


class EncounterHistory(BaseModel):
    versions: list[EncounterVersionRead]
    total: int
    limit: int
    offset: int
    links: ListLinks = Field(serialization_alias="_links")


def encounter_read(request: Request, encounter: Encounter) -> EncounterRead:
    path = f"{ENCOUNTERS}/{encounter.id}"
    return EncounterRead.model_validate(
        {
            **{name: getattr(encounter, name) for name in EncounterData.model_fields},
            "assessment": coding.titled(encounter.assessment, "icd10_code"),
            "diagnoses": coding.titled(encounter.diagnoses, "code"),
            "links": {
                "self_": href(request, path),
                "patient": href(request, f"/patients/{encounter.patient_id}"),
                "provider": href(request, f"/providers/{encounter.provider_id}"),
                "history": href(request, f"{path}/history"),
            },
        }
    )


def _resource(request: Request, encounter: Encounter, status: int = 200) -> Response:
    headers = {"ETag": etag(encounter.version)}
    if status == 201:
        headers["Location"] = href(request, f"{ENCOUNTERS}/{encounter.id}")["href"]
    return json_response(encounter_read(request, encounter), status=status, headers=headers)


def _list(request: Request, encounters: list[Encounter], total: int, page: Page) -> Response:
    items = [encounter_read(request, e).model_dump(mode="json", by_alias=True) for e in encounters]
    return json_response(
        list_body(request, "encounters", items, total=total, limit=page.limit, offset=page.offset)
    )


def _version(version: EncounterVersion) -> dict[str, Any]:
    return EncounterVersionRead(
        version=version.version,
        status=version.status,
        change=version.change,
        reason=version.reason,
        changed_fields=version.fields,
        changed_by={
            "user_id": version.changed_by_user_id,
            "username": version.changed_by_username,
            "role": version.changed_by_role,
        },
        changed_at=version.changed_at,
        encounter=version.snapshot,
    ).model_dump(mode="json")


@router.post(ENCOUNTERS, status_code=201, response_model=EncounterRead)
async def create_encounter(
    request: Request,
    body: EncounterCreate,
    session: SessionDep,
    actor: ActorDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Document an encounter (doctors and nurses). `provider_id` defaults to the signed-in
    clinician, `encounter_date` to now and `status` to `completed` (send `in_progress` for a
    draft). ICD-10-CM codes and vital signs are checked; a bad one is a 422 naming the field.
    Send `Idempotency-Key` to make retries safe."""
    if replay := await idempotency.replay():
        return replay
    encounter = await service.create_encounter(session, actor=actor, data=body)
    response = _resource(request, encounter, status=201)
    await idempotency.save(response)
    return response


@router.get(ENCOUNTERS, response_model=EncounterList, responses=error_responses(404))
async def list_encounters(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    patient_id: PatientQuery = None,
    status: StatusQuery = None,
) -> Response:
    """Encounters, newest first, of one patient when `patient_id` is given. A patient user sees
    only its own completed or amended encounters."""
    encounters, total = await service.list_encounters(
        session,
        actor=actor,
        limit=page.limit,
        offset=page.offset,
        patient_ref=patient_id,
        status=status,
    )
    return _list(request, encounters, total, page)


@router.get(f"{ENCOUNTERS}/{{encounter_id}}", response_model=EncounterRead)
async def get_encounter(
    request: Request, encounter_id: str, session: SessionDep, actor: ActorDep
) -> Response:
    """One encounter. The `ETag` goes into `If-Match` on update."""
    encounter = await service.get_encounter(session, actor=actor, ref=encounter_id)
    return _resource(request, encounter)


@router.put(f"{ENCOUNTERS}/{{encounter_id}}", response_model=EncounterRead)
async def update_encounter(
    request: Request,
    encounter_id: str,
    body: EncounterUpdate,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    """Change the fields sent; the others stay. A completed encounter changed this way becomes
    `amended` (give `amendment_reason`); every earlier version stays in its history. With
    `If-Match`, a stale ETag gets 412."""
    encounter = await service.update_encounter(
        session,
        actor=actor,
        ref=encounter_id,
        data=body,
        expected_version=expected_version(request),
    )
    return _resource(request, encounter)


@router.get(f"{ENCOUNTERS}/{{encounter_id}}/history", response_model=EncounterHistory)
async def encounter_history(
    request: Request, encounter_id: str, session: SessionDep, actor: ActorDep, page: PageDep
) -> Response:
    """Every version of the encounter, newest first: the note as it was, who changed it, when,
    and why."""
    found, total = await service.encounter_history(
        session, actor=actor, ref=encounter_id, limit=page.limit, offset=page.offset
    )
    return json_response(
        list_body(
            request,
            "versions",
            [_version(v) for v in found],
            total=total,
            limit=page.limit,
            offset=page.offset,
        )
    )


@router.get("/patients/{patient_id}/encounters", response_model=EncounterList)
async def list_patient_encounters(
    request: Request,
    patient_id: str,
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    status: StatusQuery = None,
) -> Response:
    """A patient's encounters (by UUID or number), newest first."""
    encounters, total = await service.list_encounters(
        session,
        actor=actor,
        limit=page.limit,
        offset=page.offset,
        patient_ref=patient_id,
        status=status,
    )
    return _list(request, encounters, total, page)
