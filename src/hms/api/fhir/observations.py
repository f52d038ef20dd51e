"""Observation: the vital signs of the notes (category vital-signs, LOINC coded as US Core
profiles them) and the laboratory results (category laboratory, LOINC from the lab catalogue,
with reference range and interpretation)."""

from __future__ import annotations

from typing import Any

from hms.api.fhir import systems as s
from hms.api.fhir.clinical import patient_ids
from hms.api.fhir.interactions import (
    ID,
    PATIENT,
    SUBJECT,
    Context,
    Resource,
    ResourceType,
    SearchParam,
)
from hms.api.fhir.search import Search, as_uuid
from hms.clinical import observations
from hms.clinical.observations import (
    LABORATORY_CATEGORY,
    VITAL_SIGNS,
    VITAL_SIGNS_CATEGORY,
    ObservationFilter,
    ObservationKey,
    VitalSign,
)
from hms.errors import NotFound
from hms.laboratory import flags
from hms.laboratory.models import LabResult

# Id suffix, LOINC display, US Core profile and UCUM unit of each vital sign.
VITALS: dict[str, tuple[str, str, str, str | None]] = {
    "blood_pressure": (
        "bp",
        "Blood pressure panel with all children optional",
        "us-core-blood-pressure",
        None,
    ),
    "heart_rate": ("hr", "Heart rate", "us-core-heart-rate", "/min"),
    "respiratory_rate": ("rr", "Respiratory rate", "us-core-respiratory-rate", "/min"),
    "body_temperature": ("temp", "Body temperature", "us-core-body-temperature", "Cel"),
    "oxygen_saturation": (
        "spo2",
        "Oxygen saturation in Arterial blood by Pulse oximetry",
        "us-core-pulse-oximetry",
        "%",
    ),
}
SUFFIXES = {suffix: kind for kind, (suffix, *_) in VITALS.items()}
CATEGORIES = {
    "vital-signs": (VITAL_SIGNS_CATEGORY, "Vital Signs"),
    "laboratory": (LABORATORY_CATEGORY, "Laboratory"),
}
OBSERVATION_STATUSES = {"in_progress": "preliminary", "completed": "final", "amended": "amended"}
INTERPRETATIONS = {
    "L": "Low",
    "H": "High",
    "LL": "Critical low",
    "HH": "Critical high",
    "A": "Abnormal",
    "N": "Normal",
}


def _category(name: str) -> list[dict[str, Any]]:
    return [s.concept(s.coding(s.OBSERVATION_CATEGORY, name, CATEGORIES[name][1]))]


def _quantity(value: float | int | None, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": s.UCUM, "code": unit}


def vital_resource(item: VitalSign) -> Resource:
    reading = item.reading
    suffix, display, profile, unit = VITALS[item.kind.name]
    codings = [
        s.coding(s.LOINC, code, display if i == 0 else None)
        for i, code in enumerate(item.kind.loinc)
    ]
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"{reading.encounter_id}-{suffix}",
        "meta": s.meta(None, profile),
        "status": OBSERVATION_STATUSES.get(item.encounter_status, "final"),
        "category": _category("vital-signs"),
        "code": s.concept(*codings, text=display),
        "subject": s.reference("Patient", reading.patient_id),
        "encounter": s.reference("Encounter", reading.encounter_id),
        "effectiveDateTime": s.instant(reading.recorded_at),
        "performer": [s.reference("Practitioner", item.provider_id)],
    }
    if item.kind.name == "blood_pressure":
        body["component"] = [
            {
                "code": s.concept(s.coding(s.LOINC, "8480-6", "Systolic blood pressure")),
                "valueQuantity": _quantity(reading.systolic, "mm[Hg]"),
            },
            {
                "code": s.concept(s.coding(s.LOINC, "8462-4", "Diastolic blood pressure")),
                "valueQuantity": _quantity(reading.diastolic, "mm[Hg]"),
            },
        ]
    else:
        value = getattr(reading, item.kind.column.key)
        body["valueQuantity"] = _quantity(value, unit or "")
    return s.pruned(body)


