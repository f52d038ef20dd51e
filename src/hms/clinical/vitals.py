"""Vital signs: parsed from the note as the clinician writes them, and range-checked.

The limits are what a living patient can show and an instrument can report, not the normal
ranges: a reading outside them is a typing slip (a heart rate of 900), never a finding, so it is
refused rather than stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from hms.schemas import InputModel

SYSTOLIC = (40, 280)
DIASTOLIC = (20, 200)
HEART_RATE = (20, 300)
RESPIRATORY_RATE = (4, 80)
OXYGEN_SATURATION = (20, 100)
TEMPERATURE_C = (25.0, 45.0)
TEMPERATURE_F = (77.0, 113.0)

_BLOOD_PRESSURE = re.compile(r"^(\d{2,3})\s*/\s*(\d{2,3})$")

Number = int | float


def blood_pressure(value: str) -> tuple[int, int]:
    """'120/80' as (systolic, diastolic)."""
    match = _BLOOD_PRESSURE.match(value.strip())
    if not match:
        raise ValueError("Blood pressure must be written systolic/diastolic, e.g. 120/80")
    systolic, diastolic = int(match.group(1)), int(match.group(2))
    if not SYSTOLIC[0] <= systolic <= SYSTOLIC[1]:
        raise ValueError(f"Systolic pressure {systolic} is outside {SYSTOLIC[0]}-{SYSTOLIC[1]}")
    if not DIASTOLIC[0] <= diastolic <= DIASTOLIC[1]:
        raise ValueError(f"Diastolic pressure {diastolic} is outside {DIASTOLIC[0]}-{DIASTOLIC[1]}")
    if systolic <= diastolic:
        raise ValueError("Systolic pressure must be higher than diastolic")
    return systolic, diastolic


def celsius(value: float, unit: Literal["C", "F"] | None) -> float:
    """A body temperature in degrees Celsius. Without a unit the value tells: 25-45 is Celsius,
    77-113 Fahrenheit; the two ranges cannot overlap, so no reading is read in the wrong unit."""
    low_c, high_c = TEMPERATURE_C
    low_f, high_f = TEMPERATURE_F
    if unit is None:
        unit = "C" if low_c <= value <= high_c else "F" if low_f <= value <= high_f else None
        if unit is None:
            raise ValueError(
                f"Temperature {value} is neither a body temperature in °C ({low_c:g}-{high_c:g}) "
                f"nor in °F ({low_f:g}-{high_f:g})"
            )
    low, high = TEMPERATURE_C if unit == "C" else TEMPERATURE_F
    if not low <= value <= high:
        raise ValueError(f"Temperature {value} °{unit} is outside {low:g}-{high:g} °{unit}")
    return round(value if unit == "C" else (value - 32) * 5 / 9, 2)


class VitalSigns(InputModel):
    """As the API document writes them: `blood_pressure` "120/80", `heart_rate` and
    `respiratory_rate` per minute, `temperature` (°F or °C, see `temperature_unit`),
    `oxygen_saturation` in percent."""

    blood_pressure: Annotated[str, Field(max_length=16)] | None = None
    heart_rate: Annotated[int, Field(ge=HEART_RATE[0], le=HEART_RATE[1])] | None = None
    respiratory_rate: (
        Annotated[int, Field(ge=RESPIRATORY_RATE[0], le=RESPIRATORY_RATE[1])] | None
    ) = None
    # Declared before `temperature`, whose check reads it.
    temperature_unit: Literal["C", "F"] | None = Field(
        None, description="C or F; when absent, the value's range decides"
    )
    temperature: Number | None = None
    oxygen_saturation: (
        Annotated[Number, Field(ge=OXYGEN_SATURATION[0], le=OXYGEN_SATURATION[1])] | None
    ) = None

    @field_validator("blood_pressure")
    @classmethod
    def _blood_pressure(cls, value: str | None) -> str | None:
        if value is None:
            return None
        systolic, diastolic = blood_pressure(value)
        return f"{systolic}/{diastolic}"

    @field_validator("temperature")
    @classmethod
    def _temperature(cls, value: Number | None, info: ValidationInfo) -> Number | None:
        if value is not None:
            celsius(float(value), info.data.get("temperature_unit"))
        return value


@dataclass(frozen=True)
class Reading:
    """One row of the vital_signs table: the numbers analytics and FHIR query."""

    systolic: int | None
    diastolic: int | None
    heart_rate: int | None
    respiratory_rate: int | None
    temperature_c: float | None
    oxygen_saturation: float | None

    @property
    def is_empty(self) -> bool:
        return all(value is None for value in vars(self).values())


def reading(recorded: dict[str, object] | None) -> Reading:
    """The stored values of a note's `vital_signs` (already validated) as numbers."""
    vs = VitalSigns.model_validate(recorded or {})
    systolic, diastolic = blood_pressure(vs.blood_pressure) if vs.blood_pressure else (None, None)
    temperature = (
        celsius(float(vs.temperature), vs.temperature_unit) if vs.temperature is not None else None
    )
    return Reading(
        systolic=systolic,
        diastolic=diastolic,
        heart_rate=vs.heart_rate,
        respiratory_rate=vs.respiratory_rate,
        temperature_c=temperature,
        oxygen_saturation=float(vs.oxygen_saturation) if vs.oxygen_saturation is not None else None,
    )
