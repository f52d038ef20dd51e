"""The pharmacy knowledge base shipped in `data/` (see its README for sources and licence):
which generic drugs a medication name means, their classes, interacting pairs, allergen groups.

Loaded once per process; every name is matched in lower case, as a generic, a brand or a
synonym, also when written with its strength or form ("Lisinopril 10 mg tablet").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

SEVERITY_RANK = {"contraindicated": 4, "major": 3, "moderate": 2, "minor": 1}
_NOISE = re.compile(r"\d|^(mg|mcg|g|ml|units?|tablets?|tabs?|capsules?|caps?|oral|er|xr|sr|hcl)$")


@dataclass(frozen=True)
class Interaction:
    id: str
    a: frozenset[str]  # generics and classes
    b: frozenset[str]
    severity: str
    interaction_type: str
    effect: str
    recommendation: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class CrossReactivity:
    allergy: str
    drug_class: str
    risk: str
    description: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class Knowledge:
    classes: dict[str, str]
    drugs: dict[str, frozenset[str]]  # generic -> classes
    schedules: dict[str, str]
    names: dict[str, tuple[str, ...]]  # any known name -> generics
    interactions: tuple[Interaction, ...]
    allergen_groups: dict[str, frozenset[str]]
    class_allergies: frozenset[str]
    cross_reactivity: tuple[CrossReactivity, ...]

    def terms(self, generic: str) -> frozenset[str]:
        """What an interaction side may name for this drug: itself and its classes."""
        return self.drugs[generic] | {generic}

    def resolve(self, name: str) -> tuple[str, ...]:
        """The generics a medication name stands for; empty when the name is unknown."""
        text = clean_name(name)
        if text in self.names:
            return self.names[text]
        words = [w for w in text.split() if not _NOISE.search(w)]
        for size in (3, 2, 1):
            for start in range(len(words) - size + 1):
                found = self.names.get(" ".join(words[start : start + size]))
                if found:
                    return found
        return ()


def clean_name(name: str) -> str:
    text = name.lower().replace("®", " ").replace("™", " ")
    return " ".join(re.sub(r"[^a-z0-9\- ]", " ", text).split())


def _read(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("hms.pharmacy").joinpath("data", name).read_text(encoding="utf-8")
    )
    return data


def _cited(keys: list[str], table: dict[str, str], where: str) -> tuple[str, ...]:
    if not keys or any(key not in table for key in keys):
        raise ValueError(f"{where}: every entry needs references from the file's table")
    return tuple(table[key] for key in keys)


@cache
def knowledge() -> Knowledge:
    drugs_file, pairs_file, allergy_file = (
        _read("drugs.json"),
        _read("interactions.json"),
        _read("allergies.json"),
    )
    classes: dict[str, str] = drugs_file["classes"]
    drugs = {name: frozenset(entry["classes"]) for name, entry in drugs_file["drugs"].items()}
    known_terms = set(classes) | set(drugs)
    names: dict[str, tuple[str, ...]] = {name: (name,) for name in drugs}
    for brand, generics in drugs_file["brands"].items():
        names[brand] = tuple(generics)
    for synonym, generic in drugs_file["synonyms"].items():
        names[synonym] = (generic,)
    for name, generics in names.items():
        if unknown := set(generics) - set(drugs):
            raise ValueError(f"drugs.json: {name} names unknown generics {sorted(unknown)}")
    for name, members in drugs.items():
        if stray := members - set(classes):
            raise ValueError(f"drugs.json: {name} has unknown classes {sorted(stray)}")
    interactions = []
    for entry in pairs_file["interactions"]:
        a, b = frozenset(entry["a"]), frozenset(entry["b"])
        if strays := (a | b) - known_terms:
            raise ValueError(f"interactions.json: {entry['id']} names {sorted(strays)}")
        if entry["severity"] not in SEVERITY_RANK:
            raise ValueError(f"interactions.json: {entry['id']} has an unknown severity")
        interactions.append(
            Interaction(
                id=entry["id"],
                a=a,
                b=b,
                severity=entry["severity"],
                interaction_type=entry["interaction_type"],
                effect=entry["effect"],
                recommendation=entry["recommendation"],
                references=_cited(entry["references"], pairs_file["references"], entry["id"]),
            )
        )
    groups = {k: frozenset(v) for k, v in allergy_file["allergen_groups"].items()}
    cross = tuple(
        CrossReactivity(
            allergy=entry["allergy"],
            drug_class=entry["drug_class"],
            risk=entry["risk"],
            description=entry["description"],
            references=_cited(entry["references"], allergy_file["references"], entry["allergy"]),
        )
        for entry in allergy_file["cross_reactivity"]
    )
    named = {c for members in groups.values() for c in members}
    named |= {c.allergy for c in cross} | {c.drug_class for c in cross}
    if unknown := named - set(classes):
        raise ValueError(f"allergies.json: unknown classes {sorted(unknown)}")
    return Knowledge(
        classes=classes,
        drugs=drugs,
        schedules={n: e["schedule"] for n, e in drugs_file["drugs"].items() if "schedule" in e},
        names=names,
        interactions=tuple(interactions),
        allergen_groups=groups,
        class_allergies=frozenset(allergy_file["class_allergies"]),
        cross_reactivity=cross,
    )
