"""The drug-interaction and allergy check over a patient's whole regimen.

Medications are matched to generics through `knowledge` (names, brands, classes); every pair is
looked up in the interaction table, and every recorded allergy against every medication, class
membership and cross-reactivity included. A name the knowledge base does not know is reported in
`unchecked`: nothing is ever called safe because it was not understood.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hms.pharmacy.knowledge import SEVERITY_RANK, Interaction, Knowledge, clean_name, knowledge


@dataclass(frozen=True)
class Medication:
    """A medication to check; `source` says where it came from (listed, current, prescription)."""

    name: str
    source: str = "listed"


@dataclass
class CheckResult:
    interactions: list[dict[str, Any]] = field(default_factory=list)
    allergies: list[dict[str, Any]] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)

    def needing_override(self) -> list[str]:
        """What a prescriber must justify: contraindicated pairs and direct allergy hits."""
        found = [i["id"] for i in self.interactions if i["severity"] == "contraindicated"]
        for allergy in self.allergies:
            found += [
                f"allergy:{allergy['medication']}:{hit['medication']}"
                for hit in allergy["conflicts_with"]
                if hit["risk"] == "high"
            ]
        return found


@dataclass(frozen=True)
class _Item:
    index: int  # position of the medication it came from
    name: str
    generic: str


def check(
    medications: list[Medication],
    allergies: list[Any],
    *,
    focus: int | None = None,
) -> CheckResult:
    """Check `medications` together and against `allergies` (strings or objects with
    `substance`, `severity`, `reaction`). With `focus`, only what involves the medication at that
    position is reported (a new prescription against what the patient already takes)."""
    kb = knowledge()
    result = CheckResult()
    items: list[_Item] = []
    seen: set[str] = set()
    for index, medication in enumerate(medications):
        generics = kb.resolve(medication.name)
        if not generics:
            if medication.name not in result.unchecked:
                result.unchecked.append(medication.name)
            continue
        for generic in generics:
            # The same drug listed twice (a new prescription of a current medication) is
            # checked once, under the first name it was given.
            if generic in seen and index != focus:
                continue
            seen.add(generic)
            items.append(_Item(index, medication.name, generic))
    reported: set[tuple[str, str, str]] = set()
    for i, first in enumerate(items):
        for second in items[i + 1 :]:
            if first.index == second.index or first.generic == second.generic:
                continue
            if focus is not None and focus not in (first.index, second.index):
                continue
            for entry in kb.interactions:
                key = (entry.id, first.name, second.name)
                if key not in reported and _matches(kb, entry, first.generic, second.generic):
                    reported.add(key)
                    result.interactions.append(_interaction(entry, first.name, second.name))
    result.interactions.sort(key=lambda i: -SEVERITY_RANK[i["severity"]])
    checked = [item for item in items if focus is None or item.index == focus]
    result.allergies = [_allergy(kb, allergy, checked) for allergy in allergies]
    return result


def _matches(kb: Knowledge, entry: Interaction, x: str, y: str) -> bool:
    tx, ty = kb.terms(x), kb.terms(y)
    return bool((tx & entry.a and ty & entry.b) or (tx & entry.b and ty & entry.a))


def _interaction(entry: Interaction, first: str, second: str) -> dict[str, Any]:
    return {
        "id": entry.id,
        "severity": entry.severity,
        "interaction_type": entry.interaction_type,
        "description": f"{first} and {second} {entry.effect}",
        "recommendation": entry.recommendation,
        "references": list(entry.references),
        "medications": [first, second],
    }


def _allergy(kb: Knowledge, allergy: Any, items: list[_Item]) -> dict[str, Any]:
    if isinstance(allergy, dict):
        substance = str(allergy.get("substance") or "")
        severity, reaction = allergy.get("severity"), allergy.get("reaction")
    else:
        substance, severity, reaction = str(allergy), None, None
    key = clean_name(substance)
    drugs: set[str] = set()
    classes: set[str] = set(kb.allergen_groups.get(key, ()))
    if not classes:
        drugs = set(kb.resolve(substance))
        for generic in drugs:
            classes |= kb.drugs[generic] & kb.class_allergies
    conflicts: list[dict[str, Any]] = []
    named: set[str] = set()
    for item in items:
        hit = _allergy_hit(kb, item, drugs, classes)
        if hit and item.name not in named:
            named.add(item.name)
            conflicts.append(hit)
    return {
        "medication": substance,
        "severity": severity,
        "reaction": reaction,
        "conflicts_with": conflicts,
    }


def _allergy_hit(
    kb: Knowledge, item: _Item, drugs: set[str], classes: set[str]
) -> dict[str, Any] | None:
    base = {"medication": item.name}
    if item.generic in drugs:
        return base | {
            "match": "same_drug",
            "risk": "high",
            "description": f"{item.name} is {item.generic}, a recorded allergen",
            "references": [],
        }
    shared = sorted(kb.drugs[item.generic] & classes)
    if shared:
        return base | {
            "match": "same_class",
            "risk": "high",
            "description": f"{item.name} ({item.generic}) is one of the "
            f"{kb.classes[shared[0]].lower()} the patient is allergic to",
            "references": [],
        }
    for rule in kb.cross_reactivity:
        if rule.allergy in classes and rule.drug_class in kb.drugs[item.generic]:
            return base | {
                "match": "cross_reactivity",
                "risk": rule.risk,
                "description": rule.description,
                "references": list(rule.references),
            }
    return None
