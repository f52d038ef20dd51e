"""The interaction and allergy knowledge: known pairs found with the right severity, brands and
classes resolved, safe pairs left alone, unknown drugs reported as unchecked."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from hms.pharmacy.interactions import Medication, check
from hms.pharmacy.knowledge import SEVERITY_RANK, knowledge

# (first, second, entry, severity): the ONC high-priority list (Phansalkar 2012) and the pairs
# a community pharmacy checks, written as prescribers write them.
KNOWN_PAIRS = [
    ("Lisinopril", "Ibuprofen", "ace-inhibitor-nsaid", "moderate"),
    ("Zestril", "Advil", "ace-inhibitor-nsaid", "moderate"),
    ("Enalapril 10 mg tablet", "Motrin IB", "ace-inhibitor-nsaid", "moderate"),
    ("Losartan", "Naproxen", "ace-inhibitor-nsaid", "moderate"),
    ("Ramipril", "Spironolactone", "ace-inhibitor-potassium-sparing", "major"),
    ("Lisinopril", "Potassium chloride", "ace-inhibitor-potassium-sparing", "major"),
    ("Aldactone", "K-Dur", "potassium-sparing-potassium", "major"),
    ("Coumadin", "Aspirin", "warfarin-nsaid", "major"),
    ("Warfarin", "Aleve", "warfarin-nsaid", "major"),
    ("Warfarin", "Bactrim", "warfarin-sulfamethoxazole", "major"),
    ("Warfarin", "Amiodarone", "warfarin-amiodarone-azole", "major"),
    ("Sertraline", "Ibuprofen", "ssri-nsaid", "moderate"),
    ("Prozac", "Ultram", "serotonergic-tramadol", "major"),
    ("Phenelzine", "Sertraline", "maoi-serotonergic", "contraindicated"),
    ("Selegiline", "Meperidine", "maoi-serotonergic", "contraindicated"),
    ("Parnate", "Sudafed", "maoi-sympathomimetic", "contraindicated"),
    ("Methotrexate", "Trimethoprim", "methotrexate-trimethoprim", "major"),
    ("Methotrexate", "Septra DS", "methotrexate-trimethoprim", "major"),
    ("Simvastatin", "Clarithromycin", "statin-strong-cyp3a4", "contraindicated"),
    ("Mevacor", "Nizoral", "statin-strong-cyp3a4", "contraindicated"),
    ("Zocor", "Amiodarone", "simvastatin-amiodarone", "major"),
    ("Tizanidine", "Fluvoxamine", "tizanidine-cyp1a2", "contraindicated"),
    ("Zanaflex", "Cipro", "tizanidine-cyp1a2", "contraindicated"),
    ("Ramelteon", "Luvox", "ramelteon-fluvoxamine", "contraindicated"),
    ("Citalopram", "Ondansetron", "qt-qt", "major"),
    ("Ketoconazole", "Methadone", "azole-qt", "major"),
    ("Ergotamine", "Ritonavir", "ergot-cyp3a4", "contraindicated"),
    ("Pimozide", "Itraconazole", "pimozide-cyp3a4", "contraindicated"),
    ("Atazanavir", "Omeprazole", "atazanavir-ppi", "major"),
    ("Plavix", "Prilosec", "clopidogrel-ppi", "major"),
    ("Sildenafil", "Nitroglycerin", "pde5-nitrate", "contraindicated"),
    ("Cialis", "Imdur", "pde5-nitrate", "contraindicated"),
    ("Lithium", "Ibuprofen", "lithium-nsaid", "major"),
    ("Lithobid", "Hydrochlorothiazide", "lithium-diuretic-ace", "major"),
    ("Lithium carbonate", "Lisinopril", "lithium-diuretic-ace", "major"),
    ("Digoxin", "Amiodarone", "digoxin-pgp", "major"),
    ("Lanoxin", "Verapamil", "digoxin-pgp", "major"),
    ("Oxycodone", "Alprazolam", "opioid-benzodiazepine", "major"),
    ("Colchicine", "Clarithromycin", "colchicine-cyp3a4", "major"),
    ("Theophylline", "Ciprofloxacin", "theophylline-ciprofloxacin", "major"),
]

SAFE_PAIRS = [
    ("Lisinopril", "Metformin"),
    ("Acetaminophen", "Amoxicillin"),
    ("Atorvastatin", "Levothyroxine"),
    ("Pantoprazole", "Clopidogrel"),
    ("Pravastatin", "Clarithromycin"),
    ("Sertraline", "Acetaminophen"),
]


def ids(first: str, second: str) -> dict[str, str]:
    found = check([Medication(first), Medication(second)], []).interactions
    return {i["id"]: i["severity"] for i in found}


@pytest.mark.parametrize(("first", "second", "entry", "severity"), KNOWN_PAIRS)
def test_known_pairs_are_found_in_either_order(
    first: str, second: str, entry: str, severity: str
) -> None:
    assert ids(first, second).get(entry) == severity
    assert ids(second, first).get(entry) == severity


@pytest.mark.parametrize(("first", "second"), SAFE_PAIRS)
def test_safe_pairs_are_not_flagged(first: str, second: str) -> None:
    result = check([Medication(first), Medication(second)], [])
    assert result.interactions == []
    assert result.unchecked == []


def test_the_description_names_the_drugs_as_written() -> None:
    found = check([Medication("Zestril"), Medication("Advil")], []).interactions[0]
    assert found["description"] == "Zestril and Advil may increase the risk of kidney damage"
    assert found["medications"] == ["Zestril", "Advil"]


def test_unknown_drugs_are_reported_unchecked_never_safe() -> None:
    result = check([Medication("Lisinopril"), Medication("Zorblaxin 5 mg")], [])
    assert result.interactions == []
    assert result.unchecked == ["Zorblaxin 5 mg"]


def test_findings_come_most_severe_first() -> None:
    meds = ["Lisinopril", "Ibuprofen", "Phenelzine", "Sertraline"]
    found = check([Medication(m) for m in meds], []).interactions
    ranks = [SEVERITY_RANK[i["severity"]] for i in found]
    assert ranks == sorted(ranks, reverse=True)
    assert found[0]["severity"] == "contraindicated"


# (allergy as recorded, medication, match, risk): class membership and cross-reactivity.
ALLERGY_CASES = [
    ("Penicillin", "Amoxicillin", "same_class", "high"),
    ("Penicillin", "Augmentin", "same_class", "high"),
    (
        {"substance": "PCN", "severity": "severe", "reaction": "Anaphylaxis"},
        "Amoxil",
        "same_class",
        "high",
    ),
    ("Penicillin", "Cephalexin", "cross_reactivity", "low"),
    ("Penicillin", "Meropenem", "cross_reactivity", "low"),
    ("Amoxicillin", "Ampicillin", "same_class", "high"),
    ("Amoxicillin", "Amoxil", "same_drug", "high"),
    ("Sulfa", "Bactrim", "same_class", "high"),
    ("Sulfa drugs", "Furosemide", "cross_reactivity", "low"),
    ("Aspirin", "Ibuprofen", "same_class", "high"),
    ("NSAIDs", "Aspirin", "same_class", "high"),
    ("Ibuprofen", "Naproxen", "same_class", "high"),
    ("Cephalosporins", "Ceftriaxone", "same_class", "high"),
]


@pytest.mark.parametrize(("allergy", "medication", "match", "risk"), ALLERGY_CASES)
def test_allergy_conflicts(allergy: object, medication: str, match: str, risk: str) -> None:
    result = check([Medication(medication)], [allergy])
    (recorded,) = result.allergies
    (hit,) = recorded["conflicts_with"]
    assert (hit["medication"], hit["match"], hit["risk"]) == (medication, match, risk)
    if isinstance(allergy, dict):
        assert recorded["medication"] == allergy["substance"]
        assert (recorded["severity"], recorded["reaction"]) == ("severe", "Anaphylaxis")


@pytest.mark.parametrize(
    ("allergy", "medication"),
    [("Penicillin", "Azithromycin"), ("Latex", "Amoxicillin"), ("Sulfa", "Lisinopril")],
)
def test_allergies_that_do_not_apply(allergy: str, medication: str) -> None:
    (recorded,) = check([Medication(medication)], [allergy]).allergies
    assert recorded["conflicts_with"] == []


def test_every_entry_resolves_and_cites_its_sources() -> None:
    kb = knowledge()
    assert len(kb.interactions) >= 25
    for entry in kb.interactions:
        assert entry.references and all(len(r) > 20 for r in entry.references), entry.id
    for rule in kb.cross_reactivity:
        assert rule.references
    raw = json.loads(
        resources.files("hms.pharmacy").joinpath("data", "interactions.json").read_text()
    )
    onc = [e["id"] for e in raw["interactions"] if "ONC" in e["references"]]
    assert len(onc) >= 10
    readme = resources.files("hms.pharmacy").joinpath("data", "README.md").read_text()
    assert "Licence" in readme and "Phansalkar" in readme
