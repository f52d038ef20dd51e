"""Creating an account with what hangs off it: a clinician's provider record, a patient's
link to its chart. Used by `hms users create` and the demo loader."""

from __future__ import annotations

from typing import Any

from hms.auth import service as auth_service
from hms.auth.permissions import CLINICIAN_ROLES, Actor, Role
from hms.db import commit
from hms.errors import ValidationFailed
from hms.patients import service as patients
from hms.providers import service as providers
from hms.providers.schemas import ProviderCreate
from hms.runtime import Runtime


async def create_account(
    runtime: Runtime,
    *,
    username: str,
    password: str,
    role: Role,
    mfa: bool = False,
    first_name: str | None = None,
    last_name: str | None = None,
    email: str | None = None,
    specialty: str | None = None,
    npi: str | None = None,
    dea: str | None = None,
    patient: str | None = None,
) -> dict[str, Any]:
    actor = Actor.system()
    async with runtime.sessionmaker() as session:
        patient_id = None
        if role == Role.PATIENT:
            if not patient:
                raise ValidationFailed("patient", "a patient account needs --patient ID")
            patient_id = (await patients.load_patient(session, actor=actor, ref=patient)).id
        user = await auth_service.create_user(
            session,
            actor=actor,
            config=runtime.auth,
            username=username,
            password=password,
            role=role,
            email=email,
            first_name=first_name,
            last_name=last_name,
            patient_id=patient_id,
            with_mfa=mfa,
        )
        provider_id = None
        if role in CLINICIAN_ROLES:
            try:
                data = ProviderCreate(
                    first_name=first_name or username,
                    last_name=last_name or username,
                    specialty=specialty,
                    npi=npi,
                    dea_number=dea,
                    email=email,
                    user_id=user.id,
                )
            except ValueError as exc:
                errors: list[Any] = getattr(exc, "errors", lambda: [])()
                field = ".".join(str(p) for p in errors[0]["loc"]) if errors else "provider"
                msg = errors[0]["msg"].removeprefix("Value error, ") if errors else str(exc)
                raise ValidationFailed(field, msg) from None
            provider_id = (await providers.create_provider(session, actor=actor, data=data)).id
        await commit(session)
    out: dict[str, Any] = {"id": str(user.id), "username": user.username, "role": user.role}
    if provider_id:
        out["provider_id"] = str(provider_id)
    if patient_id:
        out["patient_id"] = str(patient_id)
    if mfa:
        out["totp_secret"] = user.mfa_secret
    return out
