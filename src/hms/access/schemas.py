from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hms.schemas import InputModel


class EmergencyAccessRequest(InputModel):
    reason: str = Field(
        min_length=10,
        max_length=1000,
        description="Why the record is needed now; kept in the audit trail and shown to admins",
    )


class EmergencyAccessRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_id: uuid.UUID
    username: str
    role: str
    patient_id: uuid.UUID
    reason: str
    granted_at: datetime = Field(validation_alias="created_at")
    expires_at: datetime
    active: bool = False
