"""Rows of a large demo hospital, built directly in the form the services store them.

Names come from Faker's person lists (several locales, so that accents and apostrophes occur),
drawn by their published frequencies. Chronic conditions follow age (hypertension in about half
of the over-sixties); each condition has its matching ICD-10-CM diagnosis on the patient's visit
notes, its usual medication as a prescription, and a diabetic has HbA1c results.
"""

from __future__ import annotations

import itertools
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from faker.providers.person.de_DE import Provider as GermanNames
from faker.providers.person.en_US import Provider as AmericanNames
from faker.providers.person.es_MX import Provider as MexicanNames
from faker.providers.person.fr_FR import Provider as FrenchNames

from hms.clinical import vitals
from hms.demo import ALLERGIES, CITIES, CONDITIONS, MEDICATIONS
from hms.demo_history import CONDITION_CODES
from hms.laboratory import catalogue
from hms.laboratory.flags import flag
from hms.patients.search import normalize
from hms.patients.service import search_fields

# (locale names, share of patients)
LOCALES = ((AmericanNames, 0.75), (MexicanNames, 0.13), (GermanNames, 0.06), (FrenchNames, 0.06))
LOCALE_INDEXES = range(len(LOCALES))
LOCALE_WEIGHTS = list(itertools.accumulate(share for _names, share in LOCALES))
PAYERS = ("Blue Cross Blue Shield", "Aetna", "UnitedHealthcare", "Cigna", "Humana", "Kaiser")
VISIT_CODE, VISIT_PRICE = "99213", Decimal("150.00")
NO_ALERTS: dict[str, list[Any]] = {"interactions": [], "allergies": [], "unchecked": []}


def _weighted(names: Any) -> tuple[list[str], list[float]]:
    """The names and their cumulative weights (what `random.choices` draws from fastest)."""
    if isinstance(names, dict):
        return list(names), list(itertools.accumulate(float(w) for w in names.values()))
    unique = list(dict.fromkeys(names))
    return unique, [float(i + 1) for i in range(len(unique))]


@dataclass
class NamePool:
    first: dict[str, tuple[list[str], list[float]]] = field(default_factory=dict)
    last: list[tuple[list[str], list[float]]] = field(default_factory=list)

    @classmethod
    def build(cls) -> NamePool:
        pool = cls()
        for index, (names, _share) in enumerate(LOCALES):
            for gender, attr in (("F", "first_names_female"), ("M", "first_names_male")):
                pool.first[f"{index}{gender}"] = _weighted(getattr(names, attr))
            pool.last.append(_weighted(names.last_names))
        return pool

    def pick(self, rng: random.Random, gender: str) -> tuple[str, str]:
        locale = rng.choices(LOCALE_INDEXES, cum_weights=LOCALE_WEIGHTS)[0]
        first_names, first_weights = self.first[f"{locale}{'M' if gender == 'M' else 'F'}"]
        last_names, last_weights = self.last[locale]
        first = rng.choices(first_names, cum_weights=first_weights)[0]
        return first, rng.choices(last_names, cum_weights=last_weights)[0]


def conditions_for(rng: random.Random, age: int) -> list[str]:
    band = 2 if age >= 60 else 1 if age >= 40 else 0
    found = []
    if rng.random() < (0.05, 0.25, 0.5)[band]:
        found.append("Hypertension")
    if rng.random() < (0.02, 0.1, 0.2)[band]:
        found.append("Diabetes Type 2")
    for name in CONDITIONS[2:]:
        if rng.random() < 0.04:
            found.append(name)
    return found


