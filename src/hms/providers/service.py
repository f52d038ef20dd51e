"""Providers: the clinicians who document, prescribe, order and see patients."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from hms.audit import service as audit
from hms.auth.models import User
from hms.auth.permissions import CLINICIAN_ROLES, Actor, Permission, Role
from hms.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from hms.providers.models import Provider
from hms.providers.schemas import ProviderCreate, ProviderUpdate


async def provider_id_for_user(session: AsyncSession, user_id: uuid.UUID) -> uuid.UUID | None:
    return (
        await session.execute(select(Provider.id).where(Provider.user_id == user_id))
    ).scalar_one_or_none()


async def create_provider(session: AsyncSession, *, actor: Actor, data: ProviderCreate) -> Provider:
    actor.require(Permission.PROVIDERS_WRITE)
    values = data.model_dump(exclude_none=True)
    await _check_unique(session, values)
    provider = Provider(id=uuid.uuid4(), is_active=True, **values)
    session.add(provider)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="provider.create",
        resource_type="provider",
        resource_id=provider.id,
    )
    return provider


async def get_provider(session: AsyncSession, *, actor: Actor, ref: str) -> Provider:
    actor.require(Permission.PROVIDERS_READ)
    try:
        provider_id = uuid.UUID(ref)
    except ValueError:
        raise NotFound("Provider not found") from None
    provider = await session.get(Provider, provider_id)
    if provider is None:
        raise NotFound("Provider not found")
    return provider


async def providers_by_ids(
    session: AsyncSession, *, actor: Actor, ids: list[uuid.UUID]
) -> dict[uuid.UUID, Provider]:
    """Several providers in one query, for batched readers such as GraphQL."""
    actor.require(Permission.PROVIDERS_READ)
    if not ids:
        return {}
    rows = await session.execute(select(Provider).where(Provider.id.in_(ids)))
    return {provider.id: provider for provider in rows.scalars()}


async def update_provider(
    session: AsyncSession,
    *,
    actor: Actor,
    ref: str,
    data: ProviderUpdate,
    expected_version: int | None = None,
) -> Provider:
    provider = await get_provider(session, actor=actor, ref=ref)
    # A clinician may keep its own directory entry current; admins manage all of them.
    if provider.user_id is None or provider.user_id != actor.user_id:
        actor.require(Permission.PROVIDERS_WRITE)
    if expected_version is not None and expected_version != provider.version:
        raise PreconditionFailed("The provider was changed since you read it; fetch it again")
    changes = data.model_dump(exclude_unset=True)
    for name in ("first_name", "last_name"):
        if name in changes and changes[name] is None:
            raise ValidationFailed(name, "This field cannot be empty")
    if "user_id" in changes and not actor.can(Permission.PROVIDERS_WRITE):
        raise ValidationFailed("user_id", "Only administrators link accounts")
    await _check_unique(session, changes, exclude=provider.id)
    for name, value in changes.items():
        setattr(provider, name, value)
    try:
        await session.flush()
    except StaleDataError:
        raise PreconditionFailed("The provider was changed by another request; retry") from None
    audit.record(
        session,
        actor=actor,
        action="provider.update",
        resource_type="provider",
        resource_id=provider.id,
        details={"fields": sorted(changes)},
    )
    return provider


async def deactivate_provider(session: AsyncSession, *, actor: Actor, ref: str) -> Provider:
    actor.require(Permission.PROVIDERS_WRITE)
    provider = await get_provider(session, actor=actor, ref=ref)
    provider.is_active = False
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="provider.deactivate",
        resource_type="provider",
        resource_id=provider.id,
    )
    return provider


async def list_providers(
    session: AsyncSession,
    *,
    actor: Actor,
    limit: int,
    offset: int,
    specialty: str | None = None,
    is_active: bool | None = True,
    ids: Sequence[uuid.UUID] | None = None,
    names: Sequence[str] | None = None,
    npis: Sequence[str] | None = None,
    dea_numbers: Sequence[str] | None = None,
) -> tuple[list[Provider], int]:
    """By name; narrowed to some ids, NPIs or DEA numbers, or to names any of `names` starts
    (each of its words the start of the first or last name, case ignored), when asked."""
    actor.require(Permission.PROVIDERS_READ)
    stmt = select(Provider)
    if ids is not None:
        stmt = stmt.where(Provider.id.in_(ids))
    if npis is not None:
        stmt = stmt.where(Provider.npi.in_(npis))
    if dea_numbers is not None:
        stmt = stmt.where(Provider.dea_number.in_([d.upper() for d in dea_numbers]))
    if names is not None:
        stmt = stmt.where(or_(false(), *(_name_starts(name) for name in names)))
    if specialty:
        stmt = stmt.where(func.lower(Provider.specialty) == specialty.lower())
    if is_active is not None:
        stmt = stmt.where(Provider.is_active == is_active)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await session.execute(
        stmt.order_by(Provider.last_name, Provider.first_name, Provider.id)
        .limit(limit)
        .offset(offset)
    )
    return list(rows.scalars()), total


async def _check_unique(
    session: AsyncSession, values: dict[str, Any], exclude: uuid.UUID | None = None
) -> None:
    if values.get("npi"):
        stmt = select(Provider.id).where(Provider.npi == values["npi"])
        if exclude:
            stmt = stmt.where(Provider.id != exclude)
        if (await session.execute(stmt)).first():
            raise Conflict("A provider with this NPI already exists")
    if values.get("user_id"):
        user = await session.get(User, values["user_id"])
        if user is None:
            raise ValidationFailed("user_id", "No such user")
        if Role(user.role) not in CLINICIAN_ROLES | {Role.ADMIN}:
            raise ValidationFailed("user_id", "Only clinician accounts can be linked to a provider")
        stmt = select(Provider.id).where(Provider.user_id == values["user_id"])
        if exclude:
            stmt = stmt.where(Provider.id != exclude)
        if (await session.execute(stmt)).first():
            raise Conflict("This user is already linked to a provider")


def _name_starts(name: str) -> ColumnElement[bool]:
    words = name.casefold().split()
    return and_(
        true(),
        *(
            or_(
                func.lower(Provider.first_name).startswith(word, autoescape=True),
                func.lower(Provider.last_name).startswith(word, autoescape=True),
            )
            for word in words
        ),
    )
