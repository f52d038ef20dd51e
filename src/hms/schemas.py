"""Shared Pydantic bases: strict input (snake_case or camelCase, unknown fields refused)
and the `_links` shapes of the contract."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel


class InputModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        # Errors name fields as the API documents them (snake_case), whichever form was sent.
        loc_by_alias=False,
        str_strip_whitespace=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        # PostgreSQL cannot store NUL in text; refuse it everywhere, nested JSON included.
        if _contains_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data


def _contains_nul(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if depth > 20:
        return False
    if isinstance(value, dict):
        return any(
            _contains_nul(k, depth + 1) or _contains_nul(v, depth + 1) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_contains_nul(v, depth + 1) for v in value)
    return False


class Link(BaseModel):
    href: str


class ListLinks(BaseModel):
    self_: Link = Field(serialization_alias="self")
    next: Link | None = None
    prev: Link | None = None


def _no_control_chars(value: str) -> str:
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("must not contain control characters")
    return value


Text = Annotated[str, AfterValidator(_no_control_chars)]
