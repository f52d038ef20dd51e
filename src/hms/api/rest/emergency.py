"""Emergency ("break the glass") access to a restricted patient's record, and its review."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from hms.access import emergency
from hms.access.models import EmergencyAccessGrant
from hms.access.schemas import EmergencyAccessRead, EmergencyAccessRequest
from hms.api.deps import ActorDep, PageDep, SessionDep, get_runtime
from hms.api.responses import json_response, list_body
from hms.db import utcnow
from hms.schemas import ListLinks

router = APIRouter(tags=["emergency access"])


class EmergencyAccessList(BaseModel):
    grants: list[EmergencyAccessRead]
    total: int
    limit: int
    offset: int
    links: ListLinks = Field(serialization_alias="_links")


def _read(grant: EmergencyAccessGrant) -> EmergencyAccessRead:
    read = EmergencyAccessRead.model_validate(grant)
    return read.model_copy(update={"active": grant.expires_at > utcnow()})


@router.post(
    "/patients/{patient_id}/emergency-access",
    status_code=201,
    response_model=EmergencyAccessRead,
)
async def request_emergency_access(
    request: Request,
    patient_id: str,
    body: EmergencyAccessRequest,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    """Break the glass: open a restricted patient's record (by UUID or number) for
    HMS_EMERGENCY_ACCESS_MINUTES (60 by default), giving the reason. Doctors and nurses may;
    the grant is audited as `emergency_access`, every use of it is flagged in the audit trail,
    and administrators review grants at GET /emergency-access."""
    grant = await emergency.grant_access(
        session,
        actor=actor,
        patient_ref=patient_id,
        reason=body.reason,
        minutes=get_runtime(request).settings.emergency_access_minutes,
    )
    return json_response(_read(grant), status=201)


@router.get("/emergency-access", response_model=EmergencyAccessList)
async def list_emergency_access(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    user_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    active: Annotated[bool | None, Query(description="Only unexpired (or expired) grants")] = None,
) -> Response:
    """Emergency-access grants, newest first, for administrators to review."""
    grants, total = await emergency.list_grants(
        session,
        actor=actor,
        filters=emergency.GrantFilter(user_id=user_id, patient_id=patient_id, active=active),
        limit=page.limit,
        offset=page.offset,
    )
    items = [_read(g).model_dump(mode="json") for g in grants]
    return json_response(
        list_body(request, "grants", items, total=total, limit=page.limit, offset=page.offset)
    )
