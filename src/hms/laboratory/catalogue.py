"""The orderable tests, read once from `data/tests.json` (sources and the LOINC notice are in
`data/README.md`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from hms.laboratory.flags import Range, parse_range

DATA = Path(__file__).parent / "data" / "tests.json"


@dataclass(frozen=True)
class Component:
    name: str
    loinc: str | None
    unit: str
    range: Range | None
    aliases: tuple[str, ...] = ()

    @property
    def reference_range(self) -> str | None:
        return self.range.text if self.range else None


@dataclass(frozen=True)
class LabTest:
    code: str
    name: str
    loinc: str | None
    specimen_type: str | None
    components: tuple[Component, ...]
    aliases: tuple[str, ...] = ()

    def component(self, name: str) -> Component | None:
        """The component named (its name or an alias, in any case), or None."""
        key = _key(name)
        for component in self.components:
            if key in {_key(n) for n in (component.name, *component.aliases)}:
                return component
        return None


def _key(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).casefold()


def _component(raw: dict[str, Any]) -> Component:
    text = raw.get("range")
    parsed = parse_range(text) if text else None
    if parsed is not None:
        parsed = parsed.with_critical(raw.get("critical_low"), raw.get("critical_high"))
    return Component(
        name=raw["name"],
        loinc=raw.get("loinc"),
        unit=raw.get("unit", ""),
        range=parsed,
        aliases=tuple(raw.get("aliases", ())),
    )


@cache
def tests() -> dict[str, LabTest]:
    """Every test by its code."""
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    out: dict[str, LabTest] = {}
    for item in raw["tests"]:
        out[item["code"]] = LabTest(
            code=item["code"],
            name=item["name"],
            loinc=item.get("loinc"),
            specimen_type=item.get("specimen_type"),
            components=tuple(_component(c) for c in item["components"]),
            aliases=tuple(item.get("aliases", ())),
        )
    return out


def find(code: str) -> LabTest | None:
    """A test by its code or an alias (`PT/INR`), in any case."""
    key = code.strip().upper()
    catalogue = tests()
    if key in catalogue:
        return catalogue[key]
    for test in catalogue.values():
        if key in {a.upper() for a in test.aliases}:
            return test
    return None


def same_unit(a: str | None, b: str | None) -> bool:
    """Units compared as written, ignoring case and spaces (`mg/dl` is `mg/dL`)."""
    return "".join((a or "").split()).casefold() == "".join((b or "").split()).casefold()
