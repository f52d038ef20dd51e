from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from hms.patients.schemas import Name, Phone, ShortText
from hms.providers.identifiers import dea_is_valid, npi_is_valid
from hms.schemas import InputModel, Link


def _npi(value: str) -> str:
    if not npi_is_valid(value):
        raise ValueError("Invalid NPI: 10 digits with a valid Luhn check digit")
    return value


def _dea(value: str) -> str:
    value = value.upper()
    if not dea_is_valid(value):
        raise ValueError(
            "Invalid DEA number: two letters and seven digits with a valid check digit"
        )
    return value


NPI = Annotated[str, Field(min_length=10, max_length=10), AfterValidator(_npi)]
DEA = Annotated[str, Field(min_length=9, max_length=9), AfterValidator(_dea)]


class ProviderCreate(InputModel):
    first_name: Name
    last_name: Name
    specialty: ShortText | None = None
    npi: NPI | None = None
    dea_number: DEA | None = None
    email: EmailStr | None = Field(None, max_length=254)
    phone: Phone | None = None
    user_id: uuid.UUID | None = None


class ProviderUpdate(InputModel):
    first_name: Name | None = None
    last_name: Name | None = None
    specialty: ShortText | None = None
    npi: NPI | None = None
    dea_number: DEA | None = None
    email: EmailStr | None = Field(None, max_length=254)
    phone: Phone | None = None
    user_id: uuid.UUID | None = None


class ProviderLinks(BaseModel):
    self_: Link = Field(serialization_alias="self")


class ProviderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    first_name: str
    last_name: str
    specialty: str | None
    npi: str | None
    dea_number: str | None
    email: str | None
    phone: str | None
    user_id: uuid.UUID | None
    is_active: bool
    created_at: datetime
    updated_at: datetime
    links: ProviderLinks = Field(serialization_alias="_links")
