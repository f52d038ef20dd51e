"""GraphQL input types generated from the domains' Create/Update schemas, and the way back:
an input becomes the same Pydantic model REST validates, holding only the fields sent."""

from __future__ import annotations

import datetime as dt
import types
import typing
import uuid
from decimal import Decimal
from typing import Any

import strawberry
from pydantic import BaseModel
from strawberry.scalars import JSON
from strawberry.types.base import has_object_definition
from strawberry.utils.str_converters import to_camel_case

from hms.appointments.schemas import AppointmentCreate
from hms.clinical.schemas import EncounterCreate
from hms.patients.schemas import PatientCreate, PatientUpdate

# The API document spells these with capitals REST does not use.
FIELD_NAMES = {"start_datetime": "startDateTime", "end_datetime": "endDateTime"}
SCALARS = (str, int, float, bool, dt.date, dt.datetime, uuid.UUID, Decimal)
_generated: dict[type[BaseModel], type] = {}


def graphql_name(field: str) -> str:
    return FIELD_NAMES.get(field, to_camel_case(field))


def _graphql_type(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _graphql_type(args[0])
    if origin in (typing.Union, types.UnionType):
        branches = [a for a in args if a is not type(None)]
        # A choice between a text and an object has no GraphQL input form: JSON carries it.
        return _graphql_type(branches[0]) if len(branches) == 1 else JSON
    if origin is typing.Literal:
        return type(args[0])
    if origin is list:
        return list[_graphql_type(args[0])]  # type: ignore[misc]
    if origin is dict:
        return JSON
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation.model_config.get("extra") == "allow":
            return JSON
        return input_of(annotation, f"{annotation.__name__}Input")
    if annotation in SCALARS:
        return annotation
    return str


def input_of(model: type[BaseModel], name: str) -> type:
    """A GraphQL input with the model's fields: required ones required, the rest optional and
    left out of the model when not sent (so "not sent" and "sent as null" stay different)."""
    if model in _generated:
        return _generated[model]
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    for field, info in model.model_fields.items():
        kind = _graphql_type(info.annotation)
        description = info.description
        if info.is_required():
            annotations[field] = kind
            namespace[field] = strawberry.field(name=graphql_name(field), description=description)
        else:
            annotations[field] = kind | None
            namespace[field] = strawberry.field(
                name=graphql_name(field), description=description, default=strawberry.UNSET
            )
    cls = type(name, (), {"__annotations__": annotations, **namespace, "__doc__": model.__doc__})
    generated = strawberry.input(cls, name=name)
    _generated[model] = generated
    return generated


def sent(value: Any) -> Any:
    """The input as plain data, without the fields the client did not send."""
    if has_object_definition(value):
        return {
            f.python_name: sent(getattr(value, f.python_name))
            for f in value.__strawberry_definition__.fields
            if getattr(value, f.python_name) is not strawberry.UNSET
        }
    if isinstance(value, list):
        return [sent(item) for item in value]
    return value


CreateClinicalEncounterInput = input_of(EncounterCreate, "CreateClinicalEncounterInput")
CreatePatientInput = input_of(PatientCreate, "CreatePatientInput")
UpdatePatientInput = input_of(PatientUpdate, "UpdatePatientInput")
BookAppointmentInput = input_of(AppointmentCreate, "BookAppointmentInput")
