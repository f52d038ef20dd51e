"""Controlled substances: the prescriber's DEA registration, the schedule's refill limits
(21 CFR 1306.12 and 1306.22) and the second factor that signs the prescription (the DEA's
electronic prescribing rule, 21 CFR 1311, asks for two-factor signing)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hms.audit import service as audit
from hms.auth import mfa
from hms.auth.models import User
from hms.auth.permissions import Actor
from hms.errors import Forbidden, Unauthorized, ValidationFailed
from hms.pharmacy.knowledge import knowledge
from hms.pharmacy.schemas import PrescriptionCreate
from hms.providers.identifiers import dea_is_valid
from hms.providers.models import Provider

MAX_REFILLS_III_V = 5


def schedule_of(data: PrescriptionCreate) -> str | None:
    """The schedule the prescription is written under; a 422 when it contradicts itself or
    the knowledge base's schedule of a known drug."""
    kb = knowledge()
    known = sorted({kb.schedules[g] for g in kb.resolve(data.medication.name) if g in kb.schedules})
    if not data.controlled_substance:
        if data.schedule is not None:
            raise ValidationFailed("schedule", "Only a controlled substance has a schedule")
        if known:
            raise ValidationFailed(
                "controlled_substance",
                f"{data.medication.name} is a Schedule {known[0]} controlled substance",
            )
        return None
    schedule = data.schedule or (known[0] if len(known) == 1 else None)
    if schedule is None:
        raise ValidationFailed("schedule", "Give the DEA schedule (II to V) of a controlled drug")
    if known and schedule not in known:
        raise ValidationFailed(
            "schedule", f"{data.medication.name} is Schedule {known[0]}, not Schedule {schedule}"
        )
    authorized = data.refills.authorized
    if schedule == "II" and authorized > 0:
        raise ValidationFailed("refills.authorized", "A Schedule II prescription has no refills")
    if authorized > MAX_REFILLS_III_V:
        raise ValidationFailed(
            "refills.authorized",
            f"A Schedule {schedule} prescription has at most {MAX_REFILLS_III_V} refills",
        )
    return schedule


def prescriber_dea(provider: Provider, sent: str | None) -> str:
    """The prescriber's DEA number on record, which a number sent must match."""
    dea = (provider.dea_number or "").upper()
    if not dea or not dea_is_valid(dea):
        raise ValidationFailed(
            "dea_number", "The prescriber has no valid DEA number on record for controlled drugs"
        )
    if sent is not None and sent.strip().upper() != dea:
        raise ValidationFailed("dea_number", "This is not the prescriber's DEA number on record")
    return dea


async def verify_second_factor(session: AsyncSession, *, actor: Actor, code: str | None) -> None:
    """Spend a current TOTP code of the signing user; each code signs once (shared with sign-in,
    so a code used to sign in cannot sign, and the other way round)."""
    if actor.user_id is None:
        raise Unauthorized()
    # Locked, so that one code raced from two requests signs once.
    user = (
        await session.execute(
            select(User)
            .where(User.id == actor.user_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    if not user.mfa_enabled or not user.mfa_secret:
        raise Forbidden(
            "Signing a controlled prescription needs multi-factor authentication: enrol with "
            "POST /auth/mfa/setup",
            details={"mfa_required": True},
        )
    if not code:
        raise ValidationFailed(
            "mfa_code", "A current code from your authenticator signs a controlled prescription"
        )
    step = mfa.accept(user.mfa_secret, code, last_step=user.mfa_last_step)
    if step is None:
        audit.record(
            session,
            actor=actor,
            action="prescription.sign",
            outcome="failure",
            resource_type="user",
            resource_id=user.id,
            details={"reason": "bad_mfa_code"},
        )
        error = ValidationFailed("mfa_code", "Invalid or already used code")
        # Keep the failed signature's audit entry: nothing else in this unit of work changed.
        error.keep_changes = True
        raise error
    user.mfa_last_step = step