def patient_row(
    rng: random.Random, names: NamePool, *, today: date, now: datetime
) -> dict[str, Any]:
    """A patient without its number (drawn when the chunk is written)."""
    gender = rng.choice("MMFFFO")
    first, last = names.pick(rng, gender)
    born = today - timedelta(days=rng.randint(0, 95 * 365))
    conditions = conditions_for(rng, (today - born).days // 365)
    city, state, zip_code = rng.choice(CITIES)
    phone = f"+1555{rng.randint(1000000, 9999999)}"
    handle = normalize(f"{first} {last}").replace(" ", ".")
    email = f"{handle}{rng.randint(1, 9999)}@example.org" if rng.random() < 0.7 else None
    created = now - timedelta(days=rng.randint(0, 3 * 365), seconds=rng.randint(0, 86399))
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "patient_number": "",
        "first_name": first,
        "last_name": last,
        "date_of_birth": born,
        "gender": gender,
        "contact_number": phone,
        "email": email,
        "address": {
            "street": f"{rng.randint(1, 9999)} {rng.choice(('Main', 'Oak', 'Elm', 'Pine'))} St",
            "city": city,
            "state": state,
            "zip_code": zip_code,
            "country": "USA",
        },
        "emergency_contact": {
            "name": f"{names.pick(rng, 'F')[0]} {last}",
            "relationship": rng.choice(("Spouse", "Parent", "Child", "Sibling")),
            "phone": f"+1555{rng.randint(1000000, 9999999)}",
        },
        "blood_type": rng.choice(("O+", "O+", "A+", "A+", "B+", "AB+", "O-", "A-")),
        "allergies": rng.sample(ALLERGIES, rng.choice((0, 0, 0, 1, 2))),
        "medical_conditions": conditions,
        "current_medications": [
            {"name": n, "dosage": d, "frequency": f}
            for c in conditions
            if c in MEDICATIONS
            for n, d, f in [MEDICATIONS[c]]
        ],
        "is_active": True,
        "restricted": False,
        "version": 1,
        "created_at": created,
        "updated_at": created,
    }
    return search_fields(values)


def coverage_row(rng: random.Random, patient: dict[str, Any]) -> dict[str, Any]:
    age = (patient["created_at"].date() - patient["date_of_birth"]).days // 365
    kind = "medicare" if age >= 65 else rng.choice(("private",) * 6 + ("medicaid", "self_pay"))
    insured = kind != "self_pay"
    payer = {"medicare": "Medicare", "medicaid": "Medicaid"}.get(kind, rng.choice(PAYERS))
    return {
        "patient_id": patient["id"],
        "coverage_type": kind,
        "payer": payer if insured else None,
        "policy_number": f"{payer[:3].upper()}{rng.randint(10**8, 10**9 - 1)}" if insured else None,
        "group_number": f"GRP{rng.randint(1000, 99999)}" if kind == "private" else None,
        "version": 1,
        "created_at": patient["created_at"],
        "updated_at": patient["created_at"],
    }


def stored_note(rng: random.Random, conditions: list[str], when: datetime) -> dict[str, Any]:
    """A signed office visit, in the form `create_encounter` stores it."""
    coded = [CONDITION_CODES[c] for c in conditions if c in CONDITION_CODES] or [
        ("Z00.00", "General adult medical examination")
    ]
    systolic = rng.randint(128, 158) if "Hypertension" in conditions else rng.randint(104, 132)
    return {
        "encounter_type": "office_visit",
        "encounter_date": when,
        "location": f"Main Clinic - Room {rng.randint(101, 120)}",
        "chief_complaint": "Routine follow-up" if conditions else "Annual examination",
        "physical_examination": {
            "vital_signs": {
                "blood_pressure": f"{systolic}/{rng.randint(64, min(systolic - 30, 96))}",
                "heart_rate": rng.randint(58, 96),
                "respiratory_rate": rng.randint(12, 18),
                "temperature": round(rng.uniform(97.5, 99.1), 1),
                "oxygen_saturation": rng.randint(95, 100),
            },
            "general": "Well-appearing, no acute distress",
        },
        "assessment": [
            {
                "condition": text,
                "icd10_code": code,
                "severity": "mild",
                "onset": "chronic",
                "notes": None,
            }
            for code, text in coded
        ],
        "plan": [
            {"type": "follow_up", "description": "Follow up in 3 months", "reason": "Monitoring"}
        ],
        "diagnoses": [
            {
                "code": code,
                "description": text,
                "type": "primary" if i == 0 else "secondary",
                "confirmed": True,
            }
            for i, (code, text) in enumerate(coded)
        ],
    }


