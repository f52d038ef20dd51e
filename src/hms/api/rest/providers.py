"""Providers: the clinician directory, with NPI and DEA numbers checked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from hms.api.deps import ActorDep, PageDep, SessionDep
from hms.api.idempotency import IdempotencyDep
from hms.api.responses import etag, expected_version, href, json_response, list_body
from hms.providers import service
from hms.providers.models import Provider
from hms.providers.schemas import ProviderCreate, ProviderRead, ProviderUpdate
from hms.schemas import ListLinks

router = APIRouter(prefix="/providers", tags=["providers"])


class ProviderList(BaseModel):
    providers: list[ProviderRead]
    total: int
    limit: int
    offset: int
    links: ListLinks = Field(serialization_alias="_links")


def provider_read(request: Request, provider: Provider) -> ProviderRead:
    fields = (name for name in ProviderRead.model_fields if name != "links")
    return ProviderRead.model_validate(
        {
            **{name: getattr(provider, name) for name in fields},
            "links": {"self_": href(request, f"/providers/{provider.id}")},
        }
    )


def _resource(request: Request, provider: Provider, status: int = 200) -> Response:
    headers = {"ETag": etag(provider.version)}
    if status == 201:
        headers["Location"] = href(request, f"/providers/{provider.id}")["href"]
    return json_response(provider_read(request, provider), status=status, headers=headers)


@router.post("", status_code=201, response_model=ProviderRead)
async def create_provider(
    request: Request,
    body: ProviderCreate,
    session: SessionDep,
    actor: ActorDep,
    idempotency: IdempotencyDep,
) -> Response:
    """Add a provider (administrators). `npi` and `dea_number` are checked by their check
    digits; `user_id` links the provider to a clinician's account."""
    if replay := await idempotency.replay():
        return replay
    provider = await service.create_provider(session, actor=actor, data=body)
    response = _resource(request, provider, status=201)
    await idempotency.save(response)
    return response


@router.get("", response_model=ProviderList)
async def list_providers(
    request: Request,
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    specialty: Annotated[str | None, Query(max_length=100)] = None,
    is_active: bool | None = True,
) -> Response:
    """The provider directory, by name."""
    providers, total = await service.list_providers(
        session,
        actor=actor,
        limit=page.limit,
        offset=page.offset,
        specialty=specialty,
        is_active=is_active,
    )
    items: list[Any] = [
        provider_read(request, p).model_dump(mode="json", by_alias=True) for p in providers
    ]
    return json_response(
        list_body(request, "providers", items, total=total, limit=page.limit, offset=page.offset)
    )


@router.get("/{provider_id}", response_model=ProviderRead)
async def get_provider(
    request: Request, provider_id: str, session: SessionDep, actor: ActorDep
) -> Response:
    """One provider by id."""
    return _resource(request, await service.get_provider(session, actor=actor, ref=provider_id))


@router.put("/{provider_id}", response_model=ProviderRead)
async def update_provider(
    request: Request,
    provider_id: str,
    body: ProviderUpdate,
    session: SessionDep,
    actor: ActorDep,
) -> Response:
    """Change the fields sent (administrators, or the provider on its own entry)."""
    provider = await service.update_provider(
        session,
        actor=actor,
        ref=provider_id,
        data=body,
        expected_version=expected_version(request),
    )
    return _resource(request, provider)


@router.delete("/{provider_id}", status_code=204, response_class=Response)
async def deactivate_provider(provider_id: str, session: SessionDep, actor: ActorDep) -> Response:
    """Deactivate a provider; its history stays."""
    await service.deactivate_provider(session, actor=actor, ref=provider_id)
    return Response(status_code=204)