def lab_resource(row: LabResult) -> Resource:
    body: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(row.id),
        "meta": s.meta(row.resulted_at, "us-core-observation-lab"),
        "status": row.status,
        "category": _category("laboratory"),
        "code": s.concept(
            *([s.coding(s.LOINC, row.loinc_code, row.component)] if row.loinc_code else []),
            text=row.component,
        ),
        "subject": s.reference("Patient", row.patient_id),
        "basedOn": [s.reference("ServiceRequest", row.order_id)],
        "effectiveDateTime": s.instant(row.resulted_at),
        "issued": s.instant(row.resulted_at),
    }
    parsed = flags.parse_result(row.result)
    if parsed is not None:
        op, value = parsed
        body["valueQuantity"] = {
            "value": value,
            "comparator": None if op == "=" else op,
            "unit": row.unit,
        }
    else:
        body["valueString"] = row.result
    reference = flags.parse_range(row.reference_range)
    if row.reference_range:
        body["referenceRange"] = [
            {
                "low": {"value": reference.low, "unit": row.unit}
                if reference and reference.low is not None
                else None,
                "high": {"value": reference.high, "unit": row.unit}
                if reference and reference.high is not None
                else None,
                "text": row.reference_range,
            }
        ]
    code = row.flag or ("N" if reference is not None and parsed is not None else None)
    if code:
        body["interpretation"] = [
            s.concept(s.coding(s.INTERPRETATION, code, INTERPRETATIONS.get(code)))
        ]
    return s.pruned(body)


def observation_resource(item: observations.Observation) -> Resource:
    return vital_resource(item) if isinstance(item, VitalSign) else lab_resource(item)


def observation_key(id_: str) -> ObservationKey | None:
    """`<encounter id>-<vital sign>` (`...-bp`) or a laboratory result's id."""
    head, suffix = id_[:36], id_[37:]
    found = as_uuid(head)
    if found is None:
        return None
    if len(id_) == 36:
        return LABORATORY_CATEGORY, found
    if id_[36:37] == "-" and suffix in SUFFIXES:
        return SUFFIXES[suffix], found
    return None


async def read_observation(ctx: Context, id_: str) -> Resource:
    key = observation_key(id_)
    if key is None:
        raise NotFound("Observation not found")
    found = await observations.get_observation(ctx.session, actor=ctx.actor, key=key)
    return observation_resource(found)


async def search_observations(ctx: Context, search: Search) -> tuple[list[Resource], int]:
    ids = search.ids()
    categories = search.codes("category", s.OBSERVATION_CATEGORY)
    filters = ObservationFilter(
        keys=None if ids is None else [k for i in ids if (k := observation_key(i)) is not None],
        patient_ids=patient_ids(search),
        categories=None
        if categories is None
        else [CATEGORIES[c][0] for c in categories if c in CATEGORIES],
        loinc_codes=search.codes("code", s.LOINC),
        dates=search.dates("date"),
    )
    found, total = await observations.list_observations(
        ctx.session, actor=ctx.actor, filters=filters, limit=search.count, offset=search.offset
    )
    return [observation_resource(o) for o in found], total


OBSERVATION_TYPE = ResourceType(
    "Observation",
    read_observation,
    search_observations,
    (
        ID,
        PATIENT,
        SUBJECT,
        SearchParam("category", "token", "vital-signs or laboratory"),
        SearchParam(
            "code",
            "token",
            "A LOINC code: "
            + ", ".join(f"{s.LOINC}|{k.loinc[0]}" for k in VITAL_SIGNS.values())
            + ", or a laboratory test component's",
        ),
        SearchParam("date", "date", "When it was measured or resulted, with prefixes"),
    ),
    documentation="Vital signs of the encounters and laboratory results",
)
