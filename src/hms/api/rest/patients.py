"""Patients: register, read, update, deactivate, list and search."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from hms.api.deps import ActorDep, PageDep, SessionDep
from hms.api.idempotency import IdempotencyDep
from hms.api.responses import etag, expected_version, href, json_response, list_body
from hms.patients import service
from hms.patients.models import Patient
from hms.patients.schemas import PatientCreate, PatientRead, PatientSummary, PatientUpdate
from hms.schemas import ListLinks

router = APIRouter(prefix="/patients", tags=["patients"])

PatientRef = Annotated[str, "The patient's UUID or its number (P20240001)"]


class PatientList(BaseModel):
    patients: list[PatientSummary]
    total: int
    limit: int
    offset: int
    links: ListLinks = Field(serialization_alias="_links")


def patient_read(request: Request, patient: Patient) -> PatientRead:
    path = f"/patients/{patient.id}"
    fields = (name for name in PatientRead.model_fields if name not in ("links", "patient_id"))
    return PatientRead.model_validate(
        {
            **{name: getattr(patient, name) for name in fields},
            "patient_number": patient.patient_number,
            "links": {
                "self_": href(request, path),
                "clinical_encounters": href(request, f"{path}/encounters"),
                "appointments": href(request, f"{path}/appointments"),
            },
        }
    )


def _resource(request: Request, patient: Patient, status: int = 200) -> Response:
    headers = {"ETag": etag(patient.version)}
    if status == 201:
        headers["Location"] = href(request, f"/patients/{patient.id}")["href"]
    return json_response(patient_read(request, patient), status=status, headers=headers)


def _summaries(patients: list[Patient]) -> list[dict[str, Any]]:
    return [PatientSummary.model_validate(p).model_dump(mode="json") for p in patients]


@router.post("", status_code=201, response_model=PatientRead)
async def create_patient(
    request: Request,
    body: PatientCreate,
    session: SessionDep,
    actor: ActorDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Register a patient. The server assigns `id` and the patient number (`patient_id`).
    Send `Idempotency-Key` to make retries safe."""
    if replay := await idempotency.replay():
        return replay
    patient = await service.create_patient(session, actor=actor, data=body)
    response = _resource(request, patient, status=201)
    await idempotency.save(response)
    return response


@router.get("", response_model=PatientList)
async def list_patients(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    is_active: Annotated[bool | None, Query(description="Active (default) or deactivated")] = True,
) -> Response:
    """Patients by name, paginated. A patient user sees only its own record."""
    patients, total = await service.list_patients(
        session, actor=actor, limit=page.limit, offset=page.offset, is_active=is_active
    )
    return json_response(
        list_body(
            request,
            "patients",
            _summaries(patients),
            total=total,
            limit=page.limit,
            offset=page.offset,
        )
    )


@router.get("/search", response_model=PatientList)
async def search_patients(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    query: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="Name (typos and accents tolerated), patient number, e-mail or phone",
        ),
    ],
    include_inactive: bool = False,
) -> Response:
    """Search patients, best matches first."""
    patients, total = await service.search_patients(
        session,
        actor=actor,
        query=query,
        limit=page.limit,
        offset=page.offset,
        include_inactive=include_inactive,
    )
    return json_response(
        list_body(
            request,
            "patients",
            _summaries(patients),
            total=total,
            limit=page.limit,
            offset=page.offset,
        )
    )


@router.get("/{patient_id}", response_model=PatientRead)
async def get_patient(
    request: Request, patient_id: PatientRef, session: SessionDep, actor: ActorDep
) -> Response:
    """One patient, by UUID or patient number. The `ETag` goes into `If-Match` on update."""
    patient = await service.get_patient(session, actor=actor, ref=patient_id)
    return _resource(request, patient)


@router.put("/{patient_id}", response_model=PatientRead)
async def update_patient(
    request: Request,
    patient_id: PatientRef,
    body: PatientUpdate,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    """Change the fields sent; the others stay. With `If-Match`, a stale ETag gets 412."""
    patient = await service.update_patient(
        session,
        actor=actor,
        ref=patient_id,
        data=body,
        expected_version=expected_version(request),
    )
    return _resource(request, patient)


@router.delete("/{patient_id}", status_code=204, response_class=Response)
async def deactivate_patient(
    request: Request, patient_id: PatientRef, session: SessionDep, actor: ActorDep
) -> Response:
    """Deactivate (records are never erased): `is_active` becomes false."""
    await service.deactivate_patient(
        session, actor=actor, ref=patient_id, expected_version=expected_version(request)
    )
    return Response(status_code=204)
