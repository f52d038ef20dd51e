from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from hms.schemas import InputModel


class TokenRequest(InputModel):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)
    mfa_code: str | None = Field(None, max_length=16)


class RefreshRequest(InputModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class LogoutRequest(InputModel):
    refresh_token: str | None = Field(None, max_length=512)


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"
    scope: str


class MFASetupResponse(BaseModel):
    secret: str
    otpauth_uri: str
    message: str = "Scan the URI with an authenticator app, then confirm with POST /auth/mfa/verify"


class MFAVerifyRequest(InputModel):
    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")


class MFAVerifyResponse(BaseModel):
    mfa_enabled: bool


class Me(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    role: str
    first_name: str | None
    last_name: str | None
    email: str | None
    patient_id: uuid.UUID | None
    provider_id: uuid.UUID | None
    mfa_enabled: bool
    permissions: list[str]
    mfa_enrollment_required: bool = False
