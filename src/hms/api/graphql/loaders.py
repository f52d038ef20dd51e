"""Per-request DataLoaders: nested lists and references load in one query per level, so a
query's statement count does not grow with the number of items it returns."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from strawberry.dataloader import DataLoader

from hms.appointments import queries as appointment_queries
from hms.appointments.models import Appointment
from hms.billing import charges as billing_charges
from hms.billing import claims as billing_claims
from hms.billing.models import Charge, Claim
from hms.clinical import service as clinical
from hms.clinical.models import Encounter
from hms.laboratory import orders as lab_orders
from hms.laboratory.models import LabOrder
from hms.pharmacy import service as pharmacy
from hms.pharmacy.models import Prescription
from hms.providers import service as providers
from hms.providers.models import Provider

if TYPE_CHECKING:
    from hms.api.graphql.context import GraphQLContext


class Loaders:
    def __init__(self, context: GraphQLContext) -> None:
        self._context = context
        self.encounters = DataLoader[uuid.UUID, list[Encounter]](self._encounters)
        self.appointments = DataLoader[uuid.UUID, list[Appointment]](self._appointments)
        self.prescriptions = DataLoader[uuid.UUID, list[Prescription]](self._prescriptions)
        self.lab_orders = DataLoader[uuid.UUID, list[LabOrder]](self._lab_orders)
        self.charges = DataLoader[uuid.UUID, list[Charge]](self._charges)
        self.claims = DataLoader[uuid.UUID, list[Claim]](self._claims)
        self.providers = DataLoader[uuid.UUID, Provider | None](self._providers)

    async def _encounters(self, keys: Sequence[uuid.UUID]) -> list[list[Encounter]]:
        actor = await self._context.actor()
        async with self._context.db() as session:
            found = await clinical.encounters_for_patients(
                session, actor=actor, patient_ids=list(keys)
            )
        return [found[key] for key in keys]

    async def _appointments(self, keys: Sequence[uuid.UUID]) -> list[list[Appointment]]:
        actor = await self._context.actor()
        async with self._context.db() as session:
            found = await appointment_queries.appointments_for_patients(
                session, actor=actor, patient_ids=list(keys)
            )
        return [found[key] for key in keys]

    async def _prescriptions(self, keys: Sequence[uuid.UUID]) -> list[list[Prescription]]:
        actor = await self._context.actor()
        async with self._context.db() as session:
            found = await pharmacy.prescriptions_for_patients(
                session, actor=actor, patient_ids=list(keys)
            )
        return [found[key] for key in keys]

    async def _lab_orders(self, keys: Sequence[uuid.UUID]) -> list[list[LabOrder]]:
        actor = await self._context.actor()
        async with self._context.db() as session:
            found = await lab_orders.orders_for_patients(
                session, actor=actor, patient_ids=list(keys)
            )
        return [found[key] for key in keys]

    async def _charges(self, keys: Sequence[uuid.UUID]) -> list[list[Charge]]:
        actor = await self._context.actor()
        async with self._context.db() as session:
            found = await billing_charges.charges_for_patients(
                session, actor=actor, patient_ids=list(keys)
            )
        return [found[key] for key in keys]

    async def _claims(self, keys: Sequence[uuid.UUID]) -> list[list[Claim]]:
        actor = await self._context.actor()
        async with self._context.db() as session:
            found = await billing_claims.claims_for_patients(
                session, actor=actor, patient_ids=list(keys)
            )
        return [found[key] for key in keys]

    async def _providers(self, keys: Sequence[uuid.UUID]) -> list[Provider | None]:
        actor = await self._context.actor()
        async with self._context.db() as session:
            found = await providers.providers_by_ids(session, actor=actor, ids=list(keys))
        return [found.get(key) for key in keys]