@dataclass
class History:
    """Every row one patient's history adds, table by table."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, []).append(row)


def add_visit(
    history: History,
    rng: random.Random,
    patient: dict[str, Any],
    *,
    provider_id: uuid.UUID,
    when: datetime,
    charge_number: str,
    coverage: dict[str, Any],
) -> None:
    note = stored_note(rng, patient["medical_conditions"], when)
    encounter = {
        "id": uuid.uuid4(),
        "patient_id": patient["id"],
        "provider_id": provider_id,
        "history_of_present_illness": None,
        "review_of_systems": {},
        "status": "completed",
        "version": 1,
        "created_at": when,
        "updated_at": when,
        **note,
    }
    history.add("encounters", encounter)
    history.add(
        "encounter_versions",
        {
            "id": uuid.uuid4(),
            "encounter_id": encounter["id"],
            "patient_id": patient["id"],
            "version": 1,
            "status": "completed",
            "change": "created",
            "reason": None,
            "fields": sorted(note),
            "snapshot": snapshot(encounter),
            "changed_by_user_id": None,
            "changed_by_username": None,
            "changed_by_role": "system",
            "changed_at": when,
        },
    )
    signs = note["physical_examination"]["vital_signs"]
    systolic, diastolic = vitals.blood_pressure(signs["blood_pressure"])
    history.add(
        "vital_signs",
        {
            "id": uuid.uuid4(),
            "patient_id": patient["id"],
            "encounter_id": encounter["id"],
            "recorded_at": when,
            "systolic": systolic,
            "diastolic": diastolic,
            "heart_rate": signs["heart_rate"],
            "respiratory_rate": signs["respiratory_rate"],
            "temperature_c": vitals.celsius(signs["temperature"], None),
            "oxygen_saturation": float(signs["oxygen_saturation"]),
        },
    )
    codes = [d["code"] for d in note["diagnoses"]]
    for position, entry in enumerate(note["diagnoses"]):
        history.add(
            "diagnoses",
            {
                "id": uuid.uuid4(),
                "patient_id": patient["id"],
                "encounter_id": encounter["id"],
                "position": position,
                "code": entry["code"],
                "description": entry["description"],
                "type": entry["type"],
                "confirmed": True,
                "encounter_date": when,
            },
        )
    insured = coverage["coverage_type"] != "self_pay"
    share = (VISIT_PRICE * Decimal("0.8")).quantize(Decimal("0.01")) if insured else Decimal(0)
    history.add(
        "charges",
        {
            "id": uuid.uuid4(),
            "charge_number": charge_number,
            "patient_id": patient["id"],
            "encounter_id": encounter["id"],
            "charge_date": when,
            "charge_code": VISIT_CODE,
            "description": "Office visit, established patient",
            "quantity": 1,
            "unit_price": VISIT_PRICE,
            "total_amount": VISIT_PRICE,
            "insurance_amount": share,
            "patient_amount": VISIT_PRICE - share,
            "status": rng.choice(("paid", "paid", "billed", "pending")),
            "billing_provider_id": provider_id,
            "diagnosis_codes": codes,
            "modifiers": [],
            "notes": None,
            "void_reason": None,
            "voided_at": None,
            "version": 1,
            "created_at": when,
            "updated_at": when,
        },
    )


def snapshot(encounter: dict[str, Any]) -> dict[str, Any]:
    """`EncounterData(...).model_dump(mode="json")` of the row, without validating it again."""
    out = {k: encounter[k] for k in SNAPSHOT_FIELDS}
    for name in ("id", "patient_id", "provider_id"):
        out[name] = str(out[name])
    for name in ("encounter_date", "created_at", "updated_at"):
        out[name] = out[name].isoformat().replace("+00:00", "Z")
    return out


SNAPSHOT_FIELDS = (
    "id",
    "patient_id",
    "provider_id",
    "encounter_type",
    "encounter_date",
    "location",
    "chief_complaint",
    "history_of_present_illness",
    "review_of_systems",
    "physical_examination",
    "assessment",
    "plan",
    "diagnoses",
    "status",
    "created_at",
    "updated_at",
)


def add_prescription(
    history: History,
    patient: dict[str, Any],
    medication: dict[str, str],
    *,
    provider_id: uuid.UUID,
    number: str,
    when: datetime,
    codes: list[str],
) -> None:
    history.add(
        "prescriptions",
        {
            "id": uuid.uuid4(),
            "prescription_number": number,
            "patient_id": patient["id"],
            "provider_id": provider_id,
            "signed_by_user_id": None,
            "medication": {
                "name": medication["name"],
                "strength": medication["dosage"],
                "form": "tablet",
                "ndc": None,
            },
            "dosage": {
                "amount": 1,
                "unit": "tablet",
                "frequency": medication["frequency"],
                "timing": None,
                "duration": 90,
                "duration_unit": "days",
                "instructions": f"Take 1 tablet by mouth, {medication['frequency'].lower()}",
                "indications": None,
            },
            "substitutions": "allowed",
            "refills_authorized": 3,
            "refills_remaining": 3,
            "fill_count": 0,
            "pharmacy": None,
            "diagnosis_codes": codes,
            "notes": None,
            "status": "active" if when > datetime.now(UTC) - timedelta(days=180) else "expired",
            "status_reason": None,
            "date_written": when,
            "expires_at": when + timedelta(days=182),
            "controlled_substance": False,
            "schedule": None,
            "dea_number": None,
            "alerts": NO_ALERTS,
            "override_reason": None,
            "version": 1,
            "created_at": when,
            "updated_at": when,
        },
    )


def add_hba1c(
    history: History,
    rng: random.Random,
    patient: dict[str, Any],
    *,
    provider_id: uuid.UUID,
    number: str,
    when: datetime,
) -> None:
    test = catalogue.find("HBA1C")
    assert test is not None  # shipped in the catalogue
    component = test.components[0]
    diabetic = "Diabetes Type 2" in patient["medical_conditions"]
    value = round(rng.uniform(6.2, 9.8) if diabetic else rng.uniform(4.6, 6.1), 1)
    resulted = when + timedelta(hours=rng.randint(4, 30))
    order_id = uuid.uuid4()
    history.add(
        "lab_orders",
        {
            "id": order_id,
            "order_number": number,
            "patient_id": patient["id"],
            "provider_id": provider_id,
            "ordering_location": "Main Clinic",
            "priority": "routine",
            "clinical_information": "Diabetes monitoring" if diabetic else "Screening",
            "tests": [
                {
                    "test_code": test.code,
                    "test_name": test.name,
                    "specimen_type": test.specimen_type,
                    "collection_instructions": None,
                    "status": "resulted",
                    "collected_at": when.isoformat(),
                    "resulted_at": resulted.isoformat(),
                }
            ],
            "diagnoses": ["E11.9"] if diabetic else [],
            "notes": None,
            "status": "completed",
            "ordered_at": when,
            "collection_date": when,
            "completed_at": resulted,
            "cancelled_at": None,
            "cancel_reason": None,
            "pathologist_id": None,
            "result_notes": None,
            "version": 1,
            "created_at": when,
            "updated_at": resulted,
        },
    )
    history.add(
        "lab_results",
        {
            "id": uuid.uuid4(),
            "order_id": order_id,
            "patient_id": patient["id"],
            "test_code": test.code,
            "component": component.name,
            "position": 0,
            "loinc_code": component.loinc,
            "result": f"{value}",
            "value_numeric": value,
            "unit": component.unit,
            "reference_range": component.range.text if component.range else None,
            "flag": flag(f"{value}", component.range),
            "status": "final",
            "resulted_at": resulted,
            "resulted_by_user_id": None,
            "resulted_by_username": None,
            "previous": [],
        },
    )


def appointment_row(
    patient: dict[str, Any],
    *,
    provider_id: uuid.UUID,
    number: str,
    start: datetime,
    now: datetime,
) -> dict[str, Any]:
    past = start < now
    end = start + timedelta(minutes=30)
    return {
        "id": uuid.uuid4(),
        "appointment_number": number,
        "patient_id": patient["id"],
        "provider_id": provider_id,
        "appointment_type": "follow_up",
        "start_datetime": start,
        "end_datetime": end,
        "duration": 30,
        "location": "Main Clinic",
        "reason": "Follow-up visit",
        "status": "completed" if past else "scheduled",
        "priority": "normal",
        "notes": None,
        "reminder_method": [],
        "telehealth": False,
        "cancellation_reason": None,
        "checked_in_at": start if past else None,
        "completed_at": end if past else None,
        "cancelled_at": None,
        "version": 1,
        "created_at": min(start - timedelta(days=14), now),
        "updated_at": end if past else min(start - timedelta(days=14), now),
    }
