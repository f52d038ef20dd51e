"""Flags computed from reference ranges and critical limits: a table of cases, boundaries
included, and the non-numeric results a laboratory reports."""

from __future__ import annotations

import httpx
import pytest

from hms.laboratory import catalogue
from hms.laboratory.flags import flag, parse_range
from hms.runtime import Runtime
from tests.laboratory.support import components, enter, lab, one, place

GLUCOSE = catalogue.find("CMP").component("Glucose").range  # type: ignore[union-attr]
POTASSIUM = catalogue.find("BMP").component("K").range  # type: ignore[union-attr]
HBA1C = catalogue.find("HBA1C").component("HbA1c").range  # type: ignore[union-attr]
HDL = catalogue.find("LIP").component("HDL").range  # type: ignore[union-attr]
PROTEIN = catalogue.find("UA").component("Protein").range  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ("95", None),
        ("70", None),  # equal to the low limit: normal
        ("100", None),  # equal to the high limit: normal
        ("69.9", "L"),
        ("100.1", "H"),
        ("40", "L"),  # equal to the critical limit: abnormal, not critical
        ("39.9", "LL"),
        ("500", "H"),
        ("500.5", "HH"),
        ("<30", "LL"),
        ("<40", "LL"),
        ("<=40", "L"),
        ("<70", "L"),
        ("<80", None),  # may be normal or low: no flag
        (">500", "HH"),
        (">=500", "H"),
        (">1000", "HH"),
        (">90", None),
        ("hemolyzed", None),
        ("", None),
        ("positive", None),  # a word for a numeric test is not judged
    ],
)
def test_glucose(result: str, expected: str | None) -> None:
    assert flag(result, GLUCOSE) == expected


@pytest.mark.parametrize(
    ("reference", "result", "expected"),
    [
        (POTASSIUM, "2.8", "L"),
        (POTASSIUM, "2.7", "LL"),
        (POTASSIUM, "6.2", "H"),
        (POTASSIUM, "6.3", "HH"),
        (POTASSIUM, "3.7", None),
        (HBA1C, "5.6", None),
        (HBA1C, "5.7", "H"),  # "<5.7" leaves 5.7 out of range
        (HBA1C, "8.1", "H"),
        (HDL, "40", None),
        (HDL, "39", "L"),
        (PROTEIN, "negative", None),
        (PROTEIN, "Negative", None),
        (PROTEIN, "positive", "A"),
        (PROTEIN, "trace", "A"),
        (PROTEIN, "see comment", None),
        (parse_range("0.00-0.04"), "<0.01", None),
        (parse_range("0.00-0.04"), ">0.04", "H"),
        (parse_range("negative/trace"), "trace", None),
        (parse_range("not a range"), "5", None),
        (None, "5", None),
    ],
)
def test_other_ranges(reference: object, result: str, expected: str | None) -> None:
    assert flag(result, reference) == expected  # type: ignore[arg-type]


def test_the_catalogue_holds_the_documented_components() -> None:
    for code in ("CMP", "BMP", "CBC", "LIP", "HBA1C", "TSH", "UA", "PTINR"):
        test = catalogue.find(code)
        assert test is not None and test.components, code
        assert all(c.loinc for c in test.components), code
    cmp, cbc = catalogue.find("CMP"), catalogue.find("CBC")
    assert cmp is not None and cbc is not None
    seen = {(c.name, c.unit, c.reference_range) for c in (*cmp.components, *cbc.components)}
    assert {
        ("Glucose", "mg/dL", "70-100"),
        ("BUN", "mg/dL", "7-20"),
        ("Creatinine", "mg/dL", "0.6-1.2"),
        ("WBC", "K/uL", "4.0-11.0"),
        ("RBC", "M/uL", "4.2-5.4"),
        ("Hemoglobin", "g/dL", "13.5-17.5"),
    } <= seen
    assert catalogue.find("pt/inr") is catalogue.find("PTINR")
    notice = (catalogue.DATA.parent / "README.md").read_text()
    assert "This material contains content from LOINC (http://loinc.org)." in notice


async def test_flags_through_the_api(client: httpx.AsyncClient, runtime: Runtime) -> None:
    setup = await lab(client, runtime)
    order = await place(client, setup, ["BMP", "UA", "TSH"])
    body = one("BMP", ("Glucose", "520"), ("Potassium", "2.5"), ("Sodium", "140"))
    body["results"] += one("UA", ("Protein", "positive"), ("Nitrite", "negative"))["results"]
    # Not in the catalogue: the range sent decides; the sent flag-free text is kept.
    body["results"] += one("TSH", ("TSH", "7.5"), ("Free T4", "0.5"))["results"]
    body["results"][2]["components"][1] |= {"unit": "ng/dL", "reference_range": "0.8-1.8"}
    got = await enter(client, setup, order, body)
    bmp, ua, tsh = components(got, "BMP"), components(got, "UA"), components(got, "TSH")
    assert [bmp[n]["flag"] for n in ("Glucose", "Potassium", "Sodium")] == ["HH", "LL", None]
    assert bmp["Potassium"]["unit"] == "mmol/L" and bmp["Potassium"]["reference_range"] == "3.7-5.2"
    assert bmp["Glucose"]["loinc_code"] == "2345-7"
    assert (ua["Protein"]["flag"], ua["Nitrite"]["flag"]) == ("A", None)
    assert (tsh["TSH"]["flag"], tsh["Free T4"]["flag"]) == ("H", "L")
    assert tsh["Free T4"]["loinc_code"] is None

    # A unit other than the catalogue's: its range does not apply, the one sent does.
    other = await place(client, setup, ["BMP"])
    body = one("BMP", ("Glucose", "5.5"))
    body["results"][0]["components"][0] |= {"unit": "mmol/L", "reference_range": "3.9-5.6"}
    glucose = components(await enter(client, setup, other, body), "BMP")["Glucose"]
    assert (glucose["flag"], glucose["reference_range"]) == (None, "3.9-5.6")


async def test_a_sent_flag_is_refused_not_copied(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    setup = await lab(client, runtime)
    order = await place(client, setup, ["BMP"])
    body = one("BMP", ("Glucose", "95"))
    body["results"][0]["components"][0]["flag"] = "HH"
    response = await client.post(
        f"/api/v1/laboratory/orders/{order['id']}/results", json=body, headers=setup.tech.headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "results.0.components.0.flag"
