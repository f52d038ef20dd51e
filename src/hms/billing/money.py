"""Money: exact decimals in, exact decimals stored, JSON numbers with two decimals out.

Amounts arrive as JSON numbers or strings. A JSON number is first read as a binary float by the
framework, but every amount within the column's range (12 digits) has fewer significant digits
than a float keeps, so its shortest representation is the literal the client wrote; that text is
what becomes the Decimal. An amount with more than two decimals is refused, never rounded.

Pydantic writes a Decimal to JSON as a string and the standard encoders as a float; neither is
the contract's `100.00`. Responses are therefore encoded here, each amount as a raw number token.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, WithJsonSchema

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("9999999999.99")


def _no_bool(value: Any) -> Any:
    # true would otherwise pass as 1.
    if isinstance(value, bool):
        raise ValueError("An amount is a number such as 100.00")
    return value


def _whole_cents(value: Decimal) -> Decimal:
    if value != value.quantize(CENT):
        raise ValueError("Amounts have at most two decimals; they are never rounded")
    return value.quantize(CENT)


Money = Annotated[
    Decimal,
    BeforeValidator(_no_bool),
    Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False, examples=[100.0]),
    AfterValidator(_whole_cents),
]
PositiveMoney = Annotated[Money, Field(gt=0)]
# An amount in a response: documented as the JSON number it is written as (see json_bytes).
Amount = Annotated[Decimal, WithJsonSchema({"type": "number", "examples": [100.0]})]


def cents(value: Decimal | None) -> Decimal:
    return (value or ZERO).quantize(CENT)


def total(values: Iterable[Decimal | None]) -> Decimal:
    return sum((cents(v) for v in values), ZERO)


def _fragment(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(f"{value.quantize(CENT)}".encode())
    if isinstance(value, uuid.UUID):  # the database driver's own UUID subclass
        return str(value)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")


def json_bytes(body: BaseModel | dict[str, Any]) -> bytes:
    """The body as JSON, amounts as numbers with two decimals (`"total_amount":100.00`)."""
    data = body.model_dump(mode="python", by_alias=True) if isinstance(body, BaseModel) else body
    return orjson.dumps(data, default=_fragment, option=orjson.OPT_UTC_Z)
