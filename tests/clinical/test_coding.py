"""ICD-10-CM checks answer exactly as the `simple-icd-10-cm` package whose data they read: every
code of its code list and every heading, written with or without the dot, in lower case, with
spaces around, and inputs that are no code at all. The server never imports the package."""

from __future__ import annotations

import importlib.resources
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

from hms.clinical import coding


@pytest.fixture(scope="module")
def package() -> ModuleType:
    # The reference costs seconds and some 180 MB, so only this module imports it.
    import simple_icd_10_cm

    return simple_icd_10_cm


@pytest.fixture(scope="module")
def names(package: ModuleType) -> set[str]:
    return set(package.get_all_codes())


def expected_normalize(package: ModuleType, names: set[str], code: str) -> str | None:
    """What `normalize` answered when it called the package."""
    candidate = code.strip().upper()
    if not candidate or not package.is_valid_item(candidate):
        return None
    if not package.is_category_or_subcategory(candidate):
        return None
    # The package's `add_dot` scans its list of 98,000 names on each new code; it answers the
    # name itself, dotted when that is one (checked against `add_dot` on a sample below).
    dotted = f"{candidate[:3]}.{candidate[3:]}"
    if len(candidate) >= 4 and candidate[3] != "." and dotted in names:
        return dotted
    return candidate


def expected_describe(package: ModuleType, code: str | None) -> str | None:
    if not code or not package.is_valid_item(code):
        return None
    return str(package.get_description(code))


NOT_CODES = [
    "",
    " ",
    "\t\n",
    ".",
    "A",
    "A0",
    "A00.",
    "A00..0",
    "A.000",
    "A00 0",
    "A00-A0",
    "A00-A099",
    "23",
    "0",
    "XYZ",
    "ZZZ",
    "X99.999",
    "G44.19999",
    "S00.00X",
    "S00.00XZ",
    "S0000XZ",
    "S00.0XA",
    "S00.00XAA",
    "C44.1021A",
    "A00\u00a0",
    "ÄÖÜ",
    "G44.1\x00",
]


def variants(code: str) -> Iterator[str]:
    yield code
    yield code.lower()
    yield f" \t{code}\n"
    yield code + "0"
    yield code[:-1]


def test_every_code_and_heading_answers_as_the_package_does(
    package: ModuleType, names: set[str]
) -> None:
    code_list = importlib.resources.files(package) / "data"
    listed = [
        line.split(" ")[0]
        for item in code_list.iterdir()
        if item.name.startswith("code-list-")
        for line in item.read_text(encoding="utf-8").splitlines()
    ]
    assert len(listed) > 90_000
    inputs = {*listed, *names, *package.get_all_codes(with_dots=False), *NOT_CODES}
    texts = {text for code in inputs for text in variants(code)}
    assert len(texts) > 500_000
    mismatches = []
    for text in texts:
        answer = (coding.normalize(text), coding.describe(text))
        expected = (expected_normalize(package, names, text), expected_describe(package, text))
        if answer != expected:
            mismatches.append((text, answer, expected))
    assert mismatches == []
    assert coding.describe(None) is None


def test_dotted_forms_are_the_packages_own(package: ModuleType, names: set[str]) -> None:
    sample = sorted(package.get_all_codes(with_dots=False))[::400]
    for code in sample:
        if package.is_category_or_subcategory(code):
            assert coding.normalize(code) == package.add_dot(code), code


def test_codes_headings_and_seventh_characters() -> None:
    assert coding.normalize("g441") == "G44.1"
    assert coding.describe("G44.1") == "Vascular headache, not elsewhere classified"
    assert coding.normalize(" s0000xa ") == "S00.00XA"
    assert coding.describe("S00.00XA") == (
        "Unspecified superficial injury of scalp, initial encounter"
    )
    assert coding.normalize("T360X1A") == "T36.0X1A"
    assert coding.normalize("S00.00XZ") is None  # Z is no 7th character of S00
    for heading in ("1", "A00-A09"):
        assert coding.normalize(heading) is None
        assert coding.describe(heading)
    assert coding.describe("A00-A09") == "Intestinal infectious diseases (A00-A09)"


def test_the_server_checks_codes_without_importing_the_package() -> None:
    script = (
        "import sys, hms.app\n"
        "from hms.clinical import coding\n"
        "print(coding.normalize('G441'), 'simple_icd_10_cm' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.split() == ["G44.1", "False"]
