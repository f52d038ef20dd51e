"""The audit trail, for administrators; a patient user sees who touched its own record."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from hms.api.deps import ActorDep, PageDep, SessionDep
from hms.api.responses import json_response, list_body
from hms.audit import service
from hms.schemas import ListLinks

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    id: uuid.UUID
    occurred_at: datetime
    user_id: uuid.UUID | None
    username: str | None
    role: str | None
    ip_address: str | None
    user_agent: str | None
    action: str
    resource_type: str | None
    resource_id: str | None
    patient_id: uuid.UUID | None
    outcome: str
    request_id: str | None
    details: dict[str, Any]
    hash: str


class AuditList(BaseModel):
    entries: list[AuditEntryRead]
    total: int
    limit: int
    offset: int
    links: ListLinks = Field(serialization_alias="_links")


@router.get("", response_model=AuditList)
async def list_audit_entries(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    user_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=64, description="e.g. patient.read")] = None,
    resource_type: Annotated[str | None, Query(max_length=64)] = None,
    resource_id: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Annotated[str | None, Query(pattern="^(success|failure|denied)$")] = None,
    request_id: Annotated[str | None, Query(max_length=128)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Response:
    """Audit entries, newest first, filtered by any of the parameters."""
    filters = service.AuditFilter(
        user_id=user_id,
        patient_id=patient_id,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        outcome=outcome,
        request_id=request_id,
        since=since,
        until=until,
    )
    entries, total = await service.list_entries(
        session, actor=actor, filters=filters, limit=page.limit, offset=page.offset
    )
    items = [AuditEntryRead.model_validate(e).model_dump(mode="json") for e in entries]
    return json_response(
        list_body(request, "entries", items, total=total, limit=page.limit, offset=page.offset)
    )
